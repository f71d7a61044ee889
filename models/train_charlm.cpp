#include "models/train_charlm.h"

#include <cmath>
#include <cstdio>

#include "engine/files.h"
#include "models/model_file.h"

namespace memsig {

namespace {

class CharLMTask : public TrainTask {
 public:
  CharLMTask(const Corpus& corpus, const TrainOptions& opt)
      : corpus_(corpus), opt_(opt), init_rng_(opt.seed), model_(opt.model, init_rng_),
        buckets_(length_buckets(corpus.train, opt.batch)) {
    if (corpus.train.empty() || corpus.valid.empty())
      throw std::invalid_argument("corpus '" + corpus.name + "' has an empty " + (corpus.train.empty() ? "train" : "valid") +
                                  " split: too little text to train on");
    // Continue from another model: the same architecture, its weights (a resumed run takes its
    // weights from the checkpoint, but the starting model still identifies the run).
    // Domain λ: one per corpus of the training data (each part of a mixture), counted on its
    // training split; a model continued from a domain-λ model keeps that model's λ of other corpora.
    std::unique_ptr<CharLM> init;
    if (!opt.init_from.empty()) init = load_model(opt.init_from);
    if (model_.domain_lambda()) {
      if (init) model_.domains = init->domains;
      auto parts = corpus.parts_or_self();
      for (size_t p = 0; p < parts.size(); ++p) model_.add_domain(count_domain_lambda(parts[p].name, corpus.part_split((int)p, "train")));
      for (size_t p = 0; p < parts.size(); ++p) part_names_.push_back(parts[p].name);
    }
    if (init) {
      auto without_lambdas = [](std::map<std::string, std::string> m) {  // the λ of other corpora may differ
        m.erase("lambda_domains");
        return m;
      };
      if (without_lambdas(init->file_metadata()) != without_lambdas(model_.file_metadata())) {
        // Name what differs, not just the two descriptions.
        const CharLMConfig &a = init->cfg, &b = model_.cfg;
        std::string what;
        auto differs = [&](const char* name, const std::string& x, const std::string& y) {
          if (x != y) what += (what.empty() ? "" : ", ") + std::string(name) + " " + x + " (this run: " + y + ")";
        };
        differs("cell", cell_name(a.cell), cell_name(b.cell));
        differs("layers", std::to_string(a.layers), std::to_string(b.layers));
        differs("hidden size", std::to_string(a.hidden), std::to_string(b.hidden));
        differs("embedding size", std::to_string(a.embed), std::to_string(b.embed));
        differs("factorized", init->bases() ? "bigram" : "none", model_.bases() ? "bigram" : "none");
        differs("lambda", init->domain_lambda() ? "domain" : "causal", model_.domain_lambda() ? "domain" : "causal");
        if (what.empty()) what = "its file metadata differs";
        throw FileError(opt.init_from, "cannot start from this model: its " + what);
      }
      auto src = init->named_parameters();
      auto dst = model_.named_parameters();
      for (size_t i = 0; i < dst.size(); ++i) dst[i].second->value = src[i].second->value;
      init_digest_ = weights_digest(*init);
    }
  }
  Trainable& model() override { return model_; }
  int batches_per_epoch() const override { return (int)buckets_.size(); }
  int64_t targets_per_epoch() const override { return count_symbols(corpus_.train); }
  Var batch_loss(int index, Rng& dropout_rng, XentStats& stats) override {
    Batch batch = make_batch(corpus_.train, buckets_[index]);
    if (model_.domain_lambda())
      for (int i : batch.segments) batch.domains.push_back(part_names_[corpus_.part_of("train", i)]);
    return model_.loss(batch, &dropout_rng, &stats);
  }
  double validate() override {
    return (model_.domain_lambda() ? evaluate_corpus(model_, corpus_, "valid", opt_.batch) : evaluate(model_, corpus_.valid, opt_.batch)).bpc;
  }
  std::string describe() const override {
    char line[256];
    std::snprintf(line, sizeof line, "corpus %s: %zu/%zu/%zu segments, %lld training chars; %s (embed %d), %lld parameters",
                  corpus_.name.c_str(), corpus_.train.size(), corpus_.valid.size(), corpus_.test.size(),
                  (long long)count_symbols(corpus_.train), model_.describe().c_str(), opt_.model.embed,
                  (long long)model_.parameter_count());
    return line;
  }
  RunSettings run_settings() const override {
    char dropout[32];
    std::snprintf(dropout, sizeof dropout, "%g", opt_.model.dropout);
    // The data is identified by its content (train and valid), not by the name it was found under.
    RunSettings s = {{"run.corpus_digest", segments_digest(corpus_.train) + segments_digest(corpus_.valid)},
                     {"run.batch", std::to_string(opt_.batch)},
                     {"run.dropout", dropout}};
    if (!opt_.init_from.empty()) s["run.init_from"] = opt_.init_from;
    return s;
  }

 private:
  const Corpus& corpus_;
  const TrainOptions& opt_;
  Rng init_rng_;
  CharLM model_;
  std::vector<std::vector<int>> buckets_;
  std::string init_digest_;  // of the starting model's weights
  std::vector<std::string> part_names_;  // domain λ: the corpora of the training data, in order
};

}  // namespace

TrainResult train_charlm(const Corpus& corpus, const TrainOptions& opt) {
  CharLMTask task(corpus, opt);
  return train_loop(task, opt);
}

}  // namespace memsig
