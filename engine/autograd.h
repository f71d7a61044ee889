// autograd.h — reverse-mode automatic differentiation in one page.
//
// A Var is a shared handle to a Node: a value, a gradient of the same shape, the Vars it was
// computed from, and a closure that, given this node's gradient dL/dvalue, adds each parent's
// share into the parent's gradient (the chain rule, one op at a time). backward(loss) orders the
// graph topologically and runs the closures from the loss back to the leaves.
//
// The graph is built anew by every forward pass and freed when the last Var of it goes away;
// parameters are leaves that live on, so their .grad accumulates until an optimizer zeroes it.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace memsig {

struct Node;
using Var = std::shared_ptr<Node>;

struct Node {
  Tensor value;
  Tensor grad;  // empty until something flows into it
  bool requires_grad = false;
  std::vector<Var> parents;
  std::function<void(Node& self)> backward_fn;

  // The gradient buffer, allocated (zeros) on first use.
  Tensor& g() {
    if (grad.data.size() != value.data.size()) grad = Tensor(value.shape, 0.0f);
    return grad;
  }
  void zero_grad() { if (!grad.data.empty()) grad.zero(); }
};

Var param(Tensor value);     // a leaf that wants a gradient (weights)
Var constant(Tensor value);  // a leaf that does not (inputs)

// Makes the result node of an op: requires_grad if any parent does.
Var make_result(Tensor value, std::vector<Var> parents, std::function<void(Node&)> backward_fn);

// Seeds d(root)/d(root) = 1 (root must be a scalar, or `seed` gives its gradient) and runs
// every node's backward_fn once, children before parents.
void backward(const Var& root, const Tensor* seed = nullptr);

// While a NoGrad guard lives, ops record no graph (evaluation, probing, sampling).
struct NoGrad {
  NoGrad();
  ~NoGrad();
  bool previous;
};
bool grad_enabled();

}  // namespace memsig
