// rnn_cpu.cpp — LSTM and GRU forward/backward on the CPU: OpenBLAS GEMMs for the matrix
// products and fused, vectorised gate loops (one pass over [B,H] per step), split over the
// batch rows between OpenMP threads. No allocation happens inside the time loop.
// What backward needs (gate activations, the GRU's W_hn h + b_hn) stays here, in CpuSaved.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <stdexcept>

#include "engine/gemm_packed.h"
#include "engine/kernels.h"
#include "engine/rnn.h"

namespace memsig {

namespace {

constexpr int kParallelMinWork = 8192;  // B*H below which the gate loops stay on one thread

// The CPU backend's saved state: gate activations [T*B, G*H] (LSTM i,f,g,o; GRU r,z,n) and,
// for the GRU, W_hn h + b_hn [T*B, H] (the reset gate multiplies it).
struct CpuSaved : RnnSaved {
  std::vector<float> gates;
  std::vector<float> hn;
};

// The recurrent product of every step multiplies the same W_hh [G*H, H]:
//   forward   out[B, G*H] (+)= h[B, H] W_hh^T        backward  out[B, H] (+)= d[B, G*H] W_hh
// so W_hh is packed once per layer call for our own GEMM kernels (engine/gemm_packed.h) rather
// than re-packed by OpenBLAS at every step. MEMSIG_OPENBLAS=1 switches back to OpenBLAS.
// Packing W_hh costs about one product's time, so it pays only over several steps; a sequence
// of a step or two (sampling feeds one symbol at a time) goes to OpenBLAS.
constexpr int kMinStepsToPack = 4;
bool use_packed_gemm(int T) { return !use_openblas() && T >= kMinStepsToPack; }

class RecurrentProduct {
 public:
  // transposed: out = in W^T (forward, in [B,H]); else out = in W (backward, in [B,G*H]).
  // A null w_hh makes an unused product (the caller fuses its own).
  RecurrentProduct(const float* w_hh, int G, int H, int T, bool transposed)
      : w_(w_hh), G_(G), H_(H), transposed_(transposed), packed_now_(w_hh && use_packed_gemm(T)) {
    if (packed_now_) packed_ = pack_b(w_hh, transposed ? G : H, transposed ? H : G, transposed);
  }
  void operator()(int B, const float* in, float beta, float* out) const {
    if (!packed_now_) {
      if (transposed_) gemm(false, true, B, G_, H_, 1.0f, in, w_, beta, out);
      else gemm(false, false, B, H_, G_, 1.0f, in, w_, beta, out);
      return;
    }
    gemm_packed(B, in, transposed_ ? H_ : G_, packed_, beta, out, transposed_ ? G_ : H_);
  }

 private:
  const float* w_;
  int G_, H_;
  bool transposed_;
  bool packed_now_;
  PackedB packed_;
};

// Adds the conditioning input u [n, G] (when there is one) to the gate pre-activations.
void add_cond(float* gates, const float* cond, int64_t n) {
  if (cond) add_into(gates, cond, n);
}

// Sum over rows of dG [n, G] into db [G].
void column_sums_into(float* db, const float* dG, int64_t n, int G) {
  for (int64_t r = 0; r < n; ++r) add_into(db, dG + r * G, G);
}

// ---------------------------------------------------------------------------------------------
// LSTM
//   pre = x W_ih^T + b_ih + h W_hh^T + b_hh   (rows i, f, g, o)
//   i = s(pre_i)  f = s(pre_f)  g = tanh(pre_g)  o = s(pre_o)
//   c_t = f c_{t-1} + i g      h_t = o tanh(c_t)
// ---------------------------------------------------------------------------------------------
//   steps past a sequence's length hold the state: c_t = c_{t-1}, h_t = h_{t-1}
// The LSTM cell for units [u0, u0 + n) of sequence b, once its pre-activations g (rows i, f, g, o
// of length H each) hold x W_ih^T + h W_hh^T: adds the biases, applies the gate functions in
// place, and writes c and h. Whole rows (u0 = 0, n = H) or a fused GEMM's blocks call it.
inline void lstm_cell_units(float* __restrict g, const float* __restrict bias, const float* __restrict cp,
                            float* __restrict cn, float* __restrict hn, int H, int u0, int n) {
  float *i = g + u0, *f = g + H + u0, *gg = g + 2 * H + u0, *o = g + 3 * H + u0;
  for (int k = 0; k < 4; ++k) add_into(g + k * H + u0, bias + k * H + u0, n);
  sigmoid_inplace(i, n);
  sigmoid_inplace(f, n);
  tanh_inplace(gg, n);
  sigmoid_inplace(o, n);
  for (int j = 0; j < n; ++j) cn[u0 + j] = f[j] * cp[u0 + j] + i[j] * gg[j];
  tanh_into(cn + u0, hn + u0, n);
  for (int j = 0; j < n; ++j) hn[u0 + j] *= o[j];
}

void lstm_forward(const RnnWeights& w, const RnnSequence& seq, RnnStates& tp, CpuSaved& sv) {
  const int T = seq.T, B = seq.B, H = w.hidden, G = 4 * H;
  float* gates = sv.gates.data();
  gemm(false, true, T * B, G, w.in, 1.0f, seq.x, w.w_ih, 0.0f, gates);  // all input projections at once
  add_cond(gates, seq.cond, (int64_t)T * B * G);
  std::vector<float> bias_v(G);
  for (int j = 0; j < G; ++j) bias_v[j] = w.b_ih[j] + w.b_hh[j];
  const float* bias = bias_v.data();
  // Fused: W_hh packed with its 4 gate blocks as column groups, so each finished GEMM block holds
  // the i, f, g, o pre-activations of the same units, and the cell runs on it while it is in cache
  // (one parallel region per step instead of two).
  const bool fused = use_packed_gemm(T);
  PackedB packed;
  if (fused) packed = pack_b(w.w_hh, G, H, /*transB=*/true, /*groups=*/4);
  const RecurrentProduct hW(fused ? nullptr : w.w_hh, G, H, T, true);
  for (int t = 0; t < T; ++t) {
    float* gt = gates + (size_t)t * B * G;
    const float* h_prev = tp.h.data() + (size_t)t * B * H;
    const float* c_prev = tp.c.data() + (size_t)t * B * H;
    float* h_next = tp.h.data() + (size_t)(t + 1) * B * H;
    float* c_next = tp.c.data() + (size_t)(t + 1) * B * H;
    auto cell = [&](int b, int u0, int n) {
      const size_t o = (size_t)b * H;
      if (seq.active(t, b)) {
        lstm_cell_units(gt + (size_t)b * G, bias, c_prev + o, c_next + o, h_next + o, H, u0, n);
      } else {  // past the end: hold the state
        std::copy_n(c_prev + o + u0, n, c_next + o + u0);
        std::copy_n(h_prev + o + u0, n, h_next + o + u0);
      }
    };
    if (fused) {  // gates += h_{t-1} W_hh^T, then the cell, block by block
      gemm_packed(B, h_prev, H, packed, 1.0f, gt, G, [&](int b0, int rows, int u0, int n) {
        for (int b = b0; b < b0 + rows; ++b) cell(b, u0, n);
      });
      continue;
    }
    hW(B, h_prev, 1.0f, gt);  // += h_{t-1} W_hh^T
#pragma omp parallel for if (B * H >= kParallelMinWork)
    for (int b = 0; b < B; ++b) cell(b, 0, H);
  }
}

//   dc_t  = dh_t o (1 - tanh^2 c_t) + dc_{t+1} f_{t+1}
//   do = dh_t tanh c_t   di = dc_t g   dg = dc_t i   df = dc_t c_{t-1}
//   dpre = (di i(1-i), df f(1-f), dg (1-g^2), do o(1-o))
//   dh_{t-1} += dpre W_hh        dW_ih = sum_t dpre^T x_t   dW_hh = sum_t dpre^T h_{t-1}
//   a held step (past the length) passes dh and dc through unchanged: dpre = 0
void lstm_backward(const RnnWeights& w, const RnnSequence& seq, const RnnStates& tp, const CpuSaved& sv,
                   const float* dh_out, float* dx, float* dcond, RnnGrads& gr) {
  const int T = tp.T, B = tp.B, H = tp.H, G = 4 * H;
  std::vector<float> dpre((size_t)T * B * G);
  std::vector<float> dh_next((size_t)B * H, 0.0f), dc_next((size_t)B * H, 0.0f), tanh_c((size_t)B * H);
  std::vector<float> dh_held(seq.lengths ? (size_t)B * H : 0);
  const RecurrentProduct dW(w.w_hh, G, H, T, false);
  for (int t = T - 1; t >= 0; --t) {
    const float* gt = sv.gates.data() + (size_t)t * B * G;
    const float* c_prev = tp.c.data() + (size_t)t * B * H;
    const float* c_cur = tp.c.data() + (size_t)(t + 1) * B * H;
    const float* dht = dh_out + (size_t)t * B * H;
    float* dpt = dpre.data() + (size_t)t * B * G;
#pragma omp parallel for if (B * H >= kParallelMinWork)
    for (int b = 0; b < B; ++b) {
      const float* __restrict ig = gt + (size_t)b * G;
      const float *__restrict fg = ig + H, *__restrict gg = ig + 2 * H, *__restrict og = ig + 3 * H;
      const float* __restrict cp = c_prev + (size_t)b * H;
      float* __restrict tc = tanh_c.data() + (size_t)b * H;
      float* __restrict dcn = dc_next.data() + (size_t)b * H;
      const float* __restrict dhn = dh_next.data() + (size_t)b * H;
      const float* __restrict dho = dht + (size_t)b * H;
      float* __restrict di = dpt + (size_t)b * G;
      float *__restrict df = di + H, *__restrict dg = di + 2 * H, *__restrict dout = di + 3 * H;
      if (!seq.active(t, b)) {  // held: dc passes as it is (dc_next unchanged), dh is carried below
        std::fill(di, di + G, 0.0f);
        std::copy(dhn, dhn + H, dh_held.data() + (size_t)b * H);
        continue;
      }
      tanh_into(c_cur + (size_t)b * H, tc, H);
#pragma omp simd
      for (int j = 0; j < H; ++j) {
        float dh = dho[j] + dhn[j];
        float i = ig[j], f = fg[j], g = gg[j], o = og[j];
        float dc = dh * o * (1.0f - tc[j] * tc[j]) + dcn[j];
        dout[j] = dh * tc[j] * o * (1.0f - o);
        di[j] = dc * g * i * (1.0f - i);
        df[j] = dc * cp[j] * f * (1.0f - f);
        dg[j] = dc * i * (1.0f - g * g);
        dcn[j] = dc * f;
      }
    }
    if (t > 0) {
      dW(B, dpt, 0.0f, dh_next.data());  // dh_{t-1} = dpre W_hh
      for (int b = 0; b < B; ++b)  // held rows: dh_{t-1} = dh_t (their dpre row is 0)
        if (!seq.active(t, b)) std::copy_n(dh_held.data() + (size_t)b * H, H, dh_next.data() + (size_t)b * H);
    }
  }
  const int N = T * B;
  gemm(true, false, G, w.in, N, 1.0f, dpre.data(), seq.x, 1.0f, gr.w_ih);
  gemm(true, false, G, H, N, 1.0f, dpre.data(), tp.h.data(), 1.0f, gr.w_hh);  // h rows 0..T-1 = h_{t-1}
  column_sums_into(gr.b_ih, dpre.data(), N, G);
  column_sums_into(gr.b_hh, dpre.data(), N, G);
  if (dx) gemm(false, false, N, w.in, G, 1.0f, dpre.data(), w.w_ih, 0.0f, dx);
  if (dcond) std::copy(dpre.begin(), dpre.end(), dcond);  // u joins the pre-activations: du = dpre
}

// ---------------------------------------------------------------------------------------------
// GRU
//   xr, xz, xn = x W_ih^T + b_ih          hr, hz, hn = h W_hh^T + b_hh
//   r = s(xr + hr)   z = s(xz + hz)   n = tanh(xn + r hn)   h_t = (1 - z) n + z h_{t-1}
//   (a conditioning input u joins xr, xz, xn; steps past a sequence's length hold h_t = h_{t-1})
// ---------------------------------------------------------------------------------------------
// The GRU cell for units [u0, u0 + n) of sequence b: g holds the input side (x W_ih^T + b_ih, rows
// r, z, n) and hg the hidden side h W_hh^T (without b_hh, added here); writes the activations into
// g, W_hn h + b_hn into hn_out (backward needs it) and the new state into ho.
inline void gru_cell_units(float* __restrict g, const float* __restrict hg, const float* __restrict b_hh,
                           const float* __restrict hp, float* __restrict hn_out, float* __restrict ho, int H, int u0, int n) {
  float *r = g + u0, *z = g + H + u0, *nn = g + 2 * H + u0;
  for (int j = 0; j < n; ++j) {
    r[j] += hg[u0 + j] + b_hh[u0 + j];
    z[j] += hg[H + u0 + j] + b_hh[H + u0 + j];
  }
  sigmoid_inplace(r, n);
  sigmoid_inplace(z, n);
  for (int j = 0; j < n; ++j) {
    hn_out[u0 + j] = hg[2 * H + u0 + j] + b_hh[2 * H + u0 + j];
    nn[j] += r[j] * hn_out[u0 + j];
  }
  tanh_inplace(nn, n);
  for (int j = 0; j < n; ++j) ho[u0 + j] = (1.0f - z[j]) * nn[j] + z[j] * hp[u0 + j];
}

void gru_forward(const RnnWeights& w, const RnnSequence& seq, RnnStates& tp, CpuSaved& sv) {
  const int T = seq.T, B = seq.B, H = w.hidden, G = 3 * H;
  float* gates = sv.gates.data();
  for (int64_t r = 0; r < (int64_t)T * B; ++r) std::memcpy(gates + r * G, w.b_ih, G * sizeof(float));
  gemm(false, true, T * B, G, w.in, 1.0f, seq.x, w.w_ih, 1.0f, gates);  // all input projections at once
  add_cond(gates, seq.cond, (int64_t)T * B * G);
  // Fused as for the LSTM: W_hh's r, z, n blocks packed as column groups.
  const bool fused = use_packed_gemm(T);
  PackedB packed;
  if (fused) packed = pack_b(w.w_hh, G, H, /*transB=*/true, /*groups=*/3);
  const RecurrentProduct hW(fused ? nullptr : w.w_hh, G, H, T, true);
  std::vector<float> hg((size_t)B * G);
  for (int t = 0; t < T; ++t) {
    float* gt = gates + (size_t)t * B * G;
    const float* h_prev = tp.h.data() + (size_t)t * B * H;
    float* h_next = tp.h.data() + (size_t)(t + 1) * B * H;
    float* hn_t = sv.hn.data() + (size_t)t * B * H;
    auto cell = [&](int b, int u0, int n) {
      const size_t o = (size_t)b * H;
      gru_cell_units(gt + (size_t)b * G, hg.data() + (size_t)b * G, w.b_hh, h_prev + o, hn_t + o, h_next + o, H, u0, n);
      if (!seq.active(t, b)) std::copy_n(h_prev + o + u0, n, h_next + o + u0);  // past the end: hold the state
    };
    if (fused) {  // hg = h_{t-1} W_hh^T, then the cell, block by block
      gemm_packed(B, h_prev, H, packed, 0.0f, hg.data(), G, [&](int b0, int rows, int u0, int n) {
        for (int b = b0; b < b0 + rows; ++b) cell(b, u0, n);
      });
      continue;
    }
    hW(B, h_prev, 0.0f, hg.data());  // h_{t-1} W_hh^T
#pragma omp parallel for if (B * H >= kParallelMinWork)
    for (int b = 0; b < B; ++b) cell(b, 0, H);
  }
}

//   dh = dh_out_t + dh_next
//   dn = dh (1 - z)   dz = dh (h_{t-1} - n)   dpre_n = dn (1 - n^2)
//   dr = dpre_n hn    dpre_r = dr r (1 - r)   dpre_z = dz z (1 - z)
//   input side  dXg = (dpre_r, dpre_z, dpre_n)
//   hidden side dHg = (dpre_r, dpre_z, dpre_n r)
//   dh_{t-1} = dh z + dHg W_hh
//   a held step (past the length) passes dh through unchanged: dXg = dHg = 0
void gru_backward(const RnnWeights& w, const RnnSequence& seq, const RnnStates& tp, const CpuSaved& sv,
                  const float* dh_out, float* dx, float* dcond, RnnGrads& gr) {
  const int T = tp.T, B = tp.B, H = tp.H, G = 3 * H;
  std::vector<float> dxg((size_t)T * B * G), dhg((size_t)T * B * G);
  std::vector<float> dh_next((size_t)B * H, 0.0f);
  const RecurrentProduct dW(w.w_hh, G, H, T, false);
  for (int t = T - 1; t >= 0; --t) {
    const float* gt = sv.gates.data() + (size_t)t * B * G;
    const float* h_prev = tp.h.data() + (size_t)t * B * H;
    const float* hn_t = sv.hn.data() + (size_t)t * B * H;
    const float* dht = dh_out + (size_t)t * B * H;
    float* dx_t = dxg.data() + (size_t)t * B * G;
    float* dh_t = dhg.data() + (size_t)t * B * G;
#pragma omp parallel for if (B * H >= kParallelMinWork)
    for (int b = 0; b < B; ++b) {
      const float* __restrict rg = gt + (size_t)b * G;
      const float *__restrict zg = rg + H, *__restrict ng = rg + 2 * H;
      const float* __restrict hp = h_prev + (size_t)b * H;
      const float* __restrict hnb = hn_t + (size_t)b * H;
      const float* __restrict dho = dht + (size_t)b * H;
      float* __restrict dhn = dh_next.data() + (size_t)b * H;  // in: dL/dh_t from t+1; out: direct part of dh_{t-1}
      float* __restrict xr = dx_t + (size_t)b * G;
      float *__restrict xz = xr + H, *__restrict xn = xr + 2 * H;
      float* __restrict hr = dh_t + (size_t)b * G;
      float *__restrict hz = hr + H, *__restrict hnn = hr + 2 * H;
      if (!seq.active(t, b)) {  // held: dh_{t-1} = dh_t, which dhn already holds
        std::fill(xr, xr + G, 0.0f);
        std::fill(hr, hr + G, 0.0f);
        continue;
      }
#pragma omp simd
      for (int j = 0; j < H; ++j) {
        float dh = dho[j] + dhn[j];
        float r = rg[j], z = zg[j], n = ng[j];
        float dn = dh * (1.0f - z) * (1.0f - n * n);
        float dz = dh * (hp[j] - n) * z * (1.0f - z);
        float dr = dn * hnb[j] * r * (1.0f - r);
        xr[j] = dr; xz[j] = dz; xn[j] = dn;
        hr[j] = dr; hz[j] = dz; hnn[j] = dn * r;
        dhn[j] = dh * z;
      }
    }
    if (t > 0) dW(B, dh_t, 1.0f, dh_next.data());  // dh_{t-1} += dHg W_hh
  }
  const int N = T * B;
  gemm(true, false, G, w.in, N, 1.0f, dxg.data(), seq.x, 1.0f, gr.w_ih);
  gemm(true, false, G, H, N, 1.0f, dhg.data(), tp.h.data(), 1.0f, gr.w_hh);
  column_sums_into(gr.b_ih, dxg.data(), N, G);
  column_sums_into(gr.b_hh, dhg.data(), N, G);
  if (dx) gemm(false, false, N, w.in, G, 1.0f, dxg.data(), w.w_ih, 0.0f, dx);
  if (dcond) std::copy(dxg.begin(), dxg.end(), dcond);  // u joins the input side: du = dXg
}

class CpuBackend : public RnnBackend {
 public:
  std::string name() const override { return "cpu"; }

  std::unique_ptr<RnnSaved> forward(Cell cell, const RnnWeights& w, const RnnSequence& seq, RnnStates& tp) override {
    const int T = seq.T, B = seq.B, H = w.hidden;
    tp.cell = cell; tp.T = T; tp.B = B; tp.H = H;
    auto sv = std::make_unique<CpuSaved>();
    sv->gates.resize((size_t)T * B * gate_count(cell) * H);
    tp.h.assign((size_t)(T + 1) * B * H, 0.0f);
    if (seq.h0) std::copy(seq.h0, seq.h0 + (size_t)B * H, tp.h.begin());
    switch (cell) {
      case Cell::LSTM:
        tp.c.assign((size_t)(T + 1) * B * H, 0.0f);
        if (seq.c0) std::copy(seq.c0, seq.c0 + (size_t)B * H, tp.c.begin());
        lstm_forward(w, seq, tp, *sv);
        return sv;
      case Cell::GRU:
        sv->hn.resize((size_t)T * B * H);
        gru_forward(w, seq, tp, *sv);
        return sv;
    }
    throw std::invalid_argument(std::string("cpu backend: no forward for cell ") + cell_name(cell));
  }

  void backward(Cell cell, const RnnWeights& w, const RnnSequence& seq, const RnnStates& tp, const RnnSaved& saved,
                const float* dh, float* dx, float* dcond, RnnGrads& g) override {
    const auto& sv = dynamic_cast<const CpuSaved&>(saved);
    switch (cell) {
      case Cell::LSTM: return lstm_backward(w, seq, tp, sv, dh, dx, dcond, g);
      case Cell::GRU: return gru_backward(w, seq, tp, sv, dh, dx, dcond, g);
    }
    throw std::invalid_argument(std::string("cpu backend: no backward for cell ") + cell_name(cell));
  }
};

}  // namespace

RnnBackend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace memsig
