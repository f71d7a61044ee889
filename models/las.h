// las.h — Listen, Attend and Spell (Chan, Jaitly, Le & Vinyals 2016) over the 34 symbols.
//
// Listener (encoder), over filterbank frames x [T*B, D] time-major:
//   h^0 = BLSTM_0(x)                                 [T*B, 2H]
//   h^k = BLSTM_k(pair_frames(h^{k-1}))              k = 1..P (pyramidal: each halves the frame rate)
//   h^k = BLSTM_k(h^{k-1})                           k = P+1..L-1 (at the reduced rate)
// The reduction 2^P is chosen for the speaking rate: synthesized PTB speech has ~5 frames (10 ms)
// per grapheme, so the default P = 1 keeps ~2.5 listener frames per grapheme (CTC needs >= 1 plus
// one per doubled letter); the paper's WSJ setup (P = 3, 8x) suits slower, real read speech.
// Speller (decoder), one output step i at a time, from s_0 = 0, c_0 = 0, y_0 = <s>:
//   s_i = LSTM stack([embed(y_{i-1}) ; c_{i-1}], s_{i-1})     the query (speller output before attention)
//   e_{i,u} = w^T tanh(K h_u + b_K + Q s_i)                    MLP ("content") score over listener frames u
//   location-aware (option): e_{i,u} = w^T tanh(K h_u + b_K + Q s_i + U f_{i,u}),
//     f_i = F * a_{i-1} (K' filters of width r convolved over the previous weights, a_0 = 0)
//   a_i = masked softmax_u(e_i)        c_i = sum_u a_{i,u} h_u        (h = h^{L-1}, the last listener layer)
//   P(y_i | x, y_<i) = softmax(W_o [s_i ; c_i] + b_o)
// Joint CTC (optional, Kim, Hori & Watanabe 2017): logits W_c h_u + b_c over the last listener layer,
//   loss = (1 - λ) attention cross-entropy + λ CTC (per output symbol), blank = symbol 0 (<s>, which no
//   transcript holds).
// Training: teacher forcing, with scheduled sampling (each step's input is the model's own previous
// argmax with probability p), label smoothing ε (the target distribution (1-ε) one-hot + ε/33 over
// the other symbols).
//
// Parameter names are PyTorch's for the module of scripts/las_ref.py (nn.LSTM(bidirectional=True)
// per listener layer, nn.LSTMCell per speller layer, nn.Linear for the rest), so a model file moves
// between memsig and PyTorch unchanged. File metadata: format = memsig-las and the sizes.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "corpora/batches.h"
#include "engine/ctc.h"
#include "engine/ops.h"
#include "engine/rnn.h"
#include "models/trainable.h"

namespace memsig {

struct LasConfig {
  int feat_dim = 40;
  int listener_layers = 3;   // BLSTM layers in all
  int pyramid = 1;           // of which layers 1..pyramid pair frames: reduction 2^pyramid
  int listener_hidden = 64;  // per direction
  int speller_layers = 1;
  int speller_hidden = 128;
  int embed = 32;
  int attention = 64;
  int vocab = kNumSymbols;
  float ctc_weight = 0.3f;   // 0: no CTC head
  // Location-aware attention (Chorowski et al. 2015) when location_filters > 0: K filters of odd
  // width r over the previous step's attention weights, their features added into the MLP score.
  int location_filters = 0;  // K (0: content-based attention only)
  int location_width = 15;   // r, in reduced frames
  int reduction() const { return 1 << pyramid; }
  bool pairs(int k) const { return k >= 1 && k <= pyramid; }  // layer k pairs its input frames
  int listener_out() const { return 2 * listener_hidden; }
};

struct LasTrainExtras {  // training-only options
  float label_smoothing = 0.0f;
  float sampling = 0.0f;     // scheduled sampling probability
};

// A padded, time-major batch of utterances: frames and transcripts.
struct LasInput {
  int T = 0, B = 0, D = 0;
  const float* feats = nullptr;    // [T*B*D]
  std::vector<int> frames;         // [B]
  const Batch* text = nullptr;     // <s> c1..cn -> c1..cn </s>
};

// What the listener computed: every layer's output (for the probe) and the last one batch-major.
struct ListenerOut {
  std::vector<Var> layers;                                  // layer k: [T_k*B, 2H] time-major
  std::vector<int> T;                                       // frames per layer
  std::vector<std::vector<int>> lengths;                    // per layer, per utterance
  std::vector<std::shared_ptr<const RnnStates>> fwd, bwd;   // per layer
  Var memory;                                               // last layer batch-major [B*T', 2H]
  Var keys;                                                 // K memory + b_K  [B*T', A]
};

struct LasLossStats {
  XentStats att;            // attention cross-entropy (unsmoothed nats) over the targets
  double ctc_nats = 0;
  int ctc_impossible = 0;
};

class LAS : public Trainable {
 public:
  LAS(const LasConfig& cfg, Rng& rng);  // PyTorch's default initialisation
  LasConfig cfg;
  RnnBackend* backend;
  std::vector<RnnParams> listener_fwd, listener_bwd;
  std::vector<RnnParams> speller;       // LSTMCell weights
  Var embed;                            // [V, E]
  Var key_w, key_b, query_w, score_w;   // [A, 2H], [A], [A, Hs], [1, A]
  Var loc_conv, loc_w;                  // location-aware attention: [K, r], [A, K] (only with location_filters > 0)
  Var out_w, out_b;                     // [V, Hs + 2H], [V]
  Var ctc_w, ctc_b;                     // [V, 2H], [V] (only with ctc_weight > 0)
  // The global feature normalisation of its training set, (x - mean) / std per dimension: kept in the
  // file's metadata (feat_mean, feat_std: JSON arrays) so decoding new audio normalises the same way.
  std::vector<double> feat_mean, feat_std;
  std::string file;  // the file it was loaded from, for messages (empty when built in memory)

  static std::vector<std::pair<std::string, std::vector<int64_t>>> parameter_shapes(const LasConfig& cfg);
  std::vector<std::pair<std::string, Var>> named_parameters() const override;
  std::map<std::string, std::string> file_metadata() const override;
  std::string describe() const;

  ListenerOut listen(const LasInput& in) const;
  // One speller step for a batch of B hypotheses attending to `lo` (whose rows belong to sequences
  // `rows_of`: the listener sequence each hypothesis reads). state: per layer [B, 2Hs]; ctx [B, 2H];
  // with location-aware attention, state also ends with the previous attention a_{i-1} [B, T']
  // (absent at the first step: zeros); Step::state carries it on.
  struct Step {
    std::vector<Var> state;
    Var ctx;
    Var query;      // s_i
    Var attention;  // a_i [B, T']
    Var logits;     // [B, V]
  };
  Step step(const ListenerOut& lo, const std::vector<int32_t>& prev, const std::vector<Var>& state, const Var& ctx,
            Rng* dropout_rng = nullptr) const;
  std::vector<Var> zero_state(int B) const;

  // The training loss: (1-λ) mean attention cross-entropy + λ CTC per target symbol.
  Var loss(const LasInput& in, const LasTrainExtras& extras, Rng* rng, LasLossStats* stats) const;
};

// The file format (metadata `format`). LAS is a model kind (models/any_model.h) under this format:
// las.cpp registers its loader when it is linked in (any program that uses LAS does), so
// load_any_model() knows LAS files; AnyModel::lm stays null (a LAS model is not a language model).
inline constexpr const char* kLasFormat = "memsig-las";

// Loads a memsig-las model file (FileError naming the file on any problem).
std::unique_ptr<LAS> load_las(const std::string& path);
bool is_las_file(const std::map<std::string, std::string>& metadata);

}  // namespace memsig
