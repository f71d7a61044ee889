// rnn_kernels.h — the CUDA kernels of the cuDNN backend (rnn_kernels.cu), one thread per unit or
// element, the math in cell_math.h. Every launch goes to `stream`; all pointers are device memory.
#pragma once
#include <cuda_runtime.h>

namespace memsig::cuda {

// hs [(T+1)*B, H]: h0 (or zeros when h0 is null), then y's rows, held past each length.
void launch_states_from_y(const float* y, const float* h0, const int* len, float* hs, int T, int B, int H,
                          cudaStream_t stream);
// cs [(T+1)*B, H]: the LSTM cell state at every step from the pre-activations pre [T*B, 4H]
// (x W_ih^T + h_{t-1} W_hh^T, without biases) and bias = b_ih + b_hh [4H].
void launch_lstm_c_scan(const float* pre, const float* bias, const float* c0, const int* len, float* cs, int T, int B,
                        int H, cudaStream_t stream);
// Zeroes the rows of rows [T*B, width] that lie past each sequence's length.
void launch_mask_padding(float* rows, const int* len, int T, int B, int width, cudaStream_t stream);

}  // namespace memsig::cuda
