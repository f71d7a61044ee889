#include "engine/ops.h"

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

// b broadcasts over the rows of a when it has exactly a.cols() elements (a bias vector).
bool row_broadcast(const Tensor& a, const Tensor& b) {
  if (a.numel() == b.numel()) return false;
  require(b.numel() == a.cols(), "broadcast: cannot combine " + a.shape_str() + " and " + b.shape_str());
  return true;
}

constexpr int64_t kParallelMin = 1 << 15;  // elementwise loops shorter than this stay serial
constexpr int64_t kMaxVocabRow = 256;       // softmax backward works on rows in chunks of this

}  // namespace

// C = A B ;  dA = dC B^T ;  dB = A^T dC
Var matmul(const Var& a, const Var& b) {
  const Tensor &A = a->value, &B = b->value;
  require(A.shape.size() == 2 && B.shape.size() == 2 && A.dim(1) == B.dim(0),
          "matmul: shapes " + A.shape_str() + " x " + B.shape_str());
  int n = A.dim(0), k = A.dim(1), m = B.dim(1);
  Tensor C({n, m});
  gemm(false, false, n, m, k, 1.0f, A.ptr(), B.ptr(), 0.0f, C.ptr());
  return make_result(std::move(C), {a, b}, [a, b, n, k, m](Node& self) {
    const float* dC = self.grad.ptr();
    if (a->requires_grad) gemm(false, true, n, k, m, 1.0f, dC, b->value.ptr(), 1.0f, a->g().ptr());
    if (b->requires_grad) gemm(true, false, k, m, n, 1.0f, a->value.ptr(), dC, 1.0f, b->g().ptr());
  });
}

// y = x W^T + b ;  dx = dy W ;  dW = dy^T x ;  db = sum_rows dy
Var linear(const Var& x, const Var& W, const Var& b) {
  const Tensor &X = x->value, &Wt = W->value;
  require(Wt.shape.size() == 2 && X.cols() == Wt.dim(1),
          "linear: input " + X.shape_str() + " vs weight " + Wt.shape_str());
  int n = X.rows(), in = Wt.dim(1), out = Wt.dim(0);
  Tensor Y({n, out});
  if (b) {
    require(b->value.numel() == out, "linear: bias " + b->value.shape_str());
    for (int r = 0; r < n; ++r) std::memcpy(Y.ptr() + (int64_t)r * out, b->value.ptr(), out * sizeof(float));
  }
  gemm(false, true, n, out, in, 1.0f, X.ptr(), Wt.ptr(), b ? 1.0f : 0.0f, Y.ptr());
  std::vector<Var> parents{x, W};
  if (b) parents.push_back(b);
  return make_result(std::move(Y), parents, [x, W, b, n, in, out](Node& self) {
    const float* dY = self.grad.ptr();
    if (x->requires_grad) gemm(false, false, n, in, out, 1.0f, dY, W->value.ptr(), 1.0f, x->g().ptr());
    if (W->requires_grad) gemm(true, false, out, in, n, 1.0f, dY, x->value.ptr(), 1.0f, W->g().ptr());
    if (b && b->requires_grad) {
      float* db = b->g().ptr();
      for (int r = 0; r < n; ++r) add_into(db, dY + (int64_t)r * out, out);
    }
  });
}

// y = a + b ;  da = dy ;  db = dy (summed over rows when b was broadcast)
Var add(const Var& a, const Var& b) {
  bool bc = row_broadcast(a->value, b->value);
  int64_t n = a->value.numel(), m = b->value.numel();
  Tensor Y = a->value;
  for (int64_t i = 0; i < n; ++i) Y.data[i] += b->value.data[bc ? i % m : i];
  return make_result(std::move(Y), {a, b}, [a, b, n, m](Node& self) {
    const float* dY = self.grad.ptr();
    if (a->requires_grad) add_into(a->g().ptr(), dY, n);
    if (b->requires_grad) {
      float* db = b->g().ptr();
      for (int64_t i = 0; i < n; i += m) add_into(db, dY + i, m);
    }
  });
}

// y = a * b ;  da = dy * b ;  db = dy * a (summed over rows when b was broadcast)
Var mul(const Var& a, const Var& b) {
  bool bc = row_broadcast(a->value, b->value);
  int64_t n = a->value.numel(), m = b->value.numel();
  Tensor Y = a->value;
  for (int64_t i = 0; i < n; ++i) Y.data[i] *= b->value.data[bc ? i % m : i];
  return make_result(std::move(Y), {a, b}, [a, b, n, m, bc](Node& self) {
    const float* dY = self.grad.ptr();
    const float *A = a->value.ptr(), *B = b->value.ptr();
    if (a->requires_grad) {
      float* da = a->g().ptr();
      for (int64_t i = 0; i < n; ++i) da[i] += dY[i] * B[bc ? i % m : i];
    }
    if (b->requires_grad) {
      float* db = b->g().ptr();
      for (int64_t i = 0; i < n; ++i) db[bc ? i % m : i] += dY[i] * A[i];
    }
  });
}

// y = tanh(x) ;  dx = dy (1 - y^2)
Var tanh(const Var& x) {
  Tensor Y = x->value;
  int64_t n = Y.numel();
  float* y = Y.ptr();
  tanh_inplace(y, n);
  return make_result(std::move(Y), {x}, [x, n](Node& self) {
    const float *dy = self.grad.ptr(), *y = self.value.ptr();
    float* dx = x->g().ptr();
    for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
  });
}

// y = sigmoid(x) ;  dx = dy y (1 - y)
Var sigmoid(const Var& x) {
  Tensor Y = x->value;
  int64_t n = Y.numel();
  float* y = Y.ptr();
  sigmoid_inplace(y, n);
  return make_result(std::move(Y), {x}, [x, n](Node& self) {
    const float *dy = self.grad.ptr(), *y = self.value.ptr();
    float* dx = x->g().ptr();
    for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
  });
}

// y = max(x, 0) ;  dx = dy [x > 0]
Var relu(const Var& x) {
  Tensor Y = x->value;
  int64_t n = Y.numel();
  for (int64_t i = 0; i < n; ++i) Y.data[i] = Y.data[i] > 0.0f ? Y.data[i] : 0.0f;
  return make_result(std::move(Y), {x}, [x, n](Node& self) {
    const float *dy = self.grad.ptr(), *y = self.value.ptr();
    float* dx = x->g().ptr();
    for (int64_t i = 0; i < n; ++i) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
  });
}

// y = sum_i x_i ;  dx_i = dy
Var sum(const Var& x) {
  double s = 0.0;
  for (float v : x->value.data) s += v;
  return make_result(Tensor({1}, (float)s), {x}, [x](Node& self) {
    float dy = self.grad.data[0];
    for (auto& d : x->g().data) d += dy;
  });
}

// y_r = W[ids_r] ;  dW[ids_r] += dy_r
Var embedding(const Var& W, const std::vector<int32_t>& ids) {
  int64_t V = W->value.dim(0), E = W->value.cols(), n = ids.size();
  Tensor Y({n, E});
  for (int64_t r = 0; r < n; ++r) {
    require(ids[r] >= 0 && ids[r] < V, "embedding: id " + std::to_string(ids[r]) + " out of range");
    std::memcpy(Y.ptr() + r * E, W->value.ptr() + (int64_t)ids[r] * E, E * sizeof(float));
  }
  return make_result(std::move(Y), {W}, [W, ids, E](Node& self) {
    float* dW = W->g().ptr();
    for (size_t r = 0; r < ids.size(); ++r) add_into(dW + (int64_t)ids[r] * E, self.grad.ptr() + r * E, E);
  });
}

// y = [x_1 | x_2 | ...] along columns ;  dx_k = the k-th column block of dy
Var concat(const std::vector<Var>& xs) {
  require(!xs.empty(), "concat: no inputs");
  int64_t n = xs[0]->value.rows(), total = 0;
  std::vector<int64_t> widths;
  for (auto& x : xs) {
    require(x->value.rows() == n, "concat: row counts differ");
    widths.push_back(x->value.cols());
    total += widths.back();
  }
  Tensor Y({n, total});
  for (int64_t r = 0, off = 0; r < n; ++r, off = 0)
    for (size_t k = 0; k < xs.size(); off += widths[k], ++k)
      std::memcpy(Y.ptr() + r * total + off, xs[k]->value.ptr() + r * widths[k], widths[k] * sizeof(float));
  return make_result(std::move(Y), xs, [xs, widths, n, total](Node& self) {
    int64_t off = 0;
    for (size_t k = 0; k < xs.size(); off += widths[k], ++k) {
      if (!xs[k]->requires_grad) continue;
      float* dx = xs[k]->g().ptr();
      for (int64_t r = 0; r < n; ++r) add_into(dx + r * widths[k], self.grad.ptr() + r * total + off, widths[k]);
    }
  });
}

// The inverse of concat: column blocks of the given widths.
std::vector<Var> split(const Var& x, const std::vector<int64_t>& widths) {
  int64_t n = x->value.rows(), total = x->value.cols(), sumw = 0;
  for (int64_t w : widths) sumw += w;
  require(sumw == total, "split: widths do not add up to " + std::to_string(total));
  std::vector<Var> out;
  int64_t off = 0;
  for (int64_t w : widths) {
    Tensor Y({n, w});
    for (int64_t r = 0; r < n; ++r) std::memcpy(Y.ptr() + r * w, x->value.ptr() + r * total + off, w * sizeof(float));
    out.push_back(make_result(std::move(Y), {x}, [x, n, w, off, total](Node& self) {
      float* dx = x->g().ptr();
      for (int64_t r = 0; r < n; ++r) add_into(dx + r * total + off, self.grad.ptr() + r * w, w);
    }));
    off += w;
  }
  return out;
}

// y = x[begin : begin+count] ;  dx[begin : begin+count] += dy
Var slice_rows(const Var& x, int64_t begin, int64_t count) {
  int64_t w = x->value.cols();
  require(begin >= 0 && count >= 0 && begin + count <= x->value.rows(), "slice_rows: out of range");
  std::vector<int64_t> shape = x->value.shape;
  shape[0] = count;
  Tensor Y(shape);
  std::memcpy(Y.ptr(), x->value.ptr() + begin * w, count * w * sizeof(float));
  return make_result(std::move(Y), {x}, [x, begin, count, w](Node& self) {
    add_into(x->g().ptr() + begin * w, self.grad.ptr(), count * w);
  });
}

// y = [x_1; x_2; ...] along rows ;  dx_k = the k-th row block of dy
Var concat_rows(const std::vector<Var>& xs) {
  require(!xs.empty(), "concat_rows: no inputs");
  int64_t w = xs[0]->value.cols(), n = 0;
  for (auto& x : xs) {
    require(x->value.cols() == w, "concat_rows: widths differ");
    n += x->value.rows();
  }
  Tensor Y({n, w});
  int64_t off = 0;
  for (auto& x : xs) {
    std::memcpy(Y.ptr() + off, x->value.ptr(), x->value.numel() * sizeof(float));
    off += x->value.numel();
  }
  return make_result(std::move(Y), xs, [xs](Node& self) {
    int64_t off = 0;
    for (auto& x : xs) {
      if (x->requires_grad) add_into(x->g().ptr(), self.grad.ptr() + off, x->value.numel());
      off += x->value.numel();
    }
  });
}

// y = x * m / (1 - p), m ~ Bernoulli(1 - p) ;  dx = dy * m / (1 - p)
Var dropout(const Var& x, float p, Rng& rng) {
  if (p <= 0.0f || !grad_enabled()) return x;
  require(p < 1.0f, "dropout: p must be < 1");
  int64_t n = x->value.numel();
  std::vector<float> scale(n);
  for (auto& s : scale) s = rng.uniform() < p ? 0.0f : 1.0f / (1.0f - p);
  Tensor Y = x->value;
  for (int64_t i = 0; i < n; ++i) Y.data[i] *= scale[i];
  return make_result(std::move(Y), {x}, [x, scale = std::move(scale)](Node& self) {
    float* dx = x->g().ptr();
    for (size_t i = 0; i < scale.size(); ++i) dx[i] += self.grad.data[i] * scale[i];
  });
}

void log_softmax_rows(const float* logits, int64_t n, int64_t V, float* out) {
#pragma omp parallel for if (n * V > kParallelMin)
  for (int64_t r = 0; r < n; ++r) {
    const float* z = logits + r * V;
    float* o = out + r * V;
    float mx = z[0];
    for (int64_t j = 1; j < V; ++j) mx = z[j] > mx ? z[j] : mx;
    for (int64_t j = 0; j < V; ++j) o[j] = z[j] - mx;
    exp_inplace(o, V);
    float s = 0.0f;
    for (int64_t j = 0; j < V; ++j) s += o[j];
    float lse = mx + std::log(s);
    for (int64_t j = 0; j < V; ++j) o[j] = z[j] - lse;
  }
}

// L = (1/M) sum_r m_r (-log p_r[t_r]),  p_r = softmax(z_r),  M = sum_r m_r
// dz_r = dL (m_r / M) (p_r - onehot(t_r))
Var softmax_xent(const Var& logits, const std::vector<int32_t>& targets,
                 const std::vector<float>& mask, XentStats* stats) {
  int64_t n = logits->value.rows(), V = logits->value.cols();
  require((int64_t)targets.size() == n && (int64_t)mask.size() == n, "softmax_xent: targets/mask size");
  auto logp = std::make_shared<Tensor>(std::vector<int64_t>{n, V});
  log_softmax_rows(logits->value.ptr(), n, V, logp->ptr());
  double nats = 0.0, count = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    if (mask[r] == 0.0f) continue;
    require(targets[r] >= 0 && targets[r] < V, "softmax_xent: target out of range");
    nats -= mask[r] * logp->data[r * V + targets[r]];
    count += mask[r];
  }
  if (stats) { stats->nats += nats; stats->count += count; }
  float M = count > 0 ? (float)count : 1.0f;
  return make_result(Tensor({1}, (float)(nats / M)), {logits},
                     [logits, logp, targets, mask, n, V, M](Node& self) {
    float dL = self.grad.data[0];
    float* dz = logits->g().ptr();
#pragma omp parallel for if (n * V > kParallelMin)
    for (int64_t r = 0; r < n; ++r) {
      if (mask[r] == 0.0f) continue;
      float w = dL * mask[r] / M;
      float p[kMaxVocabRow];
      const float* lp = logp->ptr() + r * V;
      for (int64_t j0 = 0; j0 < V; j0 += kMaxVocabRow) {  // dz += w softmax, in row chunks
        int64_t m = std::min<int64_t>(kMaxVocabRow, V - j0);
        std::memcpy(p, lp + j0, m * sizeof(float));
        exp_inplace(p, m);
        for (int64_t j = 0; j < m; ++j) dz[r * V + j0 + j] += w * p[j];
      }
      dz[r * V + targets[r]] -= w;
    }
  });
}

}  // namespace memsig
