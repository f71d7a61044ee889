// charlm.h — the grapheme language model of the memory-signature method:
//   x_t = embed[s_t]  ->  L stacked LSTM/GRU layers  ->  logits = proj(h_t)  ->  softmax over 34
// with dropout on each recurrent layer's output when training.
//
// Parameter names and shapes are PyTorch's for a module with children embed (nn.Embedding),
// rnn (nn.LSTM / nn.GRU, batch_first=False) and proj (nn.Linear), so a model file moves between
// memsig and PyTorch unchanged (see model_file.h).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "engine/ops.h"
#include "engine/rnn.h"
#include "models/lm.h"
#include "models/trainable.h"

namespace memsig {

struct CharLMConfig {
  Cell cell = Cell::GRU;
  int layers = 1;
  int hidden = 320;
  int embed = 32;
  int vocab = kNumSymbols;
  float dropout = 0.0f;
};

// The sizes a char LM is built with by `train`, `bench` and the recipes (a model file may be
// larger, up to model_file.h's limits); check_config throws std::invalid_argument naming the size.
constexpr int kMaxConfigLayers = 16, kMaxConfigHidden = 8192, kMaxConfigEmbed = 4096;
void check_config(const CharLMConfig& cfg);

struct LMForward {
  Var logits;                                             // [T*B, vocab]
  std::vector<std::shared_ptr<const RnnStates>> states;   // one per layer: every step's h (and c)
};

class CharLM : public LanguageModel, public Trainable {
 public:
  // PyTorch's default initialisation: embed ~ N(0,1); rnn and proj ~ U(-1/sqrt(fan), 1/sqrt(fan)).
  CharLM(const CharLMConfig& cfg, Rng& rng);

  CharLMConfig cfg;
  Var embed;                 // [vocab, E]
  std::vector<RnnParams> rnn;
  Var proj_w, proj_b;        // [vocab, H], [vocab]
  RnnBackend* backend;       // where the recurrent loops run: default_rnn_backend() (engine/device.h) when built

  // Names and shapes of the parameters of a model of this configuration, in named_parameters() order.
  static std::vector<std::pair<std::string, std::vector<int64_t>>> parameter_shapes(const CharLMConfig& cfg);

  // Trainable: PyTorch's state_dict names; the model-file metadata (models/model_file.h).
  std::vector<std::pair<std::string, Var>> named_parameters() const override;
  std::map<std::string, std::string> file_metadata() const override;

  // Inputs [T*B] time-major; dropout_rng null = no dropout. h0/c0: per layer [B,H] or empty.
  LMForward forward(const std::vector<int32_t>& inputs, int T, int B, Rng* dropout_rng,
                    const std::vector<const float*>& h0 = {}, const std::vector<const float*>& c0 = {}) const;
  // Mean cross-entropy (nats) over the batch's real targets.
  Var loss(const Batch& batch, Rng* dropout_rng, XentStats* stats = nullptr) const;

  // LanguageModel: "gru 1x320"; the scores of a batch (no graph).
  std::string describe() const override;
  void score(const Batch& batch, TargetScores& out) const override;
};

}  // namespace memsig
