#include "engine/autograd.h"

#include <stdexcept>
#include <unordered_set>

namespace memsig {

static thread_local bool g_grad_enabled = true;
bool grad_enabled() { return g_grad_enabled; }
NoGrad::NoGrad() : previous(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous; }

Var param(Tensor value) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  n->requires_grad = true;
  return n;
}

Var constant(Tensor value) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  return n;
}

Var make_result(Tensor value, std::vector<Var> parents, std::function<void(Node&)> backward_fn) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  if (!g_grad_enabled) return n;
  for (auto& p : parents) n->requires_grad = n->requires_grad || p->requires_grad;
  if (n->requires_grad) {
    n->parents = std::move(parents);
    n->backward_fn = std::move(backward_fn);
  }
  return n;
}

void backward(const Var& root, const Tensor* seed) {
  // Topological order by iterative depth-first search (graphs can be thousands of nodes deep).
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root.get(), 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->parents.size()) {
      Node* p = node->parents[next++].get();
      if (p->requires_grad && seen.insert(p).second) stack.push_back({p, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  Tensor& g = root->g();
  if (seed) {
    if (seed->numel() != g.numel()) throw std::invalid_argument("backward: seed shape mismatch");
    g.data = seed->data;
  } else {
    if (g.numel() != 1) throw std::invalid_argument("backward: root is not a scalar");
    g.data[0] = 1.0f;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if ((*it)->backward_fn) (*it)->backward_fn(**it);
}

}  // namespace memsig
