// device.cpp — choosing the device; the CUDA entry points exist only in a MEMSIG_CUDA build.
#include "engine/device.h"

#include <mutex>
#include <stdexcept>

#ifdef MEMSIG_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace memsig {

namespace {
Device g_device = Device::CPU;
}

bool built_with_cuda() {
#ifdef MEMSIG_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

CudaStatus cuda_status() {
  static std::once_flag once;
  static CudaStatus status;
  std::call_once(once, [] {
    status.built = built_with_cuda();
#ifdef MEMSIG_HAVE_CUDA
    status.available = cuda::probe(status.detail);
#else
    status.detail = "this memsig was built without CUDA (configure with -DMEMSIG_CUDA=ON where nvcc and cuDNN are "
                    "installed: make cuda)";
#endif
  });
  return status;
}

const char* device_name(Device d) { return d == Device::CUDA ? "cuda" : "cpu"; }

Device resolve_device(const std::string& spec) {
  if (spec == "cpu") return Device::CPU;
  if (spec != "cuda" && spec != "auto")
    throw std::invalid_argument("--device: '" + spec + "' is not one of cpu, cuda, auto");
  CudaStatus s = cuda_status();
  if (s.available) return Device::CUDA;
  if (spec == "auto") return Device::CPU;
  throw std::runtime_error("--device cuda: " + s.detail);
}

void set_default_device(Device d) {
  if (d == Device::CUDA) cuda_backend();  // fails here, not in the middle of a run
  g_device = d;
}

Device default_device() { return g_device; }

RnnBackend& cuda_backend() {
  CudaStatus s = cuda_status();
  if (!s.available) throw std::runtime_error("cuda backend: " + s.detail);
#ifdef MEMSIG_HAVE_CUDA
  return cuda::cudnn_backend();
#else
  throw std::logic_error("cuda backend: unreachable in a build without CUDA");
#endif
}

RnnBackend& default_rnn_backend() { return g_device == Device::CUDA ? cuda_backend() : cpu_backend(); }

std::string describe_device(Device d, const std::string& spec) {
  CudaStatus s = cuda_status();
  if (d == Device::CUDA) return "cuda: " + s.detail + " (RNN layers on the GPU, the rest on the host)";
  if (spec == "cpu") return "cpu";
  return "cpu (" + spec + ": " + (s.built ? s.detail : "built without CUDA") + ")";
}

}  // namespace memsig
