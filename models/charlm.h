// charlm.h — the grapheme language model of the memory-signature method:
//   x_t = embed[s_t]  ->  L stacked LSTM/GRU layers  ->  logits = proj(h_t)  ->  softmax over 34
// with dropout on each recurrent layer's output when training.
//
// Factorized (cfg.factorized = Factorized::Bigram; Samarakoon & Sim's factorized hidden layers,
// section 7 of the memory-signature paper): every layer's kernel on [x_t; h_{t-1}] is
//   W(λ_t) = [W0_ih | W0_hh] + Σ_k λ_tk u_k v_kᵀ,   K = 34 x 34 = 1156 bigram bases,
// run by the RNN op's low-rank term (engine/rnn.h) with U [G*H, 1156], V [1156, in + H] per layer,
// λ_t the bigram weights of models/bigram_lambda.h: causal (the segment's bigrams so far, the
// default) or domain (one fixed λ per corpus, its training split's bigram distribution; the model
// stores each training corpus's counts in `domains` and uses the one of the corpus it reads:
// Batch::domains per sequence where the batch names them, else the corpus select_domain chose).
// The extra parameters are
// rnn.factor_u_l{k} and rnn.factor_v_l{k} (model_file.h). A model's bases can be switched off
// one by one (bases_on) to read the signature of its parts: the base kernel, one basis, all but one.
//
// Parameter names and shapes are PyTorch's for a module with children embed (nn.Embedding),
// rnn (nn.LSTM / nn.GRU, batch_first=False) and proj (nn.Linear), so a model file moves between
// memsig and PyTorch unchanged (see model_file.h).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "corpora/corpus.h"
#include "engine/ops.h"
#include "engine/rnn.h"
#include "models/bigram_lambda.h"
#include "models/lm.h"
#include "models/trainable.h"

namespace memsig {

enum class Factorized { None, Bigram };
enum class LambdaMode { Causal, Domain };  // bigram_lambda.h
constexpr const char* kFactorizedFormat = "memsig-charlm-factorized";  // its model files' format

struct CharLMConfig {
  Cell cell = Cell::GRU;
  Factorized factorized = Factorized::None;
  LambdaMode lambda = LambdaMode::Causal;  // factorized models only
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
  // Factorized models: which bases are switched on (empty = all); a basis switched off has
  // λ_k = 0 at every step. A view for the probe, not part of the model file.
  std::vector<uint8_t> bases_on;
  int bases() const;         // K: 1156 for a bigram-factorized model, 0 otherwise
  bool domain_lambda() const { return bases() > 0 && cfg.lambda == LambdaMode::Domain; }
  // Domain λ: the λ of every corpus the model was trained on (stored in its file), and the corpus
  // it reads when a batch names none. select_domain throws std::invalid_argument (one line) when
  // the model has no λ for that corpus, or (train_digest given) its λ was counted on another text
  // under the same name; a causal or plain model ignores it.
  std::vector<DomainLambda> domains;
  std::string domain;
  void select_domain(const std::string& corpus, const std::string& train_digest = "");
  void add_domain(DomainLambda d);  // replaces one of the same corpus name
  // select_domain for each corpus of c (each part of a mixture, checked against its training
  // split's digest); `domain` becomes c's name, so a mixture's batches must name their parts.
  void select_corpus(const Corpus& c);

  // Names and shapes of the parameters of a model of this configuration, in named_parameters() order.
  static std::vector<std::pair<std::string, std::vector<int64_t>>> parameter_shapes(const CharLMConfig& cfg);

  // Trainable: PyTorch's state_dict names; the model-file metadata (models/model_file.h).
  std::vector<std::pair<std::string, Var>> named_parameters() const override;
  std::map<std::string, std::string> file_metadata() const override;

  // Inputs [T*B] time-major; dropout_rng null = no dropout. h0/c0: per layer [B,H] or empty.
  // read_before (B = 1 only): the symbols this sequence already read before inputs[0] (with the
  // state h0/c0), which a factorized model's causal λ counts; empty for a fresh segment.
  // sequence_domains (domain λ): each sequence's corpus (Batch::domains); empty = `domain`.
  LMForward forward(const std::vector<int32_t>& inputs, int T, int B, Rng* dropout_rng,
                    const std::vector<const float*>& h0 = {}, const std::vector<const float*>& c0 = {},
                    const std::vector<int32_t>& read_before = {},
                    const std::vector<std::string>& sequence_domains = {}) const;
  // The λ rows forward uses (null for a plain model).
  std::shared_ptr<const LambdaRows> lambda_rows(const std::vector<int32_t>& inputs, int T, int B,
                                                const std::vector<int32_t>& read_before = {},
                                                const std::vector<std::string>& sequence_domains = {}) const;
  // Mean cross-entropy (nats) over the batch's real targets.
  Var loss(const Batch& batch, Rng* dropout_rng, XentStats* stats = nullptr) const;

  // LanguageModel: "gru 1x320"; the scores of a batch (no graph).
  std::string describe() const override;
  void score(const Batch& batch, TargetScores& out) const override;
};

}  // namespace memsig
