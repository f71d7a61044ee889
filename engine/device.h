// device.h — where the recurrent layers run: the CPU, or a CUDA GPU through cuDNN.
//
// The device story (measured against the goals in the README's GPU section): only the RNN op has
// a GPU backend. Each layer call copies its input and packed weights to the GPU once, runs
// cuDNN over the whole sequence, and copies the per-step states back once (and, in backward,
// the gradients); no copy happens per step. Embedding, projection, loss, optimizers and the
// probe's decoders stay on the host, where OpenBLAS and our packed kernels run them.
//
// A process chooses once (the command line's --device): models built afterwards run their
// recurrent layers on default_rnn_backend(). A build without CUDA (MEMSIG_CUDA=OFF, or no nvcc
// and cuDNN when it was configured) has the same API and says so when asked for the GPU.
#pragma once
#include <string>

#include "engine/rnn.h"

namespace memsig {

enum class Device { CPU, CUDA };

struct CudaStatus {
  bool built = false;      // compiled with MEMSIG_CUDA
  bool available = false;  // a CUDA device answered, and cuDNN loaded
  std::string detail;      // "NVIDIA H200 (sm_90), CUDA runtime 13.0, cuDNN 9.19.0", or why not
};

bool built_with_cuda();
CudaStatus cuda_status();  // asks the driver once per process

// "cpu" | "cuda" | "auto" (cuda when available, else cpu). "cuda" when unavailable throws
// std::runtime_error saying why (built without CUDA, or no device and the driver's reason).
Device resolve_device(const std::string& spec);
const char* device_name(Device d);  // "cpu" | "cuda"

void set_default_device(Device d);
Device default_device();
RnnBackend& default_rnn_backend();  // the chosen device's RNN backend (cpu_backend() by default)
RnnBackend& cuda_backend();         // the cuDNN backend; throws as resolve_device("cuda") does

// One line for a command to print: "cuda: NVIDIA H200 (...)" or "cpu (auto: no CUDA device: ...)".
std::string describe_device(Device d, const std::string& spec);

}  // namespace memsig
