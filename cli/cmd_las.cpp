// cmd_las.cpp — memsig las train | decode | eval | attention: a Listen-Attend-Spell model on a speech
// data set (models/las.h, models/train_las.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/files.h"
#include "engine/kernels.h"
#include "engine/optim.h"
#include "figures/las_plots.h"
#include "models/any_model.h"
#include "models/las_align.h"
#include "models/train_las.h"

namespace memsig::cli {

namespace {

using memsig::LasSplit;

// The named split of DIR (or DIR itself when it is a data directory), normalised as the model was trained.
LasSplit load_for(const LAS& m, const std::string& data, const std::string& split) {
  std::string dir;
  try {
    dir = split_dir(data, split);
  } catch (const FileError&) {
    dir = data;  // a data directory (or manifest) given directly
  }
  if (m.feat_mean.empty()) throw FileError(data, "the model file has no feature normalisation (feat_mean)");
  return load_las_split(dir, m.cfg.feat_dim, &m.feat_mean, &m.feat_std, nullptr, nullptr, true);
}

// --lm, --lm-weight and --length-bonus (numbers or auto) as a Fusion (no LM: none).
std::string fmt_g(float v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

Fusion fusion_for(const std::string& lm_path, const std::string& weight, const std::string& length_bonus, int beam) {
  Fusion f;
  // A number in [lo, hi], or 'auto' (left 0 here: chosen on valid later).
  auto number = [](const std::string& option, const std::string& text, float lo, float hi) {
    if (text == "auto") return 0.0f;
    size_t used = 0;
    float v = 0;
    try { v = std::stof(text, &used); } catch (const std::logic_error&) { used = 0; }
    if (used == 0 || used != text.size() || !std::isfinite(v) || v < lo || v > hi)
      throw CLI::ValidationError(option + ": '" + text + "' is neither a number in " + fmt_g(lo) + ".." + fmt_g(hi) + " nor 'auto'");
    return v;
  };
  f.weight = number("--lm-weight", weight, 0, 10);
  f.length_bonus = number("--length-bonus", length_bonus, -10, 10);
  if (lm_path.empty()) {
    if (weight != "0" || length_bonus != "0") throw CLI::ValidationError("--lm-weight and --length-bonus need --lm");
    return f;
  }
  if (beam < 2) throw CLI::ValidationError("--lm: shallow fusion needs beam search (--beam 2 or more)");
  AnyModel lm = load_any_model(lm_path);
  if (!lm.lm || !(lm.format == "memsig-charlm" || lm.format == kFactorizedFormat))
    throw FileError(lm_path, "is not a memsig char LM (format '" + lm.format + "'): shallow fusion needs one (memsig train)");
  f.lm = lm.as<CharLM>();
  try {
    check_fusion_lm(*f.lm, kNumSymbols);
  } catch (const std::invalid_argument& e) {
    throw FileError(lm_path, e.what());
  }
  return f;
}

void print_skipped(const LasSplit& s) {
  int n = 0;
  for (auto& [why, c] : s.skipped) n += c;
  if (n) {
    std::fprintf(stderr, "skipped %d utterance%s:", n, n == 1 ? "" : "s");
    for (auto& [why, c] : s.skipped) std::fprintf(stderr, " %d %s;", c, why.c_str());
    std::fprintf(stderr, "\n");
  }
}

void add_las_train(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("train", "train a LAS model on DIR/train, validating (greedy CER) on DIR/valid");
  static LasTrainOptions o;
  static bool paper = false;
  o.epochs = 30;
  o.lr = 1e-3f;
  cmd->add_option("--data", o.data, "a speech set with train/ and valid/ data directories (memsig speech synth)")->required();
  cmd->add_option("--mel-bins", o.model.feat_dim, "filterbank bins")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--listener-layers", o.model.listener_layers, "BLSTM layers in all")->capture_default_str()->check(CLI::Range(1, 6));
  cmd->add_option("--pyramid", o.model.pyramid, "layers 1..P pair frames (frame rate reduced 2^P)")->capture_default_str()->check(CLI::Range(0, 5));
  cmd->add_option("--listener-hidden", o.model.listener_hidden, "units per direction")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--speller-layers", o.model.speller_layers)->capture_default_str()->check(CLI::Range(1, 8));
  cmd->add_option("--speller-hidden", o.model.speller_hidden)->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--embed", o.model.embed)->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--attention", o.model.attention, "attention MLP width")->capture_default_str()->check(CLI::Range(1, 4096));
  static std::string attention_type = "content";
  static int location_filters = 10;
  cmd->add_option("--attention-type", attention_type, "content, or location: location-aware (Chorowski et al. 2015)")
      ->capture_default_str()->check(CLI::IsMember({"content", "location"}));
  cmd->add_option("--location-filters", location_filters, "location-aware attention: convolution filters over the previous weights")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--location-width", o.model.location_width, "location-aware attention: filter width in reduced frames (odd)")
      ->capture_default_str()->check(CLI::Range(1, 1023));
  cmd->add_flag("--paper", paper, "the paper's sizes: a BLSTM and 3 pyramidal BLSTMs of 256 per direction (8x), speller 2x512, attention 512");
  cmd->add_option("--ctc-weight", o.model.ctc_weight, "joint CTC weight (0 = none)")->capture_default_str()->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--label-smoothing", o.extras.label_smoothing)->capture_default_str()->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--sampling", o.extras.sampling, "scheduled sampling: the probability of feeding the model's own previous guess")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--spec-augment", o.spec_augment, "SpecAugment masks on the training features");
  cmd->add_option("--init-from", o.init_from, "start from this LAS model (its sizes and weights): fine-tuning");
  cmd->add_option("--epochs", o.epochs)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o.batch, "utterances per batch")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", o.lr)->capture_default_str();
  cmd->add_option("--clip", o.clip, "gradient-norm clip (0 = off)")->capture_default_str();
  cmd->add_option("--seed", o.seed)->capture_default_str();
  cmd->add_option("--out", o.out, "model file (best on valid); checkpoint at OUT.ckpt")->required();
  cmd->add_flag("--resume", o.resume, "continue from OUT.ckpt");
  cmd->add_flag("--allow-lr-change", o.allow_lr_change);
  cmd->add_option("--max-minutes", o.max_minutes, "stop after this much training time")->capture_default_str();
  cmd->add_option("--max-steps", o.max_steps)->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every, "also validate every N steps")->capture_default_str();
  cmd->add_option("--log", o.log_csv, "learning curve (CSV: seconds, epoch, step, graphemes, train_bits_per_grapheme, valid_cer_pct)");
  cmd->add_flag("--quiet", o.quiet);
  add_common(cmd);
  cmd->callback([] {
    if (paper) {
      o.model.listener_layers = 4; o.model.pyramid = 3; o.model.listener_hidden = 256;
      o.model.speller_layers = 2; o.model.speller_hidden = 512; o.model.attention = 512;
    }
    if (o.model.pyramid >= o.model.listener_layers) throw CLI::ValidationError("--pyramid must be below --listener-layers");
    if (attention_type == "location") {
      if (o.model.location_width % 2 == 0) throw CLI::ValidationError("--location-width must be odd");
      o.model.location_filters = location_filters;
    }
    check_loop_options(o);
    TrainResult r = train_las(o);
    std::printf("best valid CER %.2f%%  (%d epochs, %.0f s) -> %s\n", r.best_valid_bpc, r.epochs_done, r.seconds, o.out.c_str());
  });
}

void add_las_eval(CLI::App* parent, bool decode_only) {
  auto* cmd = parent->add_subcommand(decode_only ? "decode" : "eval",
                                     decode_only ? "decode a data set: one line per utterance, id and text"
                                                 : "CER and WER of a data set (default: DIR/test), per utterance and total");
  struct Opts {
    std::string model, data, split = "test", out;
    int beam = 8, batch = 16;
    bool json = false;
    std::string lm, lm_weight = "0", length_bonus = "0";
    int tune_utterances = 100;
  };
  static Opts a[2];
  Opts& o = a[decode_only];
  cmd->add_option("--model", o.model)->required();
  cmd->add_option("--data", o.data, "a speech set (DIR/SPLIT) or a data directory")->required();
  cmd->add_option("--split", o.split)->capture_default_str()->check(CLI::IsMember({"train", "valid", "test"}));
  cmd->add_option("--beam", o.beam, "beam width (1 = greedy, batched)")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--batch", o.batch, "utterances per greedy batch")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lm", o.lm, "shallow fusion with this char LM (memsig train) in beam search");
  cmd->add_option("--lm-weight", o.lm_weight, "w in log p_LAS + w log p_LM, or 'auto': the best of 0, 0.1 .. 0.5 on the valid split")
      ->capture_default_str();
  cmd->add_option("--length-bonus", o.length_bonus,
                  "β per output symbol in the fused score (0: rank by score per symbol), or 'auto': the best of 0, 0.25, 0.5 on valid")
      ->capture_default_str();
  cmd->add_option("--tune-utterances", o.tune_utterances, "with --lm-weight auto: valid utterances decoded per weight (0: all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  if (!decode_only) {
    cmd->add_flag("--json", o.json, "the totals and every utterance as JSON");
    cmd->add_option("--out", o.out, "write the per-utterance table (TSV: id, errors, length, reference, hypothesis)");
  }
  add_common(cmd);
  cmd->callback([&o, decode_only] {
    Fusion fusion = fusion_for(o.lm, o.lm_weight, o.length_bonus, o.beam);
    auto m = load_las(o.model);
    LasSplit s = load_for(*m, o.data, o.split);
    print_skipped(s);
    if (fusion.lm && (o.lm_weight == "auto" || o.length_bonus == "auto")) {
      LasSplit valid = load_for(*m, o.data, "valid");
      FusionTuning t = tune_fusion(*m, valid.set, o.beam, fusion,
                                   o.lm_weight == "auto" ? default_weight_grid() : std::vector<float>{fusion.weight},
                                   o.length_bonus == "auto" ? default_bonus_grid() : std::vector<float>{fusion.length_bonus},
                                   o.tune_utterances, true);
      fusion.weight = t.best_weight;
      fusion.length_bonus = t.best_bonus;
      std::fprintf(stderr, "fusion  LM weight %g, length bonus %g chosen on valid\n", fusion.weight, fusion.length_bonus);
    }
    SetDecoding d = decode_set(*m, s.set, o.beam, o.batch, true, fusion.lm ? &fusion : nullptr);
    if (decode_only) {
      for (size_t i = 0; i < d.hyps.size(); ++i) std::printf("%s %s\n", s.set.ids[i].c_str(), to_text(d.hyps[i].text).c_str());
      return;
    }
    std::string table = "id\tchar_errors\tchars\tword_errors\twords\treference\thypothesis\n";
    nlohmann::json utts = nlohmann::json::array();
    for (size_t i = 0; i < d.hyps.size(); ++i) {
      ErrorCounts e;
      e.add(s.set.texts[i], d.hyps[i].text);
      table += s.set.ids[i] + "\t" + std::to_string(e.char_errors) + "\t" + std::to_string(e.chars) + "\t" +
               std::to_string(e.word_errors) + "\t" + std::to_string(e.words) + "\t" + to_text(s.set.texts[i]) + "\t" +
               to_text(d.hyps[i].text) + "\n";
      utts.push_back({{"id", s.set.ids[i]}, {"cer", e.cer()}, {"wer", e.wer()}, {"ref", to_text(s.set.texts[i])},
                      {"hyp", to_text(d.hyps[i].text)}});
    }
    if (!o.out.empty()) write_text_atomically(o.out, table);
    if (o.json) {
      nlohmann::json j = {{"model", o.model}, {"data", o.data}, {"split", o.split}, {"beam", o.beam},
                          {"lm", o.lm}, {"lm_weight", fusion.weight}, {"length_bonus", fusion.length_bonus},
                          {"utterances", d.hyps.size()}, {"cer", d.errors.cer()}, {"wer", d.errors.wer()},
                          {"char_errors", d.errors.char_errors}, {"chars", d.errors.chars},
                          {"word_errors", d.errors.word_errors}, {"words", d.errors.words}, {"seconds", d.seconds},
                          {"per_utterance", utts}};
      std::printf("%s\n", j.dump(1).c_str());
      return;
    }
    if (fusion.lm) std::printf("shallow fusion: %s, LM weight %g, length bonus %g\n", o.lm.c_str(), fusion.weight, fusion.length_bonus);
    std::printf("%s %s (%zu utterances, beam %d): CER %.2f%% (%lld/%lld)  WER %.2f%% (%lld/%lld)  %.1f s\n", o.data.c_str(),
                o.split.c_str(), d.hyps.size(), o.beam, d.errors.cer(), (long long)d.errors.char_errors,
                (long long)d.errors.chars, d.errors.wer(), (long long)d.errors.word_errors, (long long)d.errors.words,
                d.seconds);
  });
}

void add_las_attention(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("attention", "the attention matrix of one utterance (greedy decoding) as a PNG");
  static std::string model, data, split = "test", utt, out;
  cmd->add_option("--model", model)->required();
  cmd->add_option("--data", data)->required();
  cmd->add_option("--split", split)->capture_default_str()->check(CLI::IsMember({"train", "valid", "test"}));
  cmd->add_option("--utt", utt, "utterance id (default: the first)");
  cmd->add_option("--out", out, "the PNG")->required();
  add_common(cmd);
  cmd->callback([] {
    auto m = load_las(model);
    LasSplit s = load_for(*m, data, split);
    int k = 0;
    if (!utt.empty()) {
      auto it = std::find(s.set.ids.begin(), s.set.ids.end(), utt);
      if (it == s.set.ids.end()) throw FileError(data, "no utterance '" + utt + "' in the " + split + " split");
      k = (int)(it - s.set.ids.begin());
    }
    SpeechBatch b = make_speech_batch(s.set, {k});
    std::vector<Decoded> d = greedy_decode(*m, las_input(b), true);
    ErrorCounts e;
    e.add(s.set.texts[k], d[0].text);
    std::string title = s.set.ids[k] + ": \"" + to_text(d[0].text) + "\" (CER " + std::to_string((int)(e.cer() + 0.5)) + "%)";
    if (title.size() > 110) title = title.substr(0, 107) + "...";
    draw_attention_png(out, title, d[0].text, d[0].attention, 10 * m->cfg.reduction());
    std::printf("ref  %s\nhyp  %s\nCER %.2f%% -> %s\n", to_text(s.set.texts[k]).c_str(), to_text(d[0].text).c_str(), e.cer(),
                out.c_str());
  });
}

// The CTC forced alignment of each utterance (models/las_align.h): per utterance, each symbol's
// aligned input frames; where the data has synthesis timing, how well the two agree.
void add_las_align(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("align", "CTC forced alignment of each transcript; agreement with the synthesis timing where known");
  static std::string model, data, split = "test", out;
  static int batch = 16;
  cmd->add_option("--model", model)->required();
  cmd->add_option("--data", data, "a speech set (DIR/SPLIT) or a data directory")->required();
  cmd->add_option("--split", split)->capture_default_str()->check(CLI::IsMember({"train", "valid", "test"}));
  cmd->add_option("--batch", batch, "utterances per listener pass")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--out", out, "write the per-symbol table (TSV: id, index, symbol, aligned first/last frame, synthesized first/last)");
  add_common(cmd);
  cmd->callback([] {
    auto m = load_las(model);
    require_ctc_head(*m);
    LasSplit s = load_for(*m, data, split);
    print_skipped(s);
    TimingAgreement agree;
    std::string table = "id\tindex\tsymbol\taligned_first\taligned_last\tsynth_first\tsynth_last\n";
    long timed = 0;
    for (const auto& idx : frame_buckets(s.set, batch)) {
      SpeechBatch b = make_speech_batch(s.set, idx);
      std::vector<CtcAlignment> al = las_ctc_align(*m, las_input(b));
      for (size_t k = 0; k < idx.size(); ++k) {
        const int i = idx[k];
        const Segment& text = s.set.texts[i];
        std::vector<int> fs = aligned_frame_symbols(al[k], m->cfg.reduction(), b.frames[k]);
        const std::vector<int>& ref = s.set.frame_symbol[i];
        const bool has_ref = std::any_of(ref.begin(), ref.end(), [](int v) { return v >= 0; });
        if (has_ref) {
          agree.add(ref, fs, text.size());
          ++timed;
        }
        for (size_t p = 0; p < text.size(); ++p) {
          int a0 = -1, a1 = -1, r0 = -1, r1 = -1;
          for (int t = 0; t < (int)fs.size(); ++t)
            if (fs[t] == (int)p) { if (a0 < 0) a0 = t; a1 = t; }
          for (int t = 0; t < (int)ref.size(); ++t)
            if (ref[t] == (int)p) { if (r0 < 0) r0 = t; r1 = t; }
          table += s.set.ids[i] + "\t" + std::to_string(p) + "\t" + to_text(Segment{text[p]}) + "\t" + std::to_string(a0) +
                   "\t" + std::to_string(a1) + "\t" + std::to_string(r0) + "\t" + std::to_string(r1) + "\n";
        }
      }
    }
    if (!out.empty()) write_text_atomically(out, table);
    std::vector<double> off = agree.offsets;
    std::sort(off.begin(), off.end());
    const double ms = 10.0;  // frame shift
    nlohmann::json j = {{"model", model}, {"data", data}, {"split", split}, {"utterances", s.set.ids.size()},
                        {"utterances_with_synthesis_timing", timed}, {"impossible_alignments", agree.impossible},
                        {"symbols_compared", agree.symbols}, {"symbols_with_empty_synthesized_span", agree.empty_reference},
                        {"centre_inside_synthesized_span", agree.inside_fraction()},
                        {"mean_abs_offset_ms", agree.mean_abs_offset() * ms},
                        {"median_abs_offset_ms", off.empty() ? 0.0 : off[off.size() / 2] * ms},
                        {"p90_abs_offset_ms", off.empty() ? 0.0 : off[off.size() * 9 / 10] * ms}};
    std::printf("%s\n", j.dump(1).c_str());
  });
}

// Speed on random batches of a given shape (the same shapes scripts/las_ref.py bench times in
// PyTorch): training steps (forward, backward, Adam) and greedy decoding at batch 1 for a fixed
// number of output steps (no early stop, so both sides do the same work).
void add_las_bench(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("bench", "training and batch-1 decoding speed on random batches (make bench)");
  static LasConfig cfg;
  static int batch = 16, frames = 340, symbols = 68, steps = 10, decodes = 5;
  cmd->add_option("--batch", batch)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--frames", frames)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--symbols", symbols, "output steps per utterance")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--steps", steps, "training steps timed (after one warm-up)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--decodes", decodes, "utterances decoded at batch 1")->capture_default_str()->check(CLI::PositiveNumber);
  add_common(cmd);
  cmd->callback([] {
    Rng rng(1);
    LAS m(cfg, rng);
    std::vector<float> feats((size_t)frames * batch * cfg.feat_dim);
    for (auto& v : feats) v = rng.normal();
    std::vector<Segment> texts(batch, Segment(symbols));
    for (auto& t : texts) for (auto& c : t) c = (uint8_t)(3 + rng.below(26));
    std::vector<int> idx(batch);
    for (int k = 0; k < batch; ++k) idx[k] = k;
    Batch text = make_batch(texts, idx);
    LasInput in;
    in.T = frames; in.B = batch; in.D = cfg.feat_dim; in.feats = feats.data();
    in.frames.assign(batch, frames);
    in.text = &text;
    Adam adam(m.parameters(), 1e-3f);
    LasTrainExtras extras;
    auto now = [] { return std::chrono::steady_clock::now(); };
    train_step(adam, m.loss(in, extras, nullptr, nullptr), 5.0f);  // warm-up
    auto t0 = now();
    for (int s = 0; s < steps; ++s) train_step(adam, m.loss(in, extras, nullptr, nullptr), 5.0f);
    double train_s = std::chrono::duration<double>(now() - t0).count();
    // Greedy decoding at batch 1 for exactly `symbols` steps.
    LasInput one = in;
    one.B = 1;
    one.frames = {frames};
    std::vector<float> f1((size_t)frames * cfg.feat_dim);
    for (int t = 0; t < frames; ++t)
      std::copy_n(feats.data() + (size_t)t * batch * cfg.feat_dim, cfg.feat_dim, f1.data() + (size_t)t * cfg.feat_dim);
    one.feats = f1.data();
    t0 = now();
    for (int d = 0; d < decodes; ++d) {
      NoGrad ng;
      ListenerOut lo = m.listen(one);
      std::vector<Var> state = m.zero_state(1);
      Var ctx = constant(Tensor({1, cfg.listener_out()}));
      std::vector<int32_t> prev{kBos};
      for (int i = 0; i < symbols; ++i) {
        LAS::Step st = m.step(lo, prev, state, ctx);
        state = st.state;
        ctx = st.ctx;
        const float* z = st.logits->value.ptr();
        prev[0] = (int32_t)(std::max_element(z, z + cfg.vocab) - z);
      }
    }
    double dec_s = std::chrono::duration<double>(now() - t0).count();
    nlohmann::json j = {{"impl", "memsig"}, {"threads", get_threads()}, {"batch", batch}, {"frames", frames},
                        {"symbols", symbols}, {"model", m.describe()},
                        {"train_utts_per_s", steps * batch / train_s},
                        {"train_x_realtime", steps * batch * frames * 0.01 / train_s},
                        {"decode_ms_per_utt", 1000 * dec_s / decodes}, {"decode_x_realtime", decodes * frames * 0.01 / dec_s}};
    std::printf("%s\n", j.dump().c_str());
  });
}

}  // namespace

void add_las(CLI::App& app) {
  auto* cmd = app.add_subcommand("las", "Listen-Attend-Spell speech recognition: train, decode, eval, attention");
  cmd->require_subcommand(1);
  add_las_train(cmd);
  add_las_eval(cmd, true);
  add_las_eval(cmd, false);
  add_las_attention(cmd);
  add_las_align(cmd);
  add_las_bench(cmd);
}

}  // namespace memsig::cli
