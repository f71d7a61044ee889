#include "engine/lstm_step.h"

#include <cstring>
#include <stdexcept>

#include "engine/kernels.h"

namespace memsig {

Var lstm_step(const Var& x, const Var& hc, const RnnParams& p) {
  const int B = x->value.rows(), in = x->value.cols(), H = p.w_hh->value.dim(1), G = 4 * H;
  if (p.w_ih->value.dim(0) != G || p.w_ih->value.dim(1) != in || hc->value.rows() != B || hc->value.cols() != 2 * H)
    throw std::invalid_argument("lstm_step: input " + x->value.shape_str() + " and state " + hc->value.shape_str() +
                                " do not match weights " + p.w_ih->value.shape_str() + ", " + p.w_hh->value.shape_str());
  // h, c of the previous step as contiguous [B, H] copies (the GEMM reads h with its own stride below).
  const float* hc0 = hc->value.ptr();
  auto gates = std::make_shared<Tensor>(std::vector<int64_t>{B, G});  // activated i, f, g, o
  float* z = gates->ptr();
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < G; ++j) z[(int64_t)b * G + j] = p.b_ih->value.data[j] + p.b_hh->value.data[j];
  gemm(false, true, B, G, in, 1.0f, x->value.ptr(), p.w_ih->value.ptr(), 1.0f, z);
  Tensor h0({B, H});
  for (int b = 0; b < B; ++b) std::memcpy(h0.ptr() + (int64_t)b * H, hc0 + (int64_t)b * 2 * H, H * sizeof(float));
  gemm(false, true, B, G, H, 1.0f, h0.ptr(), p.w_hh->value.ptr(), 1.0f, z);
  Tensor out({B, 2 * H});
  for (int b = 0; b < B; ++b) {
    float* zb = z + (int64_t)b * G;
    sigmoid_inplace(zb, 2 * H);
    tanh_inplace(zb + 2 * H, H);
    sigmoid_inplace(zb + 3 * H, H);
    const float* c0 = hc0 + (int64_t)b * 2 * H + H;
    float* hb = out.ptr() + (int64_t)b * 2 * H;
    float* cb = hb + H;
    for (int u = 0; u < H; ++u) cb[u] = zb[H + u] * c0[u] + zb[u] * zb[2 * H + u];
    tanh_into(cb, hb, H);
    for (int u = 0; u < H; ++u) hb[u] *= zb[3 * H + u];
  }
  auto h0s = std::make_shared<Tensor>(std::move(h0));
  return make_result(std::move(out), {x, hc, p.w_ih, p.w_hh, p.b_ih, p.b_hh},
                     [x, hc, p, gates, h0s, B, in, H, G](Node& self) {
    Tensor dz({B, G});
    Tensor dc_prev({B, H});
    for (int b = 0; b < B; ++b) {
      const float* a = gates->ptr() + (int64_t)b * G;
      const float *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
      const float* c1 = self.value.ptr() + (int64_t)b * 2 * H + H;
      const float* c0 = hc->value.ptr() + (int64_t)b * 2 * H + H;
      const float* dh1 = self.grad.ptr() + (int64_t)b * 2 * H;
      const float* dc1 = dh1 + H;
      float* d = dz.ptr() + (int64_t)b * G;
      for (int u = 0; u < H; ++u) {
        float tc = fast_tanh(c1[u]);
        float dc = dc1[u] + dh1[u] * o[u] * (1.0f - tc * tc);
        d[u] = dc * g[u] * i[u] * (1.0f - i[u]);
        d[H + u] = dc * c0[u] * f[u] * (1.0f - f[u]);
        d[2 * H + u] = dc * i[u] * (1.0f - g[u] * g[u]);
        d[3 * H + u] = dh1[u] * tc * o[u] * (1.0f - o[u]);
        dc_prev[(int64_t)b * H + u] = dc * f[u];
      }
    }
    if (x->requires_grad) gemm(false, false, B, in, G, 1.0f, dz.ptr(), p.w_ih->value.ptr(), 1.0f, x->g().ptr());
    if (hc->requires_grad) {
      Tensor dh({B, H});
      gemm(false, false, B, H, G, 1.0f, dz.ptr(), p.w_hh->value.ptr(), 0.0f, dh.ptr());
      float* dhc = hc->g().ptr();
      for (int b = 0; b < B; ++b) {
        add_into(dhc + (int64_t)b * 2 * H, dh.ptr() + (int64_t)b * H, H);
        add_into(dhc + (int64_t)b * 2 * H + H, dc_prev.ptr() + (int64_t)b * H, H);
      }
    }
    if (p.w_ih->requires_grad) gemm(true, false, G, in, B, 1.0f, dz.ptr(), x->value.ptr(), 1.0f, p.w_ih->g().ptr());
    if (p.w_hh->requires_grad) gemm(true, false, G, H, B, 1.0f, dz.ptr(), h0s->ptr(), 1.0f, p.w_hh->g().ptr());
    for (const Var& bias : {p.b_ih, p.b_hh})
      if (bias->requires_grad)
        for (int b = 0; b < B; ++b) add_into(bias->g().ptr(), dz.ptr() + (int64_t)b * G, G);
  });
}

}  // namespace memsig
