// rnn_cudnn.cpp — the cuDNN RnnBackend: one LSTM or GRU layer over a whole padded batch through
// cuDNN's v8 RNN API (cudnnRNNForward, cudnnRNNBackwardData_v8, cudnnRNNBackwardWeights_v8).
//
// Math: PyTorch's nn.LSTM / nn.GRU (engine/rnn.h), which is cuDNN's own LSTM and GRU with two
// biases per gate (CUDNN_RNN_DOUBLE_BIAS), fp32 with FMA math (no TF32), so results agree with
// the CPU backend to rounding. Weights: packed into cuDNN's weight space at every call through
// the offsets cudnnGetRNNWeightParams reports (cudnn_layout.h), gradients unpacked the same way.
// Data: time-major x [T, B, in] is CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED as it is, with
// per-sequence lengths (CUDNN_RNN_PADDED_IO_ENABLED).
//
// Traffic per layer call: forward uploads x, h0/c0 and the weights once and downloads every
// step's h (and c) once; backward uploads dh and downloads dW and dx once. Nothing per step.
//
// What cuDNN does not give, and how it is made here:
//   * h at every step is cuDNN's output y; past a sequence's length y is 0 where our contract
//     holds the state, so a kernel copies y into the states with the holds (cell_math.h).
//   * the LSTM's cell state c at every step (the probe reads it) is not returned at all. With
//     every h_{t-1} known, all steps' gate pre-activations are two GEMMs (cuBLAS, 2x4 gate
//     blocks read straight from the weight space), and c_t = f c_{t-1} + i g is then a scan over
//     time with one thread per unit: exact up to rounding, no per-step GEMM or launch.
//   * a per-step conditioning input (RnnSequence::cond) has no place in cuDNN's API (it takes x
//     only, and CUDNN_SKIP_INPUT adds x to every gate alike): an explicit error.
//   * a cell other than LSTM and GRU (e.g. a factorized recurrent term): an explicit error.
// The reserve space cuDNN fills in a training forward lives in CudnnSaved until backward.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "engine/autograd.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cudnn_layout.h"
#include "engine/cuda/rnn_kernels.h"

namespace memsig::cuda {

namespace {

[[noreturn]] void fail(const char* call, const std::string& why) {
  throw std::runtime_error(std::string("cuda: ") + call + " failed: " + why);
}
void check(cudaError_t e, const char* call) {
  if (e != cudaSuccess) fail(call, cudaGetErrorString(e));
}
void check(cudnnStatus_t s, const char* call) {
  if (s != CUDNN_STATUS_SUCCESS) fail(call, cudnnGetErrorString(s));
}
void check(cublasStatus_t s, const char* call) {
  if (s != CUBLAS_STATUS_SUCCESS) fail(call, cublasGetStatusString(s));
}
#define CHECK(call) check((call), #call)

// One stream, one cuDNN and one cuBLAS handle for the process; layer calls run one at a time.
// Device memory comes from the stream-ordered pool, told to keep what is freed for the next call
// (as engine/allocator does on the host). Never destroyed: the driver may be gone at exit.
struct Context {
  cudaStream_t stream = nullptr;
  cudnnHandle_t dnn = nullptr;
  cublasHandle_t blas = nullptr;
  cudnnDropoutDescriptor_t no_dropout = nullptr;
  Context() {
    int dev = 0;
    CHECK(cudaGetDevice(&dev));
    cudaMemPool_t pool;
    CHECK(cudaDeviceGetDefaultMemPool(&pool, dev));
    uint64_t keep = UINT64_MAX;
    CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CHECK(cudnnCreate(&dnn));
    CHECK(cudnnSetStream(dnn, stream));
    CHECK(cublasCreate(&blas));
    CHECK(cublasSetStream(blas, stream));
    CHECK(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));  // fp32 stays fp32 (TF32 only when asked for)
    CHECK(cudnnCreateDropoutDescriptor(&no_dropout));
    CHECK(cudnnSetDropoutDescriptor(no_dropout, dnn, 0.0f, nullptr, 0, 0));  // one layer: never applied
  }
};
Context& ctx() {
  static Context c;
  return c;
}

// Device memory, freed back to the pool (stream-ordered) when it goes.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes) CHECK(cudaMallocAsync(&p_, bytes, ctx().stream));
  }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      p_ = o.p_, bytes_ = o.bytes_;
      o.p_ = nullptr, o.bytes_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return p_; }
  float* f() const { return static_cast<float*>(p_); }
  int* i() const { return static_cast<int*>(p_); }
  size_t bytes() const { return bytes_; }
  void zero() {
    if (bytes_) CHECK(cudaMemsetAsync(p_, 0, bytes_, ctx().stream));
  }

 private:
  void release() {
    if (p_) cudaFreeAsync(p_, ctx().stream);
    p_ = nullptr, bytes_ = 0;
  }
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

DeviceBuffer upload(const void* host, size_t bytes) {
  DeviceBuffer d(bytes);
  if (bytes) CHECK(cudaMemcpyAsync(d.get(), host, bytes, cudaMemcpyHostToDevice, ctx().stream));
  return d;
}
void download(void* host, const void* dev, size_t bytes) {
  if (bytes) CHECK(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, ctx().stream));
}

// Descriptors with their destroy calls.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { CHECK(cudnnCreateTensorDescriptor(&d)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  void set_state(int B, int H) {  // h0/c0 [layers = 1, B, H]
    int dims[3] = {1, B, H}, strides[3] = {B * H, H, 1};
    CHECK(cudnnSetTensorNdDescriptor(d, CUDNN_DATA_FLOAT, 3, dims, strides));
  }
  size_t elements() const {  // product of the dims cuDNN reports
    cudnnDataType_t type;
    int n = 0, dims[8], strides[8];
    CHECK(cudnnGetTensorNdDescriptor(d, 8, &type, &n, dims, strides));
    size_t e = 1;
    for (int k = 0; k < n; ++k) e *= (size_t)dims[k];
    return e;
  }
};

struct DataDesc {
  cudnnRNNDataDescriptor_t d = nullptr;
  DataDesc() { CHECK(cudnnCreateRNNDataDescriptor(&d)); }
  ~DataDesc() { cudnnDestroyRNNDataDescriptor(d); }
  DataDesc(const DataDesc&) = delete;
  DataDesc& operator=(const DataDesc&) = delete;
  void set(int T, int B, int width, const std::vector<int>& lengths) {
    float fill = 0.0f;
    CHECK(cudnnSetRNNDataDescriptor(d, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED, T, B, width,
                                    lengths.data(), &fill));
  }
};

// A layer shape's RNN descriptor and weight-space layout, built once per (cell, in, H).
struct RnnDesc {
  cudnnRNNDescriptor_t d = nullptr;
  size_t weight_bytes = 0;
  CudnnWeightLayout layout;
  ~RnnDesc() { cudnnDestroyRNNDescriptor(d); }
};

cudnnRNNMode_t cudnn_mode(Cell cell) {
  switch (cell) {
    case Cell::LSTM: return CUDNN_LSTM;
    case Cell::GRU: return CUDNN_GRU;
  }
  throw std::invalid_argument(std::string("cuda backend: cuDNN runs PyTorch's LSTM and GRU only; cell '") +
                              cell_name(cell) +
                              "' has no CUDA kernels here (a factorized recurrent term needs its own): use --device cpu");
}

// MEMSIG_CUDNN_ALGO=standard (default) | persist_static: cuDNN's recurrence algorithm, for
// measuring (scripts/gpu-check); the persistent kernel keeps W_hh on chip across steps.
cudnnRNNAlgo_t cudnn_algo() {
  const char* env = std::getenv("MEMSIG_CUDNN_ALGO");
  std::string a = env ? env : "standard";
  if (a == "standard") return CUDNN_RNN_ALGO_STANDARD;
  if (a == "persist_static") return CUDNN_RNN_ALGO_PERSIST_STATIC;
  throw std::invalid_argument("MEMSIG_CUDNN_ALGO: '" + a + "' is not standard or persist_static");
}

std::shared_ptr<RnnDesc> make_desc(Cell cell, int in, int H) {
  Context& c = ctx();
  auto r = std::make_shared<RnnDesc>();
  CHECK(cudnnCreateRNNDescriptor(&r->d));
  const cudnnRNNAlgo_t algo = cudnn_algo();
  CHECK(cudnnSetRNNDescriptor_v8(r->d, algo, cudnn_mode(cell), CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL,
                                 CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, in, H,
                                 /*projSize=*/H, /*numLayers=*/1, c.no_dropout, CUDNN_RNN_PADDED_IO_ENABLED));
  CHECK(cudnnGetRNNWeightSpaceSize(c.dnn, r->d, &r->weight_bytes));
  // The offsets of every block, from a scratch weight space.
  DeviceBuffer scratch(r->weight_bytes);
  const int G = gate_count(cell);
  CudnnWeightLayout& L = r->layout;
  L.cell = cell, L.in = in, L.hidden = H, L.floats = r->weight_bytes / sizeof(float);
  TensorDesc m, b;
  for (int k = 0; k < 2 * G; ++k) {
    void *maddr = nullptr, *baddr = nullptr;
    CHECK(cudnnGetRNNWeightParams(c.dnn, r->d, 0, r->weight_bytes, scratch.get(), k, m.d, &maddr, b.d, &baddr));
    const size_t cols = k < G ? in : H;
    if (!maddr || !baddr || m.elements() != (size_t)H * cols || b.elements() != (size_t)H)
      throw std::logic_error("cuda backend: cudnnGetRNNWeightParams gave an unexpected block for linear layer " +
                             std::to_string(k));
    L.matrix.push_back((size_t)(static_cast<char*>(maddr) - static_cast<char*>(scratch.get())) / sizeof(float));
    L.bias.push_back((size_t)(static_cast<char*>(baddr) - static_cast<char*>(scratch.get())) / sizeof(float));
  }
  check_layout(L);
  return r;
}

std::shared_ptr<RnnDesc> rnn_desc(Cell cell, int in, int H) {
  static std::map<std::tuple<int, int, int>, std::shared_ptr<RnnDesc>> cache;
  auto& slot = cache[{(int)cell, in, H}];
  if (!slot) slot = make_desc(cell, in, H);
  return slot;
}

// Everything backward needs, on the device, from forward until the graph goes.
struct CudnnSaved : RnnSaved {
  Cell cell = Cell::LSTM;
  int T = 0, B = 0, in = 0, H = 0;
  bool training = false;
  std::shared_ptr<RnnDesc> rnn;
  DataDesc xdesc, ydesc;
  TensorDesc hdesc;
  DeviceBuffer lengths;        // [B] the real lengths (0..T), for our kernels
  DeviceBuffer cudnn_lengths;  // [B] as given to cuDNN (at least 1: see forward)
  DeviceBuffer x, y, hx, cx, weights, reserve;
};

// out [rows, G*H] (+)= in [rows, K] W_k^T for each gate block k, W_k [H, K] at weights + offset[k]
// (row-major throughout; cuBLAS sees the transposes).
void gate_products(const float* in, int rows, int K, const float* weights, const size_t* offset, int G, int H, float beta,
                   float* out) {
  const float one = 1.0f;
  for (int k = 0; k < G; ++k)
    CHECK(cublasSgemm(ctx().blas, CUBLAS_OP_T, CUBLAS_OP_N, H, rows, K, &one, weights + offset[k], K, in, K, &beta,
                      out + (size_t)k * H, G * H));
}

class CudnnBackend : public RnnBackend {
 public:
  std::string name() const override { return "cudnn"; }

  std::unique_ptr<RnnSaved> forward(Cell cell, const RnnWeights& w, const RnnSequence& seq, RnnStates& tp) override {
    std::lock_guard<std::mutex> lock(mu_);
    const cudnnRNNMode_t mode = cudnn_mode(cell);
    if (seq.cond)
      throw std::invalid_argument(
          "cuda backend: the per-step conditioning input has no place in cuDNN's RNN API (it takes x only): "
          "run this model with --device cpu");
    if (w.u || w.v)
      throw std::invalid_argument(
          "cuda backend: the factorized model's low-rank recurrent term (U, V, lambda per step) has no place in cuDNN's "
          "RNN API and no CUDA kernel of its own yet: run this model with --device cpu");
    const int T = seq.T, B = seq.B, H = w.hidden, in = w.in;
    const size_t BH = (size_t)B * H, rows = (size_t)T * B;
    const bool lstm = mode == CUDNN_LSTM;
    tp.cell = cell, tp.T = T, tp.B = B, tp.H = H;
    auto sv = std::make_unique<CudnnSaved>();
    sv->cell = cell, sv->T = T, sv->B = B, sv->in = in, sv->H = H;
    sv->training = grad_enabled();
    std::vector<float> zeros(BH, 0.0f);
    const float* h0 = seq.h0 ? seq.h0 : zeros.data();
    const float* c0 = seq.c0 ? seq.c0 : zeros.data();
    if (T == 0 || B == 0) {  // nothing to run: the states are the initial state
      tp.h.assign(h0, h0 + BH);
      if (lstm) tp.c.assign(c0, c0 + BH);
      return sv;
    }
    Context& c = ctx();
    sv->rnn = rnn_desc(cell, in, H);
    const RnnDesc& rd = *sv->rnn;
    // cuDNN wants every length >= 1; a length-0 sequence runs one step there, which our kernels
    // ignore (they hold its state and zero its gradients by the real length).
    std::vector<int> len(B), cudnn_len(B);
    for (int b = 0; b < B; ++b) {
      len[b] = seq.lengths ? seq.lengths[b] : T;
      cudnn_len[b] = std::max(1, len[b]);
    }
    sv->lengths = upload(len.data(), B * sizeof(int));
    sv->cudnn_lengths = upload(cudnn_len.data(), B * sizeof(int));
    sv->xdesc.set(T, B, in, cudnn_len);
    sv->ydesc.set(T, B, H, cudnn_len);
    sv->hdesc.set_state(B, H);

    std::vector<float> packed(rd.layout.floats, 0.0f);
    pack_weights(rd.layout, w, packed.data());
    sv->weights = upload(packed.data(), rd.weight_bytes);
    sv->x = upload(seq.x, rows * in * sizeof(float));
    sv->hx = upload(h0, BH * sizeof(float));
    if (lstm) sv->cx = upload(c0, BH * sizeof(float));
    sv->y = DeviceBuffer(rows * H * sizeof(float));
    DeviceBuffer hy(BH * sizeof(float)), cy(lstm ? BH * sizeof(float) : 0);

    const cudnnForwardMode_t fwd = sv->training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE;
    size_t work_bytes = 0, reserve_bytes = 0;
    CHECK(cudnnGetRNNTempSpaceSizes(c.dnn, rd.d, fwd, sv->xdesc.d, &work_bytes, sv->training ? &reserve_bytes : nullptr));
    DeviceBuffer work(work_bytes);
    sv->reserve = DeviceBuffer(reserve_bytes);
    CHECK(cudnnRNNForward(c.dnn, rd.d, fwd, sv->cudnn_lengths.i(), sv->xdesc.d, sv->x.get(), sv->ydesc.d, sv->y.get(),
                          sv->hdesc.d, sv->hx.get(), hy.get(), sv->hdesc.d, lstm ? sv->cx.get() : nullptr,
                          lstm ? cy.get() : nullptr, rd.weight_bytes, sv->weights.get(), work.bytes(), work.get(),
                          sv->reserve.bytes(), sv->reserve.get()));

    // Every step's h, held past each length.
    DeviceBuffer hs((size_t)(T + 1) * BH * sizeof(float));
    launch_states_from_y(sv->y.f(), sv->hx.f(), sv->lengths.i(), hs.f(), T, B, H, c.stream);
    tp.h.resize((size_t)(T + 1) * BH);
    DeviceBuffer cs;
    if (lstm) {  // every step's c: pre = x W_ih^T + h_{t-1} W_hh^T, then the scan (see the top)
      const int G = 4;
      DeviceBuffer pre(rows * G * H * sizeof(float));
      gate_products(sv->x.f(), (int)rows, in, sv->weights.f(), rd.layout.matrix.data(), G, H, 0.0f, pre.f());
      gate_products(hs.f(), (int)rows, H, sv->weights.f(), rd.layout.matrix.data() + G, G, H, 1.0f, pre.f());
      std::vector<float> bias(G * H);
      for (int j = 0; j < G * H; ++j) bias[j] = w.b_ih[j] + w.b_hh[j];
      DeviceBuffer bias_d = upload(bias.data(), bias.size() * sizeof(float));
      cs = DeviceBuffer((size_t)(T + 1) * BH * sizeof(float));
      launch_lstm_c_scan(pre.f(), bias_d.f(), sv->cx.f(), sv->lengths.i(), cs.f(), T, B, H, c.stream);
      CHECK(cudaGetLastError());
      tp.c.resize((size_t)(T + 1) * BH);
      download(tp.c.data(), cs.f(), tp.c.size() * sizeof(float));
    }
    CHECK(cudaGetLastError());
    download(tp.h.data(), hs.f(), tp.h.size() * sizeof(float));
    CHECK(cudaStreamSynchronize(c.stream));
    if (!sv->training) {  // no backward will come: give the memory back now
      sv->x = DeviceBuffer(), sv->y = DeviceBuffer(), sv->hx = DeviceBuffer(), sv->cx = DeviceBuffer();
      sv->weights = DeviceBuffer();
    }
    return sv;
  }

  void backward(Cell cell, const RnnWeights& w, const RnnSequence& seq, const RnnStates& tp, const RnnSaved& saved,
                const float* dh, float* dx, float* dcond, RnnGrads& g) override {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& sv = dynamic_cast<const CudnnSaved&>(saved);
    // dcond: forward refused a conditioning input, so there is none to differentiate.
    (void)seq, (void)tp, (void)dcond, (void)w;
    const int T = sv.T, B = sv.B, H = sv.H, in = sv.in;
    if (T == 0 || B == 0) return;
    if (!sv.training) throw std::logic_error("cuda backend: backward of a forward run without gradients (NoGrad)");
    const bool lstm = cudnn_mode(cell) == CUDNN_LSTM;
    const size_t BH = (size_t)B * H, rows = (size_t)T * B;
    Context& c = ctx();
    const RnnDesc& rd = *sv.rnn;
    // dL/dy, zero in the padding (the CPU backend ignores it there: those outputs are 0).
    DeviceBuffer dy = upload(dh, rows * H * sizeof(float));
    launch_mask_padding(dy.f(), sv.lengths.i(), T, B, H, c.stream);
    DeviceBuffer dxd(rows * in * sizeof(float)), dhy(BH * sizeof(float)), dhx(BH * sizeof(float));
    DeviceBuffer dcy(lstm ? BH * sizeof(float) : 0), dcx(lstm ? BH * sizeof(float) : 0);
    dhy.zero();  // no gradient reaches the final states from outside: rnn_layer returns per-step h only
    dcy.zero();
    size_t work_bytes = 0;
    CHECK(cudnnGetRNNTempSpaceSizes(c.dnn, rd.d, CUDNN_FWD_MODE_TRAINING, sv.xdesc.d, &work_bytes, nullptr));
    DeviceBuffer work(work_bytes);
    CHECK(cudnnRNNBackwardData_v8(c.dnn, rd.d, sv.cudnn_lengths.i(), sv.ydesc.d, sv.y.get(), dy.get(), sv.xdesc.d,
                                  dxd.get(), sv.hdesc.d, sv.hx.get(), dhy.get(), dhx.get(), sv.hdesc.d,
                                  lstm ? sv.cx.get() : nullptr, lstm ? dcy.get() : nullptr, lstm ? dcx.get() : nullptr,
                                  rd.weight_bytes, sv.weights.get(), work.bytes(), work.get(), sv.reserve.bytes(),
                                  sv.reserve.get()));
    DeviceBuffer dweights(rd.weight_bytes);
    dweights.zero();
    CHECK(cudnnRNNBackwardWeights_v8(c.dnn, rd.d, CUDNN_WGRAD_MODE_ADD, sv.cudnn_lengths.i(), sv.xdesc.d, sv.x.get(),
                                     sv.hdesc.d, sv.hx.get(), sv.ydesc.d, sv.y.get(), rd.weight_bytes, dweights.get(),
                                     work.bytes(), work.get(), sv.reserve.bytes(), sv.reserve.get()));
    std::vector<float> dspace(rd.layout.floats);
    download(dspace.data(), dweights.get(), rd.weight_bytes);
    if (dx) {
      launch_mask_padding(dxd.f(), sv.lengths.i(), T, B, in, c.stream);
      download(dx, dxd.get(), rows * in * sizeof(float));
    }
    CHECK(cudaGetLastError());
    CHECK(cudaStreamSynchronize(c.stream));
    add_unpacked_grads(rd.layout, dspace.data(), g);
  }

 private:
  std::mutex mu_;  // one layer call at a time on the one stream
};

}  // namespace

bool probe(std::string& detail) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    detail = std::string("no CUDA device (") + (e != cudaSuccess ? cudaGetErrorString(e) : "the driver sees none") + ")";
    cudaGetLastError();  // clear the sticky error state
    return false;
  }
  cudaDeviceProp p;
  if ((e = cudaGetDeviceProperties(&p, 0)) != cudaSuccess) {
    detail = std::string("cudaGetDeviceProperties: ") + cudaGetErrorString(e);
    return false;
  }
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  const size_t v = cudnnGetVersion();  // e.g. 91900
  detail = std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
           std::to_string((p.totalGlobalMem + (1u << 29)) >> 30) + " GiB), CUDA runtime " + std::to_string(runtime / 1000) +
           "." + std::to_string(runtime % 1000 / 10) + ", cuDNN " + std::to_string(v / 10000) + "." +
           std::to_string(v % 10000 / 100) + "." + std::to_string(v % 100);
  try {
    ctx();
  } catch (const std::exception& ex) {
    detail += ": " + std::string(ex.what());
    return false;
  }
  return true;
}

RnnBackend& cudnn_backend() {
  static CudnnBackend backend;
  return backend;
}

}  // namespace memsig::cuda
