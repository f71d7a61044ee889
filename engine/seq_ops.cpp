#include "engine/seq_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/kernels.h"

namespace memsig {

namespace {
void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}
void check_lengths(const std::vector<int>& lengths, int B, int T, const char* op) {
  require((int)lengths.size() == B, std::string(op) + ": lengths must have one entry per sequence");
  for (int n : lengths) require(n >= 0 && n <= T, std::string(op) + ": a sequence length is outside 0..T");
}
}  // namespace

// y_r = x_{idx_r} ;  dx_{idx_r} += dy_r
Var gather_rows(const Var& x, const std::vector<int32_t>& idx) {
  const int64_t R = x->value.rows(), w = x->value.cols(), n = idx.size();
  for (int32_t i : idx) require(i < R, "gather_rows: index " + std::to_string(i) + " past " + std::to_string(R) + " rows");
  std::vector<int64_t> shape = x->value.shape;
  if (shape.empty()) shape = {1};
  shape[0] = n;
  Tensor Y(shape);
  for (int64_t r = 0; r < n; ++r)
    if (idx[r] >= 0) std::memcpy(Y.ptr() + r * w, x->value.ptr() + (int64_t)idx[r] * w, w * sizeof(float));
  return make_result(std::move(Y), {x}, [x, idx, w](Node& self) {
    float* dx = x->g().ptr();
    for (size_t r = 0; r < idx.size(); ++r)
      if (idx[r] >= 0) add_into(dx + (int64_t)idx[r] * w, self.grad.ptr() + r * w, w);
  });
}

std::vector<int32_t> reverse_within_lengths(int T, int B, const std::vector<int>& lengths) {
  check_lengths(lengths, B, T, "reverse_within_lengths");
  std::vector<int32_t> idx((size_t)T * B, -1);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < lengths[b]; ++t) idx[(size_t)t * B + b] = (lengths[b] - 1 - t) * B + b;
  return idx;
}

std::vector<int32_t> time_to_batch_major(int T, int B) {
  std::vector<int32_t> idx((size_t)T * B);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) idx[(size_t)b * T + t] = t * B + b;
  return idx;
}

std::vector<int32_t> batch_to_time_major(int T, int B) {
  std::vector<int32_t> idx((size_t)T * B);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) idx[(size_t)t * B + b] = b * T + t;
  return idx;
}

std::vector<int32_t> repeat_rows(int B, int T) {
  std::vector<int32_t> idx((size_t)B * T);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) idx[(size_t)b * T + t] = b;
  return idx;
}

// y_{t,b} = [x_{2t,b} | x_{2t+1,b}] ;  dx_{2t+s,b} += dy_{t,b}[sF : (s+1)F]
Var pair_frames(const Var& x, int T, int B) {
  const int64_t F = x->value.cols();
  require(x->value.rows() == (int64_t)T * B, "pair_frames: input " + x->value.shape_str() + " is not [T*B, F]");
  const int T2 = (T + 1) / 2;
  Tensor Y({(int64_t)T2 * B, 2 * F});
  for (int t = 0; t < T2; ++t)
    for (int s = 0; s < 2 && 2 * t + s < T; ++s)
      for (int b = 0; b < B; ++b)
        std::memcpy(Y.ptr() + ((int64_t)t * B + b) * 2 * F + s * F, x->value.ptr() + ((int64_t)(2 * t + s) * B + b) * F,
                    F * sizeof(float));
  return make_result(std::move(Y), {x}, [x, T, B, T2, F](Node& self) {
    float* dx = x->g().ptr();
    for (int t = 0; t < T2; ++t)
      for (int s = 0; s < 2 && 2 * t + s < T; ++s)
        for (int b = 0; b < B; ++b)
          add_into(dx + ((int64_t)(2 * t + s) * B + b) * F, self.grad.ptr() + ((int64_t)t * B + b) * 2 * F + s * F, F);
  });
}

std::vector<int> paired_lengths(const std::vector<int>& lengths) {
  std::vector<int> out(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) out[i] = (lengths[i] + 1) / 2;
  return out;
}

// a = softmax over t < len_b ;  ds = a (da - <a, da>)
Var masked_softmax(const Var& s, int B, int T, const std::vector<int>& lengths) {
  require(s->value.numel() == (int64_t)B * T, "masked_softmax: scores " + s->value.shape_str() + " are not B*T");
  check_lengths(lengths, B, T, "masked_softmax");
  Tensor A({(int64_t)B, (int64_t)T});
  for (int b = 0; b < B; ++b) {
    const float* z = s->value.ptr() + (int64_t)b * T;
    float* a = A.ptr() + (int64_t)b * T;
    int n = lengths[b];
    if (n == 0) continue;
    float mx = *std::max_element(z, z + n);
    double sum = 0;
    for (int t = 0; t < n; ++t) sum += (a[t] = std::exp(z[t] - mx));
    for (int t = 0; t < n; ++t) a[t] = (float)(a[t] / sum);
  }
  return make_result(std::move(A), {s}, [s, B, T, lengths](Node& self) {
    float* ds = s->g().ptr();
    for (int b = 0; b < B; ++b) {
      const float *a = self.value.ptr() + (int64_t)b * T, *da = self.grad.ptr() + (int64_t)b * T;
      double dot = 0;
      for (int t = 0; t < lengths[b]; ++t) dot += a[t] * da[t];
      for (int t = 0; t < lengths[b]; ++t) ds[(int64_t)b * T + t] += a[t] * (da[t] - (float)dot);
    }
  });
}

// f_{b,t,k} = sum_j F_{k,j} a_{b,t+j-c} ;  da_{b,s} += sum F_{k,j} df_{b,s-j+c,k} ;  dF_{k,j} += sum df_{b,t,k} a_{b,t+j-c}
Var conv_over_time(const Var& a, const Var& filters, int B, int T) {
  require(a->value.numel() == (int64_t)B * T, "conv_over_time: input " + a->value.shape_str() + " is not B*T");
  require(filters->value.shape.size() == 2 && filters->value.shape[1] % 2 == 1,
          "conv_over_time: filters " + filters->value.shape_str() + " are not [K, r] with r odd");
  const int K = (int)filters->value.shape[0], r = (int)filters->value.shape[1], c = (r - 1) / 2;
  Tensor f({(int64_t)B * T, (int64_t)K});
  const float* F = filters->value.ptr();
  for (int b = 0; b < B; ++b) {
    const float* ab = a->value.ptr() + (int64_t)b * T;
    for (int t = 0; t < T; ++t) {
      float* out = f.ptr() + ((int64_t)b * T + t) * K;
      for (int j = 0; j < r; ++j) {
        int s = t + j - c;
        if (s < 0 || s >= T || ab[s] == 0.0f) continue;
        for (int k = 0; k < K; ++k) out[k] += F[k * r + j] * ab[s];
      }
    }
  }
  return make_result(std::move(f), {a, filters}, [a, filters, B, T, K, r, c](Node& self) {
    const float* F = filters->value.ptr();
    for (int b = 0; b < B; ++b) {
      const float* ab = a->value.ptr() + (int64_t)b * T;
      float* da = a->requires_grad ? a->g().ptr() + (int64_t)b * T : nullptr;
      float* dF = filters->requires_grad ? filters->g().ptr() : nullptr;
      for (int t = 0; t < T; ++t) {
        const float* df = self.grad.ptr() + ((int64_t)b * T + t) * K;
        for (int j = 0; j < r; ++j) {
          int s = t + j - c;
          if (s < 0 || s >= T) continue;
          for (int k = 0; k < K; ++k) {
            if (da) da[s] += F[k * r + j] * df[k];
            if (dF) dF[k * r + j] += df[k] * ab[s];
          }
        }
      }
    }
  });
}

// c_i = a_i b_i ;  da_i = dc_i b_i^T ;  db_i = a_i^T dc_i
Var batched_matmul(const Var& a, const Var& b, int nb, int n, int k, int m) {
  require(a->value.numel() == (int64_t)nb * n * k && b->value.numel() == (int64_t)nb * k * m,
          "batched_matmul: shapes " + a->value.shape_str() + " x " + b->value.shape_str() + " are not [nb*n,k] x [nb*k,m]");
  Tensor C({(int64_t)nb * n, (int64_t)m});
  for (int i = 0; i < nb; ++i)
    gemm(false, false, n, m, k, 1.0f, a->value.ptr() + (int64_t)i * n * k, b->value.ptr() + (int64_t)i * k * m, 0.0f,
         C.ptr() + (int64_t)i * n * m);
  return make_result(std::move(C), {a, b}, [a, b, nb, n, k, m](Node& self) {
    for (int i = 0; i < nb; ++i) {
      const float* dc = self.grad.ptr() + (int64_t)i * n * m;
      if (a->requires_grad)
        gemm(false, true, n, k, m, 1.0f, dc, b->value.ptr() + (int64_t)i * k * m, 1.0f, a->g().ptr() + (int64_t)i * n * k);
      if (b->requires_grad)
        gemm(true, false, k, m, n, 1.0f, a->value.ptr() + (int64_t)i * n * k, dc, 1.0f, b->g().ptr() + (int64_t)i * k * m);
    }
  });
}

}  // namespace memsig
