// factorized_grads.cpp — a helper of tests/torch_factorized.sh (not part of memsig's command line):
//   factorized_grads MODEL CORPUS SPLIT N OUT
// loads a model file, makes ONE batch of the first N segments of the corpus split, and writes the
// batch's mean cross-entropy (as bits, metadata "bpc") and every parameter's gradient (tensors
// "grad.<name>") to OUT, for scripts/torch_factorized.py to compare with PyTorch's.
#include <cmath>
#include <cstdio>
#include <exception>
#include <numeric>

#include "corpora/batches.h"
#include "corpora/corpus.h"
#include "engine/safetensors.h"
#include "models/model_file.h"

using namespace memsig;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: factorized_grads MODEL CORPUS SPLIT N OUT\n");
    return 2;
  }
  try {
    auto model = load_model(argv[1]);
    const Corpus corpus = load_corpus(argv[2]);
    const auto& segs = corpus.split(argv[3]);
    std::vector<int> idx(std::min<size_t>(segs.size(), (size_t)std::stoi(argv[4])));
    std::iota(idx.begin(), idx.end(), 0);
    Batch batch = make_batch(segs, idx);
    Var loss = model->loss(batch, nullptr);
    backward(loss);
    std::vector<std::pair<std::string, const Tensor*>> grads;
    auto named = model->named_parameters();
    for (auto& [name, p] : named) grads.push_back({"grad." + name, &p->g()});
    char bpc[64];
    std::snprintf(bpc, sizeof bpc, "%.9g", loss->value.data[0] / std::log(2.0));
    save_safetensors(argv[5], grads, {{"bpc", bpc}, {"rows", std::to_string(idx.size())}});
    std::printf("{\"bpc\": %s}\n", bpc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "factorized_grads: %s\n", e.what());
    return 1;
  }
}
