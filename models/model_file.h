// model_file.h — the model-file contract: one safetensors file.
//   tensors  embed.weight [34,E]; rnn.weight_ih_l{k} [G*H,in]; rnn.weight_hh_l{k} [G*H,H];
//            rnn.bias_ih_l{k} [G*H]; rnn.bias_hh_l{k} [G*H]; proj.weight [34,H]; proj.bias [34]
//            (G = 4 for LSTM, 3 for GRU), i.e. PyTorch's state_dict names for children embed/rnn/proj;
//   metadata format=memsig-charlm, cell=lstm|gru, layers, hidden, embed, symbols (JSON array).
// A bigram-factorized char LM (charlm.h) adds per layer, after rnn.bias_hh_l{k}:
//            rnn.factor_u_l{k} [G*H, 1156] (U, column k = 34 a + b the basis of bigram "ab"),
//            rnn.factor_v_l{k} [1156, in + H] (V = [V_x | V_h], in = embed for layer 0, else H);
//   metadata format=memsig-charlm-factorized (so plain readers refuse it), factorized=bigram,
//            bases=1156, and either lambda=causal, lambda_window=segment, lambda_prior=zero, or
//            lambda=domain, lambda_window=training split, lambda_domains=[{corpus, train_digest,
//            bigrams, index, count}, ..] (JSON; each training corpus's bigram counts; bigram_lambda.h).
// A file saved from PyTorch with safetensors.torch.save_file(model.state_dict(), path, metadata)
// loads as is. Extra tensors (e.g. a checkpoint's optimizer state) are ignored by load_model.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "engine/safetensors.h"
#include "models/charlm.h"

namespace memsig {

// save: save_trainable(path, model) (models/trainable.h) writes exactly this contract.
constexpr int kMaxLayers = 64, kMaxWidth = 1 << 16;  // limits on metadata sizes
std::unique_ptr<CharLM> model_from(const std::string& path, const SafeTensors& st);
// Checks every model file shares: metadata 'symbols' is memsig's table, and each named tensor is in
// the file with its shape (before anything is allocated). FileError naming the problem.
void check_symbols_metadata(const std::string& path, const SafeTensors& st);
void check_tensor_shapes(const std::string& path, const SafeTensors& st,
                         const std::vector<std::pair<std::string, std::vector<int64_t>>>& shapes);
std::unique_ptr<CharLM> load_model(const std::string& path);  // FileError naming the problem

}  // namespace memsig
