#include "models/lm.h"

#include <cmath>
#include <stdexcept>

namespace memsig {

// tag_domains: null, or the corpus whose parts name each batch's sequences.
static EvalResult evaluate_tagged(const LanguageModel& lm, const std::vector<Segment>& segs, int batch_size,
                                  const Corpus* corpus, const std::string& split) {
  TargetScores s;
  double nats = 0.0;
  int64_t count = 0;
  const std::vector<CorpusPart> parts = corpus ? corpus->parts_or_self() : std::vector<CorpusPart>{};
  for (auto& idx : length_buckets(segs, batch_size)) {
    s.clear();
    Batch batch = make_batch(segs, idx);
    if (corpus)
      for (int i : batch.segments) batch.domains.push_back(parts[corpus->part_of(split, i)].name);
    lm.score(batch, s);
    double batch_nats = 0.0;  // summed per batch, then added: the order the trainer's loss uses
    for (float lp : s.logp) batch_nats -= lp;
    nats += batch_nats;
    count += (int64_t)s.logp.size();
  }
  EvalResult r;
  r.targets = count;
  r.bpc = count > 0 ? nats / count / std::log(2.0) : 0.0;
  r.perplexity = std::pow(2.0, r.bpc);
  return r;
}

EvalResult evaluate(const LanguageModel& lm, const std::vector<Segment>& segs, int batch_size) {
  return evaluate_tagged(lm, segs, batch_size, nullptr, "");
}

EvalResult evaluate_corpus(const LanguageModel& lm, const Corpus& corpus, const std::string& split, int batch_size) {
  return evaluate_tagged(lm, corpus.split(split), batch_size, &corpus, split);
}

ForwardAccuracy forward_accuracy(const LanguageModel& lm, const std::vector<Segment>& segs, int batch_size) {
  ForwardAccuracy fa;
  fa.count.assign(kNumSymbols, 0);
  std::vector<int64_t> hit(kNumSymbols, 0);
  int64_t total = 0, correct = 0;
  TargetScores s;
  for (auto& idx : length_buckets(segs, batch_size)) {
    s.clear();
    lm.score(make_batch(segs, idx), s);
    for (size_t i = 0; i < s.target.size(); ++i) {
      int tgt = s.target[i];
      fa.count[tgt]++;
      total++;
      if (s.argmax[i] == tgt) { hit[tgt]++; correct++; }
    }
  }
  fa.recall.assign(kNumSymbols, NAN);
  for (int j = 0; j < kNumSymbols; ++j)
    if (fa.count[j] > 0) fa.recall[j] = (double)hit[j] / fa.count[j];
  fa.accuracy = total ? (double)correct / total : 0.0;
  return fa;
}

}  // namespace memsig
