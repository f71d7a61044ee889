// rnn_kernels.cu — the few kernels the cuDNN backend needs around cudnnRNNForward/Backward:
// per-step states with held padding, the LSTM cell state at every step, padding masks. Each
// thread runs one unit's (or element's) function from cell_math.h, shared with the host tests.
#include "engine/cuda/cell_math.h"
#include "engine/cuda/rnn_kernels.h"

namespace memsig::cuda {

namespace {

constexpr int kThreads = 256;
inline unsigned blocks_for(long n) { return (unsigned)((n + kThreads - 1) / kThreads); }

__global__ void states_from_y_kernel(const float* y, const float* h0, const int* len, float* hs, int T, int B, int H) {
  const long u = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (u >= (long)B * H) return;
  cuda_math::states_from_y_unit(y, h0, len, hs, T, B, H, (int)(u / H), (int)(u % H));
}

__global__ void lstm_c_scan_kernel(const float* pre, const float* bias, const float* c0, const int* len, float* cs,
                                   int T, int B, int H) {
  const long u = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (u >= (long)B * H) return;
  cuda_math::lstm_c_scan_unit(pre, bias, c0, len, cs, T, B, H, (int)(u / H), (int)(u % H));
}

__global__ void mask_padding_kernel(float* rows, const int* len, int B, int width, long n) {
  const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= n) return;
  cuda_math::mask_padding_element(rows, len, B, width, idx);
}

}  // namespace

void launch_states_from_y(const float* y, const float* h0, const int* len, float* hs, int T, int B, int H,
                          cudaStream_t stream) {
  const long n = (long)B * H;
  if (n > 0) states_from_y_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, h0, len, hs, T, B, H);
}

void launch_lstm_c_scan(const float* pre, const float* bias, const float* c0, const int* len, float* cs, int T, int B,
                        int H, cudaStream_t stream) {
  const long n = (long)B * H;
  if (n > 0) lstm_c_scan_kernel<<<blocks_for(n), kThreads, 0, stream>>>(pre, bias, c0, len, cs, T, B, H);
}

void launch_mask_padding(float* rows, const int* len, int T, int B, int width, cudaStream_t stream) {
  const long n = (long)T * B * width;
  if (n > 0) mask_padding_kernel<<<blocks_for(n), kThreads, 0, stream>>>(rows, len, B, width, n);
}

}  // namespace memsig::cuda
