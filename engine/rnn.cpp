// rnn.cpp — the autograd wrapper around a backend's whole-sequence forward and backward.
#include "engine/rnn.h"

#include <stdexcept>

#include "engine/kernels.h"

namespace memsig {

static RnnWeights weights_of(const RnnParams& p) {
  const Tensor& whh = p.w_hh->value;
  RnnWeights w{p.w_ih->value.ptr(), whh.ptr(), p.b_ih->value.ptr(), p.b_hh->value.ptr(),
               (int)p.w_ih->value.dim(1), (int)whh.dim(1)};
  if (p.u) {
    w.u = p.u->value.ptr();
    w.v = p.v->value.ptr();
    w.rank = (int)p.u->value.dim(1);
  }
  return w;
}

RnnLayerOut rnn_layer(RnnBackend& backend, Cell cell, const Var& x, const RnnParams& p, int T, int B,
                      const RnnOptions& opt) {
  RnnWeights w = weights_of(p);
  const int G = gate_count(cell), H = w.hidden;
  if (p.w_ih->value.dim(0) != G * H || p.w_hh->value.dim(0) != G * H || x->value.numel() != (int64_t)T * B * w.in)
    throw std::invalid_argument("rnn_layer: input " + x->value.shape_str() + " does not match weights " +
                                p.w_ih->value.shape_str());
  if (opt.cond && opt.cond->value.numel() != (int64_t)T * B * G * H)
    throw std::invalid_argument("rnn_layer: conditioning input " + opt.cond->value.shape_str() + " is not [T*B, G*H]");
  if ((bool)p.u != (bool)p.v) throw std::invalid_argument("rnn_layer: a low-rank term needs both U and V");
  if (p.u) {
    const int64_t K = p.u->value.dim(1);
    if (p.u->value.shape != std::vector<int64_t>{G * H, K} || p.v->value.shape != std::vector<int64_t>{K, w.in + H})
      throw std::invalid_argument("rnn_layer: low-rank U " + p.u->value.shape_str() + " / V " + p.v->value.shape_str() +
                                  " are not [G*H, K] / [K, in + H]");
    const LambdaRows* lam = opt.lambda.get();
    if (!lam || lam->K != K || lam->rows() != (int64_t)T * B || (int64_t)lam->value.size() != lam->nnz() ||
        lam->row_start.front() != 0 || lam->row_start.back() != (int)lam->nnz())
      throw std::invalid_argument("rnn_layer: a low-rank term needs lambda rows for every step of every sequence, of K = " +
                                  std::to_string(K));
    for (int k : lam->index)
      if (k < 0 || k >= K) throw std::invalid_argument("rnn_layer: a lambda entry's basis is outside 0..K-1");
  }
  if (!opt.lengths.empty()) {
    if ((int)opt.lengths.size() != B) throw std::invalid_argument("rnn_layer: lengths must have one entry per sequence");
    for (int n : opt.lengths)
      if (n < 0 || n > T) throw std::invalid_argument("rnn_layer: a sequence length is outside 0..T");
  }
  // The sequence description outlives this call (backward runs later): keep its inputs alive.
  auto lengths = std::make_shared<std::vector<int>>(opt.lengths);
  auto seq_of = [x, cond = opt.cond, lengths, lambda = p.u ? opt.lambda : nullptr, T, B](const float* h0, const float* c0) {
    RnnSequence s;
    s.x = x->value.ptr(); s.T = T; s.B = B;
    s.cond = cond ? cond->value.ptr() : nullptr;
    s.lengths = lengths->empty() ? nullptr : lengths->data();
    s.h0 = h0; s.c0 = c0;
    s.lambda = lambda.get();
    return s;
  };
  auto states = std::make_shared<RnnStates>();
  std::shared_ptr<RnnSaved> saved = backend.forward(cell, w, seq_of(opt.h0, opt.c0), *states);

  Tensor out({(int64_t)T * B, H});
  std::copy(states->h.begin() + (size_t)B * H, states->h.end(), out.data.begin());
  if (!lengths->empty())  // outputs past a sequence's end are 0
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < B; ++b)
        if (t >= (*lengths)[b]) std::fill_n(out.ptr() + ((size_t)t * B + b) * H, H, 0.0f);

  std::vector<Var> parents{x, p.w_ih, p.w_hh, p.b_ih, p.b_hh};
  if (opt.cond) parents.push_back(opt.cond);
  if (p.u) parents.insert(parents.end(), {p.u, p.v});
  Var h = make_result(std::move(out), parents, [&backend, cell, x, p, cond = opt.cond, states, saved, seq_of](Node& self) {
    RnnWeights w = weights_of(p);
    RnnGrads g{p.w_ih->g().ptr(), p.w_hh->g().ptr(), p.b_ih->g().ptr(), p.b_hh->g().ptr()};
    if (p.u) {
      g.u = p.u->g().ptr();
      g.v = p.v->g().ptr();
    }
    // The initial state only matters to forward (it is in `states`); backward reads row 0 there.
    RnnSequence seq = seq_of(nullptr, nullptr);
    Tensor dx, dcond;
    if (x->requires_grad) dx = Tensor(x->value.shape);
    if (cond && cond->requires_grad) dcond = Tensor(cond->value.shape);
    backend.backward(cell, w, seq, *states, *saved, self.grad.ptr(), dx.numel() ? dx.ptr() : nullptr,
                     dcond.numel() ? dcond.ptr() : nullptr, g);
    if (dx.numel()) add_into(x->g().ptr(), dx.ptr(), dx.numel());
    if (dcond.numel()) add_into(cond->g().ptr(), dcond.ptr(), dcond.numel());
  });
  return {h, states};
}

}  // namespace memsig
