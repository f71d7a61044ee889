#include "models/model_file.h"

#include <nlohmann/json.hpp>

#include "models/bigram_lambda.h"

#include "engine/files.h"

namespace memsig {

// A whole-string integer in 1..max.
static int meta_int(const std::string& path, const SafeTensors& st, const std::string& key, int max) {
  auto it = st.metadata.find(key);
  if (it == st.metadata.end()) throw FileError(path, "metadata has no '" + key + "'");
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used != it->second.size() || v <= 0) throw std::invalid_argument("");
    if (v > max) throw FileError(path, "metadata '" + key + "' = " + it->second + " is over memsig's limit of " + std::to_string(max));
    return (int)v;
  } catch (const std::logic_error&) {
    throw FileError(path, "metadata '" + key + "' is not a positive integer: '" + it->second + "'");
  }
}

void check_symbols_metadata(const std::string& path, const SafeTensors& st) {
  auto sym = st.metadata.find("symbols");
  if (sym == st.metadata.end()) throw FileError(path, "metadata has no 'symbols'");
  try {
    if (nlohmann::json::parse(sym->second).get<std::vector<std::string>>() != symbol_names())
      throw FileError(path, "symbol table differs from memsig's 34 symbols");
  } catch (const nlohmann::json::exception&) {
    throw FileError(path, "metadata 'symbols' is not a JSON array of strings");
  }
}

void check_tensor_shapes(const std::string& path, const SafeTensors& st,
                         const std::vector<std::pair<std::string, std::vector<int64_t>>>& shapes) {
  for (auto& [name, shape] : shapes) {
    const Tensor& t = st.at(path, name);
    if (t.shape != shape)
      throw FileError(path, "tensor '" + name + "' has shape " + t.shape_str() + ", expected " + Tensor::shape_str(shape));
  }
}

// 'lambda_domains': a JSON array of {corpus, train_digest, bigrams, index [ascending bases], count}.
static std::vector<DomainLambda> read_domain_lambdas(const std::string& path, const SafeTensors& st) {
  auto it = st.metadata.find("lambda_domains");
  if (it == st.metadata.end()) throw FileError(path, "domain-lambda model: metadata has no 'lambda_domains'");
  std::vector<DomainLambda> out;
  try {
    auto j = nlohmann::json::parse(it->second);
    if (!j.is_array() || j.empty()) throw FileError(path, "metadata 'lambda_domains' is not a non-empty JSON array");
    for (auto& e : j) {
      DomainLambda d;
      d.corpus = e.at("corpus").get<std::string>();
      d.train_digest = e.at("train_digest").get<std::string>();
      d.bigrams = e.at("bigrams").get<int64_t>();
      d.index = e.at("index").get<std::vector<int>>();
      d.count = e.at("count").get<std::vector<int64_t>>();
      int64_t sum = 0;
      bool ok = d.index.size() == d.count.size() && !d.corpus.empty();
      for (size_t i = 0; ok && i < d.index.size(); ++i) {
        ok = d.index[i] >= 0 && d.index[i] < kBigramBases && (i == 0 || d.index[i] > d.index[i - 1]) && d.count[i] > 0;
        sum += ok ? d.count[i] : 0;
      }
      if (!ok || sum != d.bigrams || d.bigrams <= 0)
        throw FileError(path, "metadata 'lambda_domains': corpus '" + d.corpus +
                                  "' needs ascending bases in 0..1155 with positive counts summing to 'bigrams'");
      out.push_back(std::move(d));
    }
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, std::string("metadata 'lambda_domains' is not the expected JSON (") + e.what() + ")");
  }
  return out;
}

std::unique_ptr<CharLM> model_from(const std::string& path, const SafeTensors& st) {
  auto fmt = st.metadata.find("format");
  if (fmt == st.metadata.end() || (fmt->second != "memsig-charlm" && fmt->second != kFactorizedFormat))
    throw FileError(path, std::string("not a memsig char LM (metadata format must be 'memsig-charlm' or '") +
                              kFactorizedFormat + "')");
  CharLMConfig cfg;
  std::vector<DomainLambda> domains;
  if (fmt->second == kFactorizedFormat) {
    // Only what this build computes: bigram bases with causal λ (per segment, from a zero prior)
    // or domain λ (each training corpus's counts, stored in 'lambda_domains').
    auto lambda = st.metadata.find("lambda");
    if (lambda == st.metadata.end()) throw FileError(path, "factorized model: metadata has no 'lambda'");
    if (lambda->second != "causal" && lambda->second != "domain")
      throw FileError(path, "factorized model: metadata 'lambda' is '" + lambda->second + "'; memsig reads only 'causal' or 'domain'");
    std::map<std::string, std::string> expect{{"factorized", "bigram"}, {"bases", std::to_string(kBigramBases)}};
    if (lambda->second == "causal") {
      expect["lambda_window"] = "segment";
      expect["lambda_prior"] = "zero";
    } else {
      expect["lambda_window"] = "training split";
      cfg.lambda = LambdaMode::Domain;
    }
    for (auto& [key, value] : expect) {
      auto it = st.metadata.find(key);
      if (it == st.metadata.end()) throw FileError(path, "factorized model: metadata has no '" + key + "'");
      if (it->second != value)
        throw FileError(path, "factorized model: metadata '" + key + "' is '" + it->second + "'; memsig reads only '" + value + "'");
    }
    if (cfg.lambda == LambdaMode::Domain) domains = read_domain_lambdas(path, st);
    cfg.factorized = Factorized::Bigram;
  }
  auto cell = st.metadata.find("cell");
  if (cell == st.metadata.end()) throw FileError(path, "metadata has no 'cell'");
  try {
    cfg.cell = parse_cell(cell->second);
  } catch (const std::invalid_argument& e) {
    throw FileError(path, std::string("metadata 'cell': ") + e.what());
  }
  cfg.layers = meta_int(path, st, "layers", kMaxLayers);
  cfg.hidden = meta_int(path, st, "hidden", kMaxWidth);
  cfg.embed = meta_int(path, st, "embed", kMaxWidth);
  check_symbols_metadata(path, st);
  // Every tensor the metadata implies must be in the file with its shape before anything is
  // allocated: sizes then rest on bytes the file really has, not on what its metadata claims.
  check_tensor_shapes(path, st, CharLM::parameter_shapes(cfg));
  Rng rng(0);
  auto model = std::make_unique<CharLM>(cfg, rng);
  for (auto& [name, p] : model->named_parameters()) p->value.data = st.at(path, name).data;
  model->domains = std::move(domains);
  return model;
}

std::unique_ptr<CharLM> load_model(const std::string& path) { return model_from(path, load_safetensors(path)); }

}  // namespace memsig
