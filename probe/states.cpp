#include "probe/states.h"

#include <cmath>
#include <stdexcept>

namespace memsig {

std::string default_state_kind(Cell cell) { return cell == Cell::LSTM ? "c" : "h"; }

StateSet extract_states(const CharLM& model, const std::vector<Segment>& segs, const StateOptions& opt) {
  NoGrad no_grad;
  const int H = model.cfg.hidden, D = opt.max_delta;
  std::string kind = opt.state.empty() ? default_state_kind(model.cfg.cell) : opt.state;
  if (kind != "h" && kind != "c" && kind != "ch") throw std::invalid_argument("unknown state kind '" + kind + "' (c, h or ch)");
  if (model.cfg.cell == Cell::GRU && kind != "h") throw std::invalid_argument("a GRU has no cell state: use --state h");
  StateSet out;
  out.D = D;
  out.layers = opt.layers;
  if (out.layers.empty()) for (int l = 0; l < model.cfg.layers; ++l) out.layers.push_back(l);
  for (int l : out.layers)
    if (l < 0 || l >= model.cfg.layers) throw std::invalid_argument("layer " + std::to_string(l + 1) + " does not exist");
  out.width.assign(out.layers.size(), kind == "ch" ? 2 * H : H);
  out.states.resize(out.layers.size());

  // Positions with at least one real target (t >= 2: x_{t-1} is a character).
  int64_t eligible = 0;
  for (auto& s : segs) eligible += std::max<int64_t>(0, (int64_t)s.size() - 1);
  double keep = (opt.max_positions > 0 && eligible > opt.max_positions) ? (double)opt.max_positions / eligible : 1.0;
  Rng rng(opt.seed);

  for (auto& idx : length_buckets(segs, opt.batch)) {
    Batch b = make_batch(segs, idx);
    LMForward f = model.forward(b.inputs, b.T, b.B, nullptr);
    for (int k = 0; k < b.B; ++k) {
      const Segment& s = segs[idx[k]];
      int n = (int)s.size();
      for (int t = 2; t <= n; ++t) {  // input x_t = c_t (t >= 1); x_{t-1} = c_{t-1} must exist
        if (keep < 1.0 && rng.uniform() >= keep) continue;
        for (int d = 1; d <= D; ++d) out.history.push_back(t - d >= 1 ? s[t - d - 1] : -1);
        for (size_t e = 0; e < out.layers.size(); ++e) {
          const RnnTape& tp = *f.tapes[out.layers[e]];
          size_t row = (size_t)k * H;
          auto& dst = out.states[e];
          if (kind == "c" || kind == "ch") dst.insert(dst.end(), tp.c_at(t) + row, tp.c_at(t) + row + H);
          if (kind == "h" || kind == "ch") dst.insert(dst.end(), tp.h_at(t) + row, tp.h_at(t) + row + H);
        }
        ++out.n;
      }
    }
  }
  return out;
}

ForwardAccuracy forward_accuracy(const CharLM& model, const std::vector<Segment>& segs, int batch) {
  NoGrad no_grad;
  const int V = model.cfg.vocab;
  std::vector<int64_t> hit(V, 0);
  ForwardAccuracy fa;
  fa.count.assign(V, 0);
  int64_t total = 0, correct = 0;
  for (auto& idx : length_buckets(segs, batch)) {
    Batch b = make_batch(segs, idx);
    LMForward f = model.forward(b.inputs, b.T, b.B, nullptr);
    const float* z = f.logits->value.ptr();
    for (size_t r = 0; r < b.targets.size(); ++r) {
      if (b.mask[r] == 0.0f) continue;
      int best = 0;
      for (int j = 1; j < V; ++j) if (z[r * V + j] > z[r * V + best]) best = j;
      int tgt = b.targets[r];
      fa.count[tgt]++;
      total++;
      if (best == tgt) { hit[tgt]++; correct++; }
    }
  }
  fa.recall.assign(V, NAN);
  for (int j = 0; j < V; ++j) if (fa.count[j] > 0) fa.recall[j] = (double)hit[j] / fa.count[j];
  fa.accuracy = total ? (double)correct / total : 0.0;
  return fa;
}

}  // namespace memsig
