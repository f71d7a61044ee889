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
  // With a low-rank term (rnn.h): Ut = Uᵀ [K, G*H] and, per λ entry e, a^x_e = v_x,kᵀ x and
  // a^h_e = v_h,kᵀ h_{t-1} (engine/lowrank.h).
  std::vector<float> ut, ax, ah;
};

// The low-rank term of a layer call, when it has one: λ (else null) and V's layout.
struct LowRankView {
  const LambdaRows* lam = nullptr;
  int K = 0, in = 0, ldv = 0;
  const float* v_x = nullptr;  // V [K, in + H]: columns 0..in-1 act on x, the rest on h
  const float* v_h = nullptr;
  LowRankView(const RnnWeights& w, const RnnSequence& seq) {
    if (!w.u) return;
    lam = seq.lambda; K = w.rank; in = w.in; ldv = w.in + w.hidden;
    v_x = w.v; v_h = w.v + w.in;
  }
  explicit operator bool() const { return lam != nullptr; }
  // Forward setup: Ut, and a^x_e = v_x,kᵀ x_r for every row r at once (the input side).
  void prepare(const RnnWeights& w, int G, int64_t rows, const float* x, CpuSaved& sv) const {
    sv.ut = transposed(w.u, G, K);
    sv.ax.assign(lam->nnz(), 0.0f);
    sv.ah.assign(lam->nnz(), 0.0f);
#pragma omp parallel for schedule(dynamic, 64) if (lam->nnz() * (int64_t)in >= kParallelMinWork)
    for (int64_t r = 0; r < rows; ++r) lowrank_project(*lam, r, v_x, ldv, x + r * in, in, sv.ax.data());
  }
  // dU (+)= Σ_e λ_e (a_e + a2_e) dg_row(e)ᵀ in U's [G*H, K] layout, summed per basis in Ut's.
  void add_du(const EntriesByBasis& by, const float* a, const float* a2, const float* dg, int G, float* du) const {
    std::vector<float> dut((size_t)K * G, 0.0f);
    lowrank_basis_sums(*lam, by, a, a2, /*lambda_times=*/true, dg, G, G, dut.data(), G);
    for (int j = 0; j < G; ++j)
      for (int k = 0; k < K; ++k) du[(size_t)j * K + k] += dut[(size_t)k * G + j];
  }
  // dV_x (+)= Σ_e dax_e x_row(e)ᵀ and dV_h (+)= Σ_e dah_e h_{t-1}ᵀ; dx (+)= Σ_e dax_e v_x,k.
  void add_dv_dx(const EntriesByBasis& by, const float* dax, const float* dah, const float* x, const float* h_prev_rows,
                 int H, float* dv, float* dx) const {
    lowrank_basis_sums(*lam, by, dax, nullptr, false, x, in, in, dv, ldv);
    lowrank_basis_sums(*lam, by, dah, nullptr, false, h_prev_rows, H, H, dv + in, ldv);
    if (!dx) return;
#pragma omp parallel for schedule(dynamic, 64) if (lam->nnz() * (int64_t)in >= kParallelMinWork)
    for (int64_t r = 0; r < lam->rows(); ++r) lowrank_back_project(*lam, r, dax, v_x, ldv, in, dx + r * in);
  }
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
  const LowRankView lr(w, seq);
  if (lr) lr.prepare(w, G, (int64_t)T * B, seq.x, sv);
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
    if (lr) {  // pre += U (λ ⊙ (a^x + V_h h_{t-1})), before the W_hh product adds to it
#pragma omp parallel for if (B * H >= kParallelMinWork)
      for (int b = 0; b < B; ++b) {
        const int64_t r = (int64_t)t * B + b;
        lowrank_project(*lr.lam, r, lr.v_h, lr.ldv, h_prev + (size_t)b * H, H, sv.ah.data());
        lowrank_expand(*lr.lam, r, sv.ax.data(), sv.ah.data(), sv.ut.data(), G, gt + (size_t)b * G);
      }
    }
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
// With a low-rank term, pre += U m, m = λ ⊙ (V_x x + V_h h_{t-1}):
//   da = λ ⊙ Uᵀ dpre      dh_{t-1} += V_hᵀ da      dx += V_xᵀ da
//   dU += Σ_t dpre mᵀ     dV_x += Σ_t da xᵀ        dV_h += Σ_t da h_{t-1}ᵀ
void lstm_backward(const RnnWeights& w, const RnnSequence& seq, const RnnStates& tp, const CpuSaved& sv,
                   const float* dh_out, float* dx, float* dcond, RnnGrads& gr) {
  const int T = tp.T, B = tp.B, H = tp.H, G = 4 * H;
  std::vector<float> dpre((size_t)T * B * G);
  std::vector<float> dh_next((size_t)B * H, 0.0f), dc_next((size_t)B * H, 0.0f), tanh_c((size_t)B * H);
  std::vector<float> dh_held(seq.lengths ? (size_t)B * H : 0);
  const RecurrentProduct dW(w.w_hh, G, H, T, false);
  const LowRankView lr(w, seq);
  std::vector<float> da(lr ? lr.lam->nnz() : 0);
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
    if (lr) {  // da = λ ⊙ Uᵀ dpre; dh_{t-1} += V_hᵀ da (held rows have dpre = 0: nothing added)
#pragma omp parallel for if (B * H >= kParallelMinWork)
      for (int b = 0; b < B; ++b) {
        const int64_t r = (int64_t)t * B + b;
        lowrank_contract(*lr.lam, r, sv.ut.data(), G, dpt + (size_t)b * G, da.data());
        if (t > 0) lowrank_back_project(*lr.lam, r, da.data(), lr.v_h, lr.ldv, H, dh_next.data() + (size_t)b * H);
      }
    }
  }
  const int N = T * B;
  gemm(true, false, G, w.in, N, 1.0f, dpre.data(), seq.x, 1.0f, gr.w_ih);
  gemm(true, false, G, H, N, 1.0f, dpre.data(), tp.h.data(), 1.0f, gr.w_hh);  // h rows 0..T-1 = h_{t-1}
  column_sums_into(gr.b_ih, dpre.data(), N, G);
  column_sums_into(gr.b_hh, dpre.data(), N, G);
  if (dx) gemm(false, false, N, w.in, G, 1.0f, dpre.data(), w.w_ih, 0.0f, dx);
  if (dcond) std::copy(dpre.begin(), dpre.end(), dcond);  // u joins the pre-activations: du = dpre
  if (lr) {  // the input and hidden sides share dpre, so da^x = da^h = da
    const EntriesByBasis by = group_by_basis(*lr.lam);
    lr.add_du(by, sv.ax.data(), sv.ah.data(), dpre.data(), G, gr.u);
    lr.add_dv_dx(by, da.data(), da.data(), seq.x, tp.h.data(), H, gr.v, dx);
  }
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
  const LowRankView lr(w, seq);
  if (lr) {  // input side, every step at once: gates += U (λ ⊙ V_x x)
    lr.prepare(w, G, (int64_t)T * B, seq.x, sv);
#pragma omp parallel for schedule(dynamic, 64) if (lr.lam->nnz() * (int64_t)G >= kParallelMinWork)
    for (int64_t r = 0; r < (int64_t)T * B; ++r)
      lowrank_expand(*lr.lam, r, sv.ax.data(), nullptr, sv.ut.data(), G, gates + r * G);
  }
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
    if (lr) {  // hidden side: hg = U (λ ⊙ V_h h_{t-1}), to which the W_hh product then adds
#pragma omp parallel for if (B * H >= kParallelMinWork)
      for (int b = 0; b < B; ++b) {
        const int64_t r = (int64_t)t * B + b;
        float* hgb = hg.data() + (size_t)b * G;
        std::fill_n(hgb, G, 0.0f);
        lowrank_project(*lr.lam, r, lr.v_h, lr.ldv, h_prev + (size_t)b * H, H, sv.ah.data());
        lowrank_expand(*lr.lam, r, sv.ah.data(), nullptr, sv.ut.data(), G, hgb);
      }
    }
    const float beta = lr ? 1.0f : 0.0f;
    if (fused) {  // hg (+)= h_{t-1} W_hh^T, then the cell, block by block
      gemm_packed(B, h_prev, H, packed, beta, hg.data(), G, [&](int b0, int rows, int u0, int n) {
        for (int b = b0; b < b0 + rows; ++b) cell(b, u0, n);
      });
      continue;
    }
    hW(B, h_prev, beta, hg.data());  // (+)= h_{t-1} W_hh^T
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
// With a low-rank term (input side += U m^x, m^x = λ ⊙ V_x x; hidden side += U m^h, m^h = λ ⊙ V_h h_{t-1}):
//   da^x = λ ⊙ Uᵀ dXg     da^h = λ ⊙ Uᵀ dHg      dh_{t-1} += V_hᵀ da^h      dx += V_xᵀ da^x
//   dU += Σ_t (dXg m^xᵀ + dHg m^hᵀ)     dV_x += Σ_t da^x xᵀ      dV_h += Σ_t da^h h_{t-1}ᵀ
void gru_backward(const RnnWeights& w, const RnnSequence& seq, const RnnStates& tp, const CpuSaved& sv,
                  const float* dh_out, float* dx, float* dcond, RnnGrads& gr) {
  const int T = tp.T, B = tp.B, H = tp.H, G = 3 * H;
  std::vector<float> dxg((size_t)T * B * G), dhg((size_t)T * B * G);
  std::vector<float> dh_next((size_t)B * H, 0.0f);
  const RecurrentProduct dW(w.w_hh, G, H, T, false);
  const LowRankView lr(w, seq);
  std::vector<float> dax(lr ? lr.lam->nnz() : 0), dah(dax.size());
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
    if (lr) {  // da^h = λ ⊙ Uᵀ dHg; dh_{t-1} += V_hᵀ da^h
#pragma omp parallel for if (B * H >= kParallelMinWork)
      for (int b = 0; b < B; ++b) {
        const int64_t r = (int64_t)t * B + b;
        lowrank_contract(*lr.lam, r, sv.ut.data(), G, dh_t + (size_t)b * G, dah.data());
        if (t > 0) lowrank_back_project(*lr.lam, r, dah.data(), lr.v_h, lr.ldv, H, dh_next.data() + (size_t)b * H);
      }
    }
  }
  const int N = T * B;
  gemm(true, false, G, w.in, N, 1.0f, dxg.data(), seq.x, 1.0f, gr.w_ih);
  gemm(true, false, G, H, N, 1.0f, dhg.data(), tp.h.data(), 1.0f, gr.w_hh);
  column_sums_into(gr.b_ih, dxg.data(), N, G);
  column_sums_into(gr.b_hh, dhg.data(), N, G);
  if (dx) gemm(false, false, N, w.in, G, 1.0f, dxg.data(), w.w_ih, 0.0f, dx);
  if (dcond) std::copy(dxg.begin(), dxg.end(), dcond);  // u joins the input side: du = dXg
  if (lr) {  // input side, every step at once: da^x = λ ⊙ Uᵀ dXg
#pragma omp parallel for schedule(dynamic, 64) if (lr.lam->nnz() * (int64_t)G >= kParallelMinWork)
    for (int64_t r = 0; r < (int64_t)N; ++r)
      lowrank_contract(*lr.lam, r, sv.ut.data(), G, dxg.data() + r * G, dax.data());
    const EntriesByBasis by = group_by_basis(*lr.lam);
    lr.add_du(by, sv.ax.data(), nullptr, dxg.data(), G, gr.u);
    lr.add_du(by, sv.ah.data(), nullptr, dhg.data(), G, gr.u);
    lr.add_dv_dx(by, dax.data(), dah.data(), seq.x, tp.h.data(), H, gr.v, dx);
  }
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
