// cuda_backend.h — the entry points of the CUDA build (engine/cuda/), used only by engine/device.cpp.
#pragma once
#include <string>

#include "engine/rnn.h"

namespace memsig::cuda {

// Whether a CUDA device and cuDNN answer; detail names the device and versions, or why not.
bool probe(std::string& detail);
// The cuDNN RNN backend (LSTM and GRU; engine/cuda/rnn_cudnn.cpp).
RnnBackend& cudnn_backend();

}  // namespace memsig::cuda
