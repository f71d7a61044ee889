#include "models/trainer.h"

#include "engine/stop_points.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

#include "corpora/batches.h"
#include "engine/files.h"
#include "engine/kernels.h"
#include "engine/optim.h"
#include "engine/thread_governor.h"
#include "models/progress.h"

namespace memsig {

namespace {

// The learning curve's header: the char LM's is seconds,epoch,step,chars,train_bpc,valid_bpc,valid_ppl.
std::string curve_header(const TrainMetric& m) {
  return "seconds,epoch,step," + m.curve_targets + "," + m.curve_loss + "," + m.curve_valid +
         (m.valid_is_bits ? ",valid_ppl\n" : "\n");
}

// The divergence bounds (20 bpc for the char LM, far above the uniform model's log2(33) bits) come
// from the task's TrainMetric.
constexpr int kDivergenceWindow = 20;  // steps the training loss is averaged over for that test

std::string fmt_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::unique_ptr<Optimizer> make_optimizer(const LoopOptions& opt, std::vector<Var> params) {
  if (opt.optimizer == "adam") return std::make_unique<Adam>(std::move(params), opt.lr);
  if (opt.optimizer == "sgd") return std::make_unique<Sgd>(std::move(params), opt.lr, opt.momentum);
  throw std::invalid_argument("unknown optimizer '" + opt.optimizer + "' (adam or sgd)");
}

}  // namespace

void check_loop_options(const LoopOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (!(o.lr > 0 && std::isfinite(o.lr))) bad("--lr must be a positive number, not " + g(o.lr));
  if (!(o.clip >= 0 && std::isfinite(o.clip))) bad("--clip must be 0 (off) or a positive number, not " + g(o.clip));
  if (!(o.momentum >= 0 && o.momentum < 1)) bad("--momentum must be in [0, 1), not " + g(o.momentum));
  if (!(o.max_minutes >= 0 && std::isfinite(o.max_minutes))) bad("--max-minutes must be 0 (no limit) or positive");
  if (o.epochs <= 0) bad("--epochs must be positive");
  if (o.max_steps < 0) bad("--max-steps must be 0 (no limit) or positive");
  if (o.eval_every < 0) bad("--eval-every must be 0 or positive");
}

TrainResult train_loop(TrainTask& task, const LoopOptions& opt) {
  check_loop_options(opt);
  Trainable& model = task.model();
  std::unique_ptr<Optimizer> optim = make_optimizer(opt, model.parameters());
  optim->param_names = model.parameter_names();
  RunSettings settings = task.run_settings();
  settings["run.seed"] = std::to_string(opt.seed);
  settings["run.optimizer"] = opt.optimizer;
  settings["run.lr"] = g(opt.lr);
  settings["run.clip"] = g(opt.clip);
  if (opt.optimizer == "sgd") settings["run.momentum"] = g(opt.momentum);

  const TrainMetric metric = task.metric();
  const std::string ckpt_path = opt.out + ".ckpt";
  const int n_batches = task.batches_per_epoch();
  TrainProgress prog;
  Rng dropout_rng(opt.seed * 7919 + 17);
  if (opt.resume && file_exists(ckpt_path)) {
    load_checkpoint(ckpt_path, model, *optim, prog, settings, opt.allow_lr_change, n_batches);
    optim->lr = opt.lr;
    dropout_rng.load(prog.dropout_rng);
    if (!opt.quiet)
      std::fprintf(stderr, "resuming from %s: epoch %d, batch %d, %.0f s trained\n", ckpt_path.c_str(), prog.epoch + 1,
                   prog.next_batch, prog.seconds);
  } else if (opt.resume && !opt.quiet) {
    std::fprintf(stderr, "no checkpoint at %s; starting fresh\n", ckpt_path.c_str());
  }
  Curve curve(curve_header(metric));
  curve.rows = prog.curve;
  curve.write(opt.log_csv);  // a bad --log path fails now, not after training
  if (auto dir = std::filesystem::path(opt.out).parent_path(); !dir.empty()) make_dirs(dir.string());
  if (!opt.quiet) std::fprintf(stderr, "%s, %d threads\n", task.describe().c_str(), get_threads());

  const int64_t total_chars = task.targets_per_epoch() * opt.epochs;
  auto write_checkpoint = [&]() {
    dropout_rng.save(prog.dropout_rng);
    prog.curve = curve.rows;
    save_checkpoint(ckpt_path, model, *optim, prog, settings);
  };
  bool checkpoint_written = false;
  auto stop = [&](const std::string& why, int64_t step) {
    throw std::runtime_error("training stopped at step " + std::to_string(step) + " (epoch " +
                             std::to_string(prog.epoch + 1) + "): " + why + "; " +
                             (checkpoint_written || (opt.resume && file_exists(ckpt_path))
                                  ? "the last good checkpoint " + ckpt_path + " is kept"
                                  : std::string("no checkpoint had been written yet")) +
                             " (try a lower --lr or gradient clipping)");
  };

  JobClock clock(prog.seconds, opt.cpu_clock);
  // Threads left to us (no --threads) follow the measured speed: fewer under contention.
  ThreadGovernor governor(!threads_fixed_by_user(), (int)std::max(1u, std::thread::hardware_concurrency()));
  double last_ckpt = clock.elapsed();
  ProgressMeter meter(opt.progress_seconds, clock.elapsed(), prog.chars);
  XentStats window;      // training loss since the last progress line
  XentStats since_eval;  // and since the last validation
  XentStats recent;      // over the last kDivergenceWindow steps
  bool out_of_time = false;

  int64_t last_validated = -1;  // the step of the last validation (never twice at one step)
  auto validate = [&]() {
    last_validated = prog.step;
    double bpc = task.validate();
    if (!std::isfinite(bpc)) stop("the validation " + metric.valid_name + " is " + g(bpc), prog.step);
    if (bpc > metric.diverged_valid)
      stop("the model diverged: validation " + metric.valid_name + " " + g(bpc) + " (" + metric.uniform_hint + ")", prog.step);
    double train_bpc = since_eval.count > 0 ? since_eval.nats / since_eval.count / std::log(2.0) : NAN;
    since_eval = XentStats{};
    char row[256];
    if (metric.valid_is_bits)
      std::snprintf(row, sizeof row, "%.1f,%d,%lld,%lld,%.4f,%.4f,%.4f\n", clock.elapsed(), prog.epoch + 1,
                    (long long)prog.step, (long long)prog.chars, train_bpc, bpc, std::pow(2.0, bpc));
    else
      std::snprintf(row, sizeof row, "%.1f,%d,%lld,%lld,%.4f,%.4f\n", clock.elapsed(), prog.epoch + 1,
                    (long long)prog.step, (long long)prog.chars, train_bpc, bpc);
    curve.add(row);
    bool best = bpc < prog.best_valid;
    if (best) {
      prog.best_valid = bpc;
      save_trainable(opt.out, model);
      stop_point("train.best");
    }
    if (!opt.quiet)
      std::fprintf(stderr, "valid  epoch %d step %lld  %s  %s %.4f%s%s\n", prog.epoch + 1, (long long)prog.step,
                   fmt_duration(clock.elapsed()).c_str(), metric.valid_name.c_str(), bpc,
                   metric.valid_is_bits ? ("  perplexity " + fmt_fixed(std::pow(2.0, bpc), 3)).c_str() : "",
                   best ? "  (best, saved)" : "");
    curve.write(opt.log_csv);
  };

  for (; prog.epoch < opt.epochs && !out_of_time; ++prog.epoch, prog.next_batch = 0) {
    Rng shuffle_rng(opt.seed * 1000003 + prog.epoch);
    std::vector<int> order(n_batches);
    for (int i = 0; i < n_batches; ++i) order[i] = i;
    shuffle(order, shuffle_rng);
    for (; prog.next_batch < n_batches; ++prog.next_batch) {
      if ((opt.max_minutes > 0 && clock.elapsed() >= opt.max_minutes * 60) || (opt.max_steps > 0 && prog.step >= opt.max_steps)) {
        out_of_time = true;  // already at the limit (a resumed run that had reached it): no further step
        break;
      }
      XentStats stats;
      Var loss = task.batch_loss(order[prog.next_batch], dropout_rng, stats);
      try {
        train_step(*optim, loss, opt.clip);
      } catch (const NonFinite& e) {
        stop(e.what(), prog.step + 1);
      }
      ++prog.step;
      stop_point("train.step");
      prog.chars += (int64_t)stats.count;
      governor.step_done(stats.count);
      window.nats += stats.nats; window.count += stats.count;
      since_eval.nats += stats.nats; since_eval.count += stats.count;
      recent.nats += stats.nats; recent.count += stats.count;
      if (prog.step % kDivergenceWindow == 0) {
        double bpc = recent.nats / std::max(recent.count, 1.0) / std::log(2.0);
        if (bpc > metric.diverged_loss)
          stop("the model diverged: training loss " + g(bpc) + " " + metric.loss_unit + " over the last " +
               std::to_string(kDivergenceWindow) + " steps (" + metric.uniform_hint + ")", prog.step);
        recent = XentStats{};
      }

      double now = clock.elapsed();
      if (!opt.quiet && meter.due(now)) {
        double rate = meter.rate(now, prog.chars);
        double eta = (total_chars - prog.chars) / std::max(rate, 1.0);
        if (opt.max_minutes > 0) eta = std::min(eta, opt.max_minutes * 60 - now);
        if (opt.max_steps > 0)  // steps left at the average time per target of this window
          eta = std::min(eta, (opt.max_steps - prog.step) * ((double)prog.chars / prog.step) / std::max(rate, 1.0));
        std::fprintf(stderr, "train  epoch %d/%d  batch %d/%d  %.1fk %s/s  loss %.4f %s  elapsed %s  ETA %s  threads %d\n",
                     prog.epoch + 1, opt.epochs, prog.next_batch + 1, n_batches, rate / 1000, metric.targets.c_str(),
                     window.nats / window.count / std::log(2.0), metric.loss_unit.c_str(), fmt_duration(now).c_str(), fmt_duration(eta).c_str(),
                     get_threads());
        window = XentStats{};
        meter.reset(now, prog.chars);
      }
      if (opt.eval_every > 0 && prog.step % opt.eval_every == 0) validate();
      if ((opt.max_minutes > 0 && clock.elapsed() >= opt.max_minutes * 60) || (opt.max_steps > 0 && prog.step >= opt.max_steps)) {
        ++prog.next_batch;
        out_of_time = true;
        break;
      }
      if (clock.elapsed() - last_ckpt >= opt.checkpoint_seconds) {
        ++prog.next_batch;  // the checkpoint resumes after this batch
        prog.seconds = clock.elapsed();
        write_checkpoint();
        checkpoint_written = true;
        stop_point("train.checkpoint");
        --prog.next_batch;
        last_ckpt = clock.elapsed();
      }
    }
    if ((!out_of_time || since_eval.count > 0) && last_validated != prog.step) validate();
    if (out_of_time) break;
  }
  if (out_of_time && !opt.quiet) {
    if (opt.max_steps > 0 && prog.step >= opt.max_steps) std::fprintf(stderr, "stopping: --max-steps %lld reached\n", (long long)opt.max_steps);
    else std::fprintf(stderr, "stopping: --max-minutes %g reached\n", opt.max_minutes);
  }
  prog.seconds = clock.elapsed();
  write_checkpoint();
  stop_point("train.end");
  if (!prog.has_best()) throw FileError(opt.out, "no model written: no validation was run");

  TrainResult r;
  r.best_valid_bpc = prog.best_valid;
  r.best_valid_ppl = std::pow(2.0, prog.best_valid);
  r.seconds = prog.seconds;
  r.chars = prog.chars;
  r.epochs_done = prog.epoch;
  return r;
}

}  // namespace memsig
