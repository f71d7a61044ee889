#include "models/bigram_lambda.h"

#include <algorithm>
#include <stdexcept>

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

}  // namespace memsig
