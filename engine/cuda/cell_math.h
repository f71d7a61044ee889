// cell_math.h — the per-unit loops the CUDA kernels run, written once for host and device.
//
// Each function is one GPU thread's work for one unit (b, j) over all T steps; the kernels in
// rnn_kernels.cu launch one thread per unit, and the CPU test suite (tests/test_cuda_host.cpp)
// runs the very same functions on the host against the CPU backend, so this math is checked on
// every build, GPU or not. Rows are time-major: row t*B + b; state buffers hold T+1 rows of B*H,
// row block 0 being the initial state. A unit of sequence b is active at step t when t < len[b];
// past its length a sequence holds its state (as the CPU backend does, engine/rnn.h).
#pragma once
#include <math.h>

#ifdef __CUDACC__
#define MEMSIG_HD __host__ __device__ __forceinline__
#else
#define MEMSIG_HD inline
#endif

namespace memsig::cuda_math {

MEMSIG_HD float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// Per-step states from cuDNN's output y [T*B, H] (zero past each length):
//   hs_0 = h0,   hs_{t+1} = y_t while t < len[b], else hs_t (held).
MEMSIG_HD void states_from_y_unit(const float* y, const float* h0, const int* len, float* hs, int T, int B, int H,
                                  int b, int j) {
  const long row = (long)B * H, u = (long)b * H + j;
  float h = h0 ? h0[u] : 0.0f;
  hs[u] = h;
  for (int t = 0; t < T; ++t) {
    if (t < len[b]) h = y[t * row + u];
    hs[(t + 1) * row + u] = h;
  }
}

// The LSTM cell state at every step, which cudnnRNNForward does not return. With every h_t known
// (from y), the gate pre-activations of all steps come from two GEMMs outside this loop:
//   pre_t = x_t W_ih^T + h_{t-1} W_hh^T   [T*B, 4H], rows i, f, g, o;   bias = b_ih + b_hh [4H]
// and c follows by the cell's own recurrence, one unit per thread:
//   c_t = s(pre_f + b_f) c_{t-1} + s(pre_i + b_i) tanh(pre_g + b_g)   while t < len[b], else c_{t-1}
// This is PyTorch's/cuDNN's LSTM equation; it agrees with cuDNN's internal c to rounding.
MEMSIG_HD void lstm_c_scan_unit(const float* pre, const float* bias, const float* c0, const int* len, float* cs, int T,
                                int B, int H, int b, int j) {
  const long row = (long)B * H, u = (long)b * H + j, G = 4L * H;
  float c = c0 ? c0[u] : 0.0f;
  cs[u] = c;
  for (int t = 0; t < T; ++t) {
    if (t < len[b]) {
      const float* p = pre + ((long)t * B + b) * G;
      float i = sigmoid(p[j] + bias[j]), f = sigmoid(p[H + j] + bias[H + j]), g = tanhf(p[2 * H + j] + bias[2 * H + j]);
      c = f * c + i * g;
    }
    cs[(t + 1) * row + u] = c;
  }
}

// Zeroes element idx of a time-major array [T*B, width] when its row t*B + b lies past len[b]:
// the padding, where the CPU backend's outputs and gradients are 0.
MEMSIG_HD void mask_padding_element(float* rows, const int* len, int B, int width, long idx) {
  const long r = idx / width;
  const int t = (int)(r / B), b = (int)(r % B);
  if (t >= len[b]) rows[idx] = 0.0f;
}

}  // namespace memsig::cuda_math
