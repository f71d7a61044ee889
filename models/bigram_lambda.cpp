#include "models/bigram_lambda.h"

#include <algorithm>
#include <stdexcept>

#include "corpora/corpus.h"

namespace memsig {

std::shared_ptr<LambdaRows> causal_bigram_lambda(const std::vector<int32_t>& inputs, int T, int B,
                                                 const std::vector<int32_t>& read_before,
                                                 const std::vector<uint8_t>& bases_on) {
  if (!read_before.empty() && B != 1) throw std::invalid_argument("causal_bigram_lambda: read_before needs B = 1");
  if (!bases_on.empty() && (int)bases_on.size() != kBigramBases)
    throw std::invalid_argument("causal_bigram_lambda: bases_on must have one flag per basis");
  struct Reader {  // one sequence's counts so far, and its bases seen (ascending)
    std::vector<int> count = std::vector<int>(kBigramBases, 0);
    std::vector<int> seen;
    int bigrams = 0;
    int32_t last = -1;
    void read(int32_t s) {
      if (last >= 0) {
        const int k = bigram_index(last, s);
        if (count[k]++ == 0) seen.insert(std::lower_bound(seen.begin(), seen.end(), k), k);
        ++bigrams;
      }
      last = s;
    }
  };
  std::vector<Reader> readers(B);
  for (int32_t s : read_before) readers[0].read(s);
  auto lam = std::make_shared<LambdaRows>();
  lam->K = kBigramBases;
  lam->row_start.reserve((size_t)T * B + 1);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) {
      Reader& rd = readers[b];
      rd.read(inputs[(size_t)t * B + b]);
      const float inv = rd.bigrams ? 1.0f / (float)rd.bigrams : 0.0f;
      for (int k : rd.seen)
        if (bases_on.empty() || bases_on[k]) {
          lam->index.push_back(k);
          lam->value.push_back((float)rd.count[k] * inv);
        }
      lam->row_start.push_back((int)lam->index.size());
    }
  return lam;
}

DomainLambda count_domain_lambda(const std::string& corpus, const std::vector<Segment>& train) {
  std::vector<int64_t> count(kBigramBases, 0);
  int64_t total = 0;
  for (const Segment& seg : train) {
    int prev = kBos;  // inputs <s> c1 .. cn: bigrams (<s>, c1), (c1, c2), .., (c_{n-1}, c_n)
    for (uint8_t c : seg) {
      ++count[bigram_index(prev, c)];
      ++total;
      prev = c;
    }
  }
  if (total == 0) throw std::invalid_argument("corpus '" + corpus + "': its training split has no bigrams to count");
  DomainLambda d;
  d.corpus = corpus;
  d.train_digest = segments_digest(train);
  d.bigrams = total;
  for (int k = 0; k < kBigramBases; ++k)
    if (count[k] > 0) {
      d.index.push_back(k);
      d.count.push_back(count[k]);
    }
  return d;
}

std::shared_ptr<LambdaRows> domain_bigram_lambda(const std::vector<const DomainLambda*>& per_sequence, int T,
                                                 const std::vector<uint8_t>& bases_on) {
  if (!bases_on.empty() && (int)bases_on.size() != kBigramBases)
    throw std::invalid_argument("domain_bigram_lambda: bases_on must have one flag per basis");
  const int B = (int)per_sequence.size();
  auto lam = std::make_shared<LambdaRows>();
  lam->K = kBigramBases;
  lam->row_start.reserve((size_t)T * B + 1);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) {
      const DomainLambda& d = *per_sequence[b];
      for (size_t i = 0; i < d.index.size(); ++i)
        if (bases_on.empty() || bases_on[d.index[i]]) {
          lam->index.push_back(d.index[i]);
          lam->value.push_back(d.lambda(i));
        }
      lam->row_start.push_back((int)lam->index.size());
    }
  return lam;
}

}  // namespace memsig
