#include "models/las_decode.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "engine/seq_ops.h"

namespace memsig {

namespace {
// Beam search ends a hypothesis only where the model itself finds </s> near its best guess:
// ln p(</s>) >= max_v ln p(v) - kEosThreshold (Hannun et al. 2019's EOS threshold). A label-smoothed
// model keeps ~e^-6 on </s> after any prefix; without the threshold, a truncated hypothesis ("the
// company was official") could win on its per-symbol score, the more so with an LM that likes </s>.
constexpr float kEosThreshold = 3.0f;  // nats: p(</s>) at least 5% of the best symbol's
int max_output_length(const ListenerOut& lo, int b) { return lo.lengths.back()[b] + 10; }
}  // namespace

std::vector<Decoded> greedy_decode(const LAS& model, const LasInput& in, bool keep_attention) {
  NoGrad no_grad;
  ListenerOut lo = model.listen(in);
  const int B = in.B, V = model.cfg.vocab, T = lo.T.back();
  std::vector<Decoded> out(B);
  std::vector<Var> state = model.zero_state(B);
  Var ctx = constant(Tensor({B, model.cfg.listener_out()}));
  std::vector<int32_t> prev(B, kBos);
  std::vector<bool> done(B, false);
  int longest = 0;
  for (int b = 0; b < B; ++b) longest = std::max(longest, max_output_length(lo, b));
  std::vector<float> lp(V);
  for (int i = 0; i < longest; ++i) {
    LAS::Step s = model.step(lo, prev, state, ctx);
    state = s.state;
    ctx = s.ctx;
    bool all_done = true;
    for (int b = 0; b < B; ++b) {
      if (done[b]) continue;
      log_softmax_rows(s.logits->value.ptr() + (size_t)b * V, 1, V, lp.data());
      int best = (int)(std::max_element(lp.begin(), lp.end()) - lp.begin());
      out[b].logprob += lp[best];
      if (keep_attention)
        out[b].attention.emplace_back(s.attention->value.ptr() + (size_t)b * T, s.attention->value.ptr() + (size_t)(b + 1) * T);
      if (best == kEos || i + 1 >= max_output_length(lo, b)) done[b] = true;
      if (best != kEos) out[b].text.push_back(best);
      prev[b] = best;
      all_done = all_done && done[b];
    }
    if (all_done) break;
  }
  return out;
}

Decoded beam_decode(const LAS& model, const LasInput& in_one, int width, const Fusion* fusion) {
  if (in_one.B != 1) throw std::invalid_argument("beam_decode: one utterance at a time");
  if (width < 1) throw std::invalid_argument("beam width must be at least 1");
  const bool fused = fusion && fusion->lm && (fusion->weight != 0 || fusion->length_bonus != 0);
  if (fused) check_fusion_lm(*fusion->lm, model.cfg.vocab);
  const double w = fused ? fusion->weight : 0, bonus = fused ? fusion->length_bonus : 0;
  NoGrad no_grad;
  ListenerOut one = model.listen(in_one);
  const int T = one.T.back(), V = model.cfg.vocab, max_len = max_output_length(one, 0);
  struct Hyp {
    Segment text;
    double score = 0;    // the fused score (the LAS log-probability without fusion)
    double logprob = 0;  // ln p_LAS
  };
  std::vector<Hyp> live{Hyp{}};
  std::vector<Var> state = model.zero_state(1);
  Var ctx = constant(Tensor({1, model.cfg.listener_out()}));
  std::unique_ptr<LmBeamState> lm;
  if (fused && w != 0) lm = std::make_unique<LmBeamState>(*fusion->lm);
  std::vector<Hyp> finished;
  // The ranking of finished hypotheses: per symbol (</s> counted) without a length bonus, whole with one.
  auto rank = [&](const Hyp& h) { return bonus != 0 ? h.score : h.score / (h.text.size() + 1); };
  std::vector<float> lp(V);
  for (int i = 0; i < max_len && !live.empty(); ++i) {
    const int K = (int)live.size();
    // The listener's memory, one copy per live hypothesis.
    ListenerOut lo = one;
    std::vector<int32_t> rows;
    for (int k = 0; k < K; ++k)
      for (int t = 0; t < T; ++t) rows.push_back(t);
    lo.memory = gather_rows(one.memory, rows);
    lo.keys = gather_rows(one.keys, rows);
    lo.lengths.back() = std::vector<int>(K, one.lengths.back()[0]);
    std::vector<int32_t> prev(K);
    for (int k = 0; k < K; ++k) prev[k] = live[k].text.empty() ? kBos : live[k].text.back();
    LAS::Step s = model.step(lo, prev, state, ctx);
    struct Cand {
      double score, logprob;
      int k, v;
    };
    std::vector<Cand> cands;
    for (int k = 0; k < K; ++k) {
      log_softmax_rows(s.logits->value.ptr() + (size_t)k * V, 1, V, lp.data());
      const float* lm_lp = lm ? lm->logp(k) : nullptr;
      const float top = *std::max_element(lp.begin(), lp.end());
      for (int v = 0; v < V; ++v)
        if (v != kBos && (v != kEos || lp[v] >= top - kEosThreshold)) {
          double add = lp[v];
          if (lm_lp) add += w * lm_lp[v];
          cands.push_back({live[k].score + add + bonus, live[k].logprob + lp[v], k, v});
        }
    }
    // The best `width` candidates: those ending in </s> are finished, the rest live (the next step
    // again picks the best `width` of their extensions). A </s> ranked below them does not enter.
    const size_t keep = std::min<size_t>(cands.size(), width);
    std::partial_sort(cands.begin(), cands.begin() + keep, cands.end(),
                      [](const Cand& a, const Cand& b) { return a.score > b.score; });
    std::vector<Hyp> next;
    std::vector<int32_t> parents, symbols;
    for (size_t c = 0; c < keep; ++c) {
      Hyp h{live[cands[c].k].text, cands[c].score, cands[c].logprob};
      if (cands[c].v == kEos || i + 1 >= max_len) {
        if (cands[c].v != kEos) h.text.push_back(cands[c].v);
        finished.push_back(h);
        continue;
      }
      h.text.push_back(cands[c].v);
      next.push_back(h);
      parents.push_back(cands[c].k);
      symbols.push_back(cands[c].v);
    }
    // No stop at `width` finished: a label-smoothed model gives every prefix's </s> a few percent, so
    // truncated hypotheses finish all along; the search runs until none is live or the length limit
    // (ESPnet's beam search without its end detection), and the ranking below picks among them.
    // Ranked by total score with a negative bonus, scores only fall: stop when no live hypothesis can
    // beat a finished one. (Not when ranked per symbol: a live hypothesis's average can still rise,
    // and comparing totals there ended long utterances at a short early </s>.)
    if (!finished.empty() && !next.empty() && bonus < 0) {
      double best_done = -std::numeric_limits<double>::infinity();
      for (auto& f : finished) best_done = std::max(best_done, f.score);
      if (next.front().score < best_done) break;
    }
    live = next;
    if (live.empty()) break;
    for (auto& st : s.state) st = gather_rows(st, parents);
    state = s.state;
    ctx = gather_rows(s.ctx, parents);
    if (lm) lm->advance(parents, symbols);
  }
  if (finished.empty()) finished = live;
  auto best = std::max_element(finished.begin(), finished.end(), [&](const Hyp& a, const Hyp& b) { return rank(a) < rank(b); });
  Decoded d;
  d.text = best->text;
  d.logprob = best->logprob;
  return d;
}

int edit_distance(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::vector<int> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= b.size(); ++j) {
      int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::vector<int32_t>> words_of(const Segment& s) {
  std::vector<std::vector<int32_t>> w(1);
  for (int32_t c : s) {
    if (c == kSpace) { if (!w.back().empty()) w.emplace_back(); }
    else w.back().push_back(c);
  }
  if (w.back().empty()) w.pop_back();
  return w;
}

void ErrorCounts::add(const Segment& ref, const Segment& hyp) {
  std::vector<int32_t> r(ref.begin(), ref.end()), h(hyp.begin(), hyp.end());
  char_errors += edit_distance(r, h);
  chars += (int64_t)r.size();
  // Words as ids: each distinct word gets a number, so the same edit distance serves.
  auto rw = words_of(ref), hw = words_of(hyp);
  std::vector<std::vector<int32_t>> vocab;
  auto ids = [&](const std::vector<std::vector<int32_t>>& ws) {
    std::vector<int32_t> out;
    for (auto& w : ws) {
      auto it = std::find(vocab.begin(), vocab.end(), w);
      if (it == vocab.end()) { vocab.push_back(w); it = vocab.end() - 1; }
      out.push_back((int32_t)(it - vocab.begin()));
    }
    return out;
  };
  auto ri = ids(rw), hi = ids(hw);
  word_errors += edit_distance(ri, hi);
  words += (int64_t)ri.size();
}

}  // namespace memsig
