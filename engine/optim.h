// optim.h — optimizers over a list of parameter Vars, and gradient-norm clipping.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/autograd.h"

namespace memsig {

// One training step, the same everywhere (char LMs, decoders, benchmarks):
//   zero the gradients, backpropagate the loss, clip to max_norm (0 = no clipping), update.
// A loss or gradient that is not finite stops it before the update, with a NonFinite error that
// names the tensor; the parameters are left as they were. Returns the gradient norm.
float train_step(class Optimizer& opt, const Var& loss, float clip);
struct NonFinite : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Scales all gradients by min(1, max_norm / ||g||_2) and returns the norm before clipping.
float clip_grad_norm(const std::vector<Var>& params, float max_norm);
void zero_grad(const std::vector<Var>& params);

class Optimizer {
 public:
  explicit Optimizer(std::vector<Var> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  // The optimizer's state as named tensors, for checkpoints (and their restore).
  virtual std::vector<std::pair<std::string, Tensor*>> state() = 0;
  const std::vector<Var>& params() const { return params_; }
  // Names of the parameters, in order, for messages (set by whoever knows them).
  std::vector<std::string> param_names;
  float lr = 1e-3f;

 protected:
  std::vector<Var> params_;
};

// v = mu v + g ;  p -= lr v    (PyTorch's SGD with momentum, no dampening)
class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Var> params, float lr, float momentum);
  void step() override;
  std::vector<std::pair<std::string, Tensor*>> state() override;
  float momentum;

 private:
  std::vector<Tensor> velocity_;
};

// m = b1 m + (1-b1) g ;  v = b2 v + (1-b2) g^2
// p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)      (PyTorch's Adam)
class Adam : public Optimizer {
 public:
  Adam(std::vector<Var> params, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f);
  void step() override;
  std::vector<std::pair<std::string, Tensor*>> state() override;
  float beta1, beta2, eps;

 private:
  std::vector<Tensor> m_, v_;
  Tensor t_;  // step count, a one-element tensor so it checkpoints like the rest
};

}  // namespace memsig
