// checkpoint.h — everything a stopped training run needs to continue exactly: the weights, the
// optimizer's moments, where it was (epoch, batch, step, RNG state, time, best validation, the
// curve so far) and the settings of the run that wrote it. One safetensors file that also loads
// as a model: the model's tensors and metadata, `optim.*` tensors, `ckpt.*` and `run.*` metadata.
//
// Nothing in a checkpoint is trusted: every number is parsed strictly and range-checked, tensor
// shapes must match the model, and a resumed run must have the same settings as the one that
// wrote it (model, data, seed, batch, optimizer); a changed learning rate only when allowed.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "engine/optim.h"
#include "engine/safetensors.h"
#include "models/trainable.h"

namespace memsig {

struct TrainProgress {
  int epoch = 0;               // current epoch (0-based)
  int next_batch = 0;          // index into this epoch's shuffled batch order
  int64_t step = 0;
  int64_t chars = 0;
  double seconds = 0;          // training wall time so far (across resumes)
  double best_valid = kNoBest; // best validation bpc
  uint64_t dropout_rng[4] = {0, 0, 0, 0};
  std::string curve;           // CSV rows so far
  static constexpr double kNoBest = 1e30;
  bool has_best() const { return best_valid < kNoBest; }
};

using RunSettings = std::map<std::string, std::string>;  // "run.lr" -> "0.002", ...

void save_checkpoint(const std::string& path, const Trainable& model, Optimizer& optim, const TrainProgress& prog,
                     const RunSettings& settings);
// Restores model weights, optimizer state and progress; FileError naming the problem otherwise.
// `batches_per_epoch` bounds the stored batch position.
void load_checkpoint(const std::string& path, Trainable& model, Optimizer& optim, TrainProgress& prog,
                     const RunSettings& settings, bool allow_lr_change, int batches_per_epoch);
// The same from a file already read (`path` names it in errors).
void restore_checkpoint(const std::string& path, const SafeTensors& st, Trainable& model, Optimizer& optim,
                        TrainProgress& prog, const RunSettings& settings, bool allow_lr_change, int batches_per_epoch);

}  // namespace memsig
