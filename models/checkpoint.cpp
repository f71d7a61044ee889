#include "models/checkpoint.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "engine/files.h"
#include "engine/safetensors.h"

namespace memsig {

namespace {

using Meta = std::map<std::string, std::string>;

const std::string& get(const std::string& path, const Meta& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) throw FileError(path, "checkpoint lacks metadata '" + key + "'");
  return it->second;
}

// Whole-string integer in [lo, hi], or a FileError that quotes the value.
int64_t get_int(const std::string& path, const Meta& m, const std::string& key, int64_t lo, int64_t hi) {
  const std::string& s = get(path, m, key);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE)
    throw FileError(path, "checkpoint metadata '" + key + "' is not an integer: '" + s + "'");
  if (v < lo || v > hi)
    throw FileError(path, "checkpoint metadata '" + key + "' = " + s + " is outside " + std::to_string(lo) + ".." +
                              std::to_string(hi));
  return v;
}

double get_double(const std::string& path, const Meta& m, const std::string& key, double lo, double hi) {
  const std::string& s = get(path, m, key);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    throw FileError(path, "checkpoint metadata '" + key + "' is not a finite number: '" + s + "'");
  if (v < lo || v > hi) throw FileError(path, "checkpoint metadata '" + key + "' = " + s + " is out of range");
  return v;
}

std::string g17(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void save_checkpoint(const std::string& path, const Trainable& model, Optimizer& optim, const TrainProgress& p,
                     const RunSettings& settings) {
  std::ostringstream rng;
  for (int i = 0; i < 4; ++i) rng << (i ? " " : "") << p.dropout_rng[i];
  Meta meta = {{"ckpt.epoch", std::to_string(p.epoch)},     {"ckpt.next_batch", std::to_string(p.next_batch)},
               {"ckpt.step", std::to_string(p.step)},       {"ckpt.chars", std::to_string(p.chars)},
               {"ckpt.seconds", std::to_string(p.seconds)}, {"ckpt.best_valid", g17(p.best_valid)},
               {"ckpt.dropout_rng", rng.str()},             {"ckpt.curve", p.curve}};
  for (auto& [k, v] : settings) meta[k] = v;
  std::vector<std::pair<std::string, const Tensor*>> extra;
  for (auto& [name, t] : optim.state()) extra.push_back({"optim." + name, t});
  save_trainable(path, model, meta, extra);
}

void load_checkpoint(const std::string& path, Trainable& model, Optimizer& optim, TrainProgress& p,
                     const RunSettings& settings, bool allow_lr_change, int batches_per_epoch) {
  restore_checkpoint(path, load_safetensors(path), model, optim, p, settings, allow_lr_change, batches_per_epoch);
}

void restore_checkpoint(const std::string& path, const SafeTensors& st, Trainable& model, Optimizer& optim,
                        TrainProgress& p, const RunSettings& settings, bool allow_lr_change, int batches_per_epoch) {
  // The same kind and size of model (the metadata the model file describes itself with).
  for (auto& [k, v] : model.file_metadata()) {
    auto it = st.metadata.find(k);
    if (it == st.metadata.end() || it->second != v)
      throw FileError(path, "checkpoint is for a different model: its '" + k + "' is '" +
                                (it == st.metadata.end() ? std::string("(none)") : it->second) + "', this run's is '" + v + "'");
  }
  // The same run: data, seed, batch, optimizer; the learning rate only with permission.
  bool has_settings = false;
  for (auto& [k, v] : st.metadata) has_settings = has_settings || k.rfind("run.", 0) == 0;
  if (!has_settings) {
    std::fprintf(stderr, "%s: checkpoint predates stored run settings; resuming without checking them\n", path.c_str());
  } else {
    std::string differ;  // every setting that differs, in one line
    bool only_lr = true;
    for (auto& [k, v] : settings) {
      auto it = st.metadata.find(k);
      std::string old = it == st.metadata.end() ? "(none)" : it->second;
      if (old == v) continue;
      if (k == "run.lr" && allow_lr_change) {
        std::fprintf(stderr, "%s: learning rate changed from %s to %s (--allow-lr-change)\n", path.c_str(), old.c_str(), v.c_str());
        continue;
      }
      differ += (differ.empty() ? "" : "; ") + ("--" + k.substr(4)) + " " + old + " (this run: " + v + ")";
      only_lr = only_lr && k == "run.lr";
    }
    if (!differ.empty())
      throw FileError(path, "checkpoint was written with " + differ +
                                (only_lr ? "; pass --allow-lr-change to continue with the new rate"
                                         : "; a resumed run must match (use another --out to start afresh)"));
  }
  // Everything is checked before anything is copied: a bad checkpoint leaves the model untouched.
  for (auto& [name, var] : model.named_parameters()) {
    const Tensor& t = st.at(path, name);
    if (t.shape != var->value.shape)
      throw FileError(path, "tensor '" + name + "' has shape " + t.shape_str() + ", expected " + var->value.shape_str());
  }
  for (auto& [name, t] : optim.state())
    if (st.at(path, "optim." + name).shape != t->shape) throw FileError(path, "optimizer state '" + name + "' has the wrong shape");
  const Meta& m = st.metadata;
  TrainProgress q;
  q.epoch = (int)get_int(path, m, "ckpt.epoch", 0, 1 << 30);
  q.next_batch = (int)get_int(path, m, "ckpt.next_batch", 0, batches_per_epoch);
  q.step = get_int(path, m, "ckpt.step", 0, INT64_MAX);
  q.chars = get_int(path, m, "ckpt.chars", 0, INT64_MAX);
  q.seconds = get_double(path, m, "ckpt.seconds", 0, 1e12);
  q.best_valid = get_double(path, m, "ckpt.best_valid", 0, TrainProgress::kNoBest);
  {
    std::istringstream rng(get(path, m, "ckpt.dropout_rng"));
    std::string word;
    int words = 0;
    bool nonzero = false;
    while (rng >> word) {
      char* end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(word.c_str(), &end, 10);
      if (words >= 4 || word[0] == '-' || *end != '\0' || errno == ERANGE) words = 99;
      else q.dropout_rng[words++] = v;
      nonzero = nonzero || v != 0;
    }
    if (words != 4 || !nonzero)
      throw FileError(path, "checkpoint metadata 'ckpt.dropout_rng' is not four unsigned integers, not all zero");
  }
  q.curve = get(path, m, "ckpt.curve");
  for (auto& [name, var] : model.named_parameters()) var->value.data = st.at(path, name).data;
  for (auto& [name, t] : optim.state()) *t = st.at(path, "optim." + name);
  p = q;
}

}  // namespace memsig
