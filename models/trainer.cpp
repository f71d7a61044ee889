#include "models/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "engine/files.h"
#include "engine/optim.h"
#include "models/model_file.h"

namespace memsig {

namespace {

using Clock = std::chrono::steady_clock;

std::string fmt_duration(double s) {
  char buf[32];
  if (s < 0 || !std::isfinite(s)) return "?";
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", (int)(s / 3600), (int)std::fmod(s / 60, 60));
  else std::snprintf(buf, sizeof buf, "%dm%02ds", (int)(s / 60), (int)std::fmod(s, 60));
  return buf;
}

// Everything that must survive a kill, beside the weights and the optimizer moments.
struct Progress {
  int epoch = 0;            // current epoch (0-based)
  int next_batch = 0;       // index into this epoch's shuffled batch order
  int64_t step = 0;
  int64_t chars = 0;
  double seconds = 0;       // training wall time so far (across resumes)
  double best_valid = 1e30; // best validation bpc
  uint64_t dropout_rng[4] = {0, 0, 0, 0};
  std::string curve;        // CSV rows so far

  std::map<std::string, std::string> to_metadata() const {
    std::ostringstream rng;
    for (int i = 0; i < 4; ++i) rng << (i ? " " : "") << dropout_rng[i];
    char best[64];
    std::snprintf(best, sizeof best, "%.17g", best_valid);
    return {{"ckpt.epoch", std::to_string(epoch)},   {"ckpt.next_batch", std::to_string(next_batch)},
            {"ckpt.step", std::to_string(step)},     {"ckpt.chars", std::to_string(chars)},
            {"ckpt.seconds", std::to_string(seconds)}, {"ckpt.best_valid", best},
            {"ckpt.dropout_rng", rng.str()},         {"ckpt.curve", curve}};
  }
  void from_metadata(const std::string& path, const std::map<std::string, std::string>& m) {
    auto get = [&](const char* k) {
      auto it = m.find(k);
      if (it == m.end()) throw FileError(path, std::string("checkpoint lacks '") + k + "'");
      return it->second;
    };
    epoch = std::stoi(get("ckpt.epoch"));
    next_batch = std::stoi(get("ckpt.next_batch"));
    step = std::stoll(get("ckpt.step"));
    chars = std::stoll(get("ckpt.chars"));
    seconds = std::stod(get("ckpt.seconds"));
    best_valid = std::stod(get("ckpt.best_valid"));
    std::istringstream rng(get("ckpt.dropout_rng"));
    for (auto& s : dropout_rng) rng >> s;
    curve = get("ckpt.curve");
  }
};

const char* kCurveHeader = "seconds,epoch,step,chars,train_bpc,valid_bpc,valid_ppl\n";

}  // namespace

TrainResult train_charlm(const Corpus& corpus, const TrainOptions& opt) {
  Rng init_rng(opt.seed);
  CharLM model(opt.model, init_rng);
  std::vector<Var> params = model.parameters();
  std::unique_ptr<Optimizer> optim;
  if (opt.optimizer == "adam") optim = std::make_unique<Adam>(params, opt.lr);
  else if (opt.optimizer == "sgd") optim = std::make_unique<Sgd>(params, opt.lr, opt.momentum);
  else throw std::invalid_argument("unknown optimizer '" + opt.optimizer + "' (adam or sgd)");

  const std::string ckpt_path = opt.out + ".ckpt";
  Progress prog;
  Rng dropout_rng(opt.seed * 7919 + 17);
  if (opt.resume && file_exists(ckpt_path)) {
    SafeTensors st = load_safetensors(ckpt_path);
    auto loaded = model_from(ckpt_path, st);
    if (loaded->cfg.cell != opt.model.cell || loaded->cfg.layers != opt.model.layers ||
        loaded->cfg.hidden != opt.model.hidden || loaded->cfg.embed != opt.model.embed)
      throw FileError(ckpt_path, "checkpoint is for a different model configuration");
    auto lp = loaded->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i]->value = lp[i]->value;
    for (auto& [name, t] : optim->state()) {
      const Tensor& s = st.at(ckpt_path, "optim." + name);
      if (s.shape != t->shape) throw FileError(ckpt_path, "optimizer state '" + name + "' has the wrong shape");
      *t = s;
    }
    prog.from_metadata(ckpt_path, st.metadata);
    dropout_rng.load(prog.dropout_rng);
    if (!opt.quiet)
      std::fprintf(stderr, "resuming from %s: epoch %d, batch %d, %.0f s trained\n", ckpt_path.c_str(),
                   prog.epoch + 1, prog.next_batch, prog.seconds);
  } else if (opt.resume && !opt.quiet) {
    std::fprintf(stderr, "no checkpoint at %s; starting fresh\n", ckpt_path.c_str());
  }

  auto buckets = length_buckets(corpus.train, opt.batch);
  const int n_batches = (int)buckets.size();
  const int64_t chars_per_epoch = count_symbols(corpus.train);
  const int64_t total_chars = chars_per_epoch * opt.epochs;

  auto write_checkpoint = [&]() {
    dropout_rng.save(prog.dropout_rng);
    std::vector<std::pair<std::string, const Tensor*>> extra;
    for (auto& [name, t] : optim->state()) extra.push_back({"optim." + name, t});
    save_model(ckpt_path, model, prog.to_metadata(), extra);
  };
  auto write_curve = [&]() {
    if (!opt.log_csv.empty()) write_text_atomically(opt.log_csv, kCurveHeader + prog.curve);
  };

  auto session_start = Clock::now();
  double seconds_at_start = prog.seconds;
  auto elapsed = [&]() { return seconds_at_start + std::chrono::duration<double>(Clock::now() - session_start).count(); };
  double last_progress = elapsed(), last_ckpt = elapsed();
  int64_t chars_at_last_progress = prog.chars;
  XentStats window;  // training loss since the last progress line
  XentStats since_eval;
  bool out_of_time = false;

  auto validate = [&]() {
    EvalResult v = evaluate(model, corpus.valid, opt.batch);
    double train_bpc = since_eval.count > 0 ? since_eval.nats / since_eval.count / std::log(2.0) : NAN;
    since_eval = XentStats{};
    char row[256];
    std::snprintf(row, sizeof row, "%.1f,%d,%lld,%lld,%.4f,%.4f,%.4f\n", elapsed(), prog.epoch + 1,
                  (long long)prog.step, (long long)prog.chars, train_bpc, v.bpc, v.perplexity);
    prog.curve += row;
    bool best = v.bpc < prog.best_valid;
    if (best) {
      prog.best_valid = v.bpc;
      save_model(opt.out, model);
    }
    if (!opt.quiet)
      std::fprintf(stderr, "valid  epoch %d step %lld  %s  bpc %.4f  perplexity %.3f%s\n", prog.epoch + 1,
                   (long long)prog.step, fmt_duration(elapsed()).c_str(), v.bpc, v.perplexity, best ? "  (best, saved)" : "");
    write_curve();
  };

  for (; prog.epoch < opt.epochs && !out_of_time; ++prog.epoch, prog.next_batch = 0) {
    Rng shuffle_rng(opt.seed * 1000003 + prog.epoch);
    std::vector<int> order(n_batches);
    for (int i = 0; i < n_batches; ++i) order[i] = i;
    shuffle(order, shuffle_rng);
    for (; prog.next_batch < n_batches; ++prog.next_batch) {
      Batch batch = make_batch(corpus.train, buckets[order[prog.next_batch]]);
      XentStats stats;
      Var loss = model.loss(batch, &dropout_rng, &stats);
      zero_grad(params);
      backward(loss);
      clip_grad_norm(params, opt.clip);
      optim->step();
      ++prog.step;
      prog.chars += batch.n_targets;
      window.nats += stats.nats; window.count += stats.count;
      since_eval.nats += stats.nats; since_eval.count += stats.count;

      double now = elapsed();
      if (!opt.quiet && now - last_progress >= opt.progress_seconds) {
        double rate = (prog.chars - chars_at_last_progress) / (now - last_progress);
        double eta = (total_chars - prog.chars) / std::max(rate, 1.0);
        if (opt.max_minutes > 0) eta = std::min(eta, opt.max_minutes * 60 - now);
        std::fprintf(stderr, "train  epoch %d/%d  batch %d/%d  %.1fk chars/s  loss %.4f bpc  elapsed %s  ETA %s\n",
                     prog.epoch + 1, opt.epochs, prog.next_batch + 1, n_batches, rate / 1000,
                     window.nats / window.count / std::log(2.0), fmt_duration(now).c_str(), fmt_duration(eta).c_str());
        window = XentStats{};
        last_progress = now;
        chars_at_last_progress = prog.chars;
      }
      if (opt.eval_every > 0 && prog.step % opt.eval_every == 0) validate();
      if (opt.max_minutes > 0 && elapsed() >= opt.max_minutes * 60) {
        ++prog.next_batch;
        out_of_time = true;
        break;
      }
      if (elapsed() - last_ckpt >= opt.checkpoint_seconds) {
        ++prog.next_batch;  // the checkpoint resumes after this batch
        prog.seconds = elapsed();
        write_checkpoint();
        --prog.next_batch;
        last_ckpt = elapsed();
      }
    }
    if (!out_of_time || since_eval.count > 0) validate();
    if (out_of_time) break;
  }
  if (out_of_time && !opt.quiet) std::fprintf(stderr, "stopping: --max-minutes %.1f reached\n", opt.max_minutes);
  prog.seconds = elapsed();
  write_checkpoint();

  TrainResult r;
  r.best_valid_bpc = prog.best_valid;
  r.best_valid_ppl = std::pow(2.0, prog.best_valid);
  r.seconds = prog.seconds;
  r.chars = prog.chars;
  r.epochs_done = prog.epoch;
  return r;
}

}  // namespace memsig
