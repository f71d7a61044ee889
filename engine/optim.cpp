#include "engine/optim.h"

#include <cmath>

namespace memsig {

float clip_grad_norm(const std::vector<Var>& params, float max_norm) {
  double sq = 0.0;
  for (auto& p : params)
    for (float g : p->grad.data) sq += (double)g * g;
  float norm = (float)std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    float s = max_norm / (norm + 1e-6f);
    for (auto& p : params)
      for (float& g : p->grad.data) g *= s;
  }
  return norm;
}

void zero_grad(const std::vector<Var>& params) {
  for (auto& p : params) p->zero_grad();
}

float train_step(Optimizer& opt, const Var& loss, float clip) {
  const auto& params = opt.params();
  if (!std::isfinite(loss->value.data.at(0)))
    throw NonFinite("the loss is " + std::to_string(loss->value.data[0]));
  zero_grad(params);
  backward(loss);
  float norm = clip_grad_norm(params, clip);
  if (!std::isfinite(norm)) {
    for (size_t k = 0; k < params.size(); ++k)
      for (float g : params[k]->grad.data)
        if (!std::isfinite(g))
          throw NonFinite("the gradient of " + (k < opt.param_names.size() ? "'" + opt.param_names[k] + "'"
                                                                            : "parameter " + std::to_string(k)) +
                          " is not finite");
    throw NonFinite("the gradient norm is not finite");
  }
  opt.step();
  return norm;
}

Sgd::Sgd(std::vector<Var> params, float lr_, float momentum_) : Optimizer(std::move(params)), momentum(momentum_) {
  lr = lr_;
  for (auto& p : params_) velocity_.emplace_back(p->value.shape, 0.0f);
}

void Sgd::step() {
  for (size_t k = 0; k < params_.size(); ++k) {
    Tensor& p = params_[k]->value;
    const Tensor& g = params_[k]->g();
    float* v = velocity_[k].ptr();
    for (int64_t i = 0; i < p.numel(); ++i) {
      v[i] = momentum * v[i] + g.data[i];
      p.data[i] -= lr * v[i];
    }
  }
}

std::vector<std::pair<std::string, Tensor*>> Sgd::state() {
  std::vector<std::pair<std::string, Tensor*>> s;
  for (size_t k = 0; k < velocity_.size(); ++k) s.push_back({"sgd.v." + std::to_string(k), &velocity_[k]});
  return s;
}

Adam::Adam(std::vector<Var> params, float lr_, float b1, float b2, float e)
    : Optimizer(std::move(params)), beta1(b1), beta2(b2), eps(e), t_({1}, 0.0f) {
  lr = lr_;
  for (auto& p : params_) {
    m_.emplace_back(p->value.shape, 0.0f);
    v_.emplace_back(p->value.shape, 0.0f);
  }
}

void Adam::step() {
  float t = (t_.data[0] += 1.0f);
  float bc1 = 1.0f - std::pow(beta1, t), bc2 = 1.0f - std::pow(beta2, t);
  float step_size = lr / bc1, inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
  for (size_t k = 0; k < params_.size(); ++k) {
    float* p = params_[k]->value.ptr();
    const float* g = params_[k]->g().ptr();
    float *m = m_[k].ptr(), *v = v_[k].ptr();
    int64_t n = params_[k]->value.numel();
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
      v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

std::vector<std::pair<std::string, Tensor*>> Adam::state() {
  std::vector<std::pair<std::string, Tensor*>> s{{"adam.t", &t_}};
  for (size_t k = 0; k < m_.size(); ++k) {
    s.push_back({"adam.m." + std::to_string(k), &m_[k]});
    s.push_back({"adam.v." + std::to_string(k), &v_[k]});
  }
  return s;
}

}  // namespace memsig
