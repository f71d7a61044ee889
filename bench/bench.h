// bench.h — the measurements of `make bench`: char-LM training and inference throughput on fixed
// Tiny Shakespeare batches, the sgemm peak they are measured against, the joint probe against
// training its decoders one by one, and peak memory on PTB's longest batch. Each returns JSON;
// scripts/bench runs them beside PyTorch and prints the tables.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "corpora/corpus.h"
#include "models/charlm.h"

namespace memsig {

// "lstm:1x320", sizes within check_config; "lstm:1x320:bigram" for the bigram-factorized model of that shape.
CharLMConfig parse_bench_config(const std::string& spec, int embed);
// "lstm:1x80,gru:1x320": every item parsed (strictly, an empty item is an error) before any work.
std::vector<std::pair<std::string, CharLMConfig>> parse_bench_configs(const std::string& list, int embed);

// The batches both memsig and scripts/torch_ref.py bench use: length buckets of the split
// (sorted by length, cut every `batch`), taken at evenly spaced bucket indices.
std::vector<Batch> bench_batches(const std::vector<Segment>& segs, int batch, int steps);

// Train and inference chars/s and GFLOP/s over `steps` batches after `warmup`.
nlohmann::json bench_throughput(const CharLMConfig& cfg, const std::vector<Batch>& batches, int warmup);
double sgemm_peak_gflops();  // 2048^3, best of 3
// `memsig signature`'s probe at its default settings on layer 1 of the model (an untrained GRU
// 1x320 when model_path is empty): wall and CPU seconds of extraction and decoders, test accuracies.
// autograd_bank: the probe as it was before the fused bank (autograd, every decoder trained
// until none improves: ProbeOptions::stop_together).
// stop_together: the fused bank under the earlier protocol (isolates the protocol's effect).
nlohmann::json bench_probe(const Corpus& corpus, const std::string& model_path = "", bool autograd_bank = false,
                           bool stop_together = false);
nlohmann::json bench_ptb_memory(int batch, int embed);
// Sampling at batch 1, one symbol per step (what generation and later LAS decoding do): symbols/s
// of an untrained model of this configuration over `steps` steps (restarting after each </s>).
nlohmann::json bench_sampling(const CharLMConfig& cfg, int steps);

}  // namespace memsig
