#include "models/model_file.h"

#include <nlohmann/json.hpp>

#include "engine/files.h"

namespace memsig {

static int meta_int(const std::string& path, const SafeTensors& st, const std::string& key) {
  auto it = st.metadata.find(key);
  if (it == st.metadata.end()) throw FileError(path, "metadata has no '" + key + "'");
  try {
    size_t used = 0;
    int v = std::stoi(it->second, &used);
    if (used != it->second.size() || v <= 0) throw std::invalid_argument("");
    return v;
  } catch (const std::exception&) {
    throw FileError(path, "metadata '" + key + "' is not a positive integer: '" + it->second + "'");
  }
}

std::unique_ptr<CharLM> model_from(const std::string& path, const SafeTensors& st) {
  auto fmt = st.metadata.find("format");
  if (fmt == st.metadata.end() || fmt->second != "memsig-charlm")
    throw FileError(path, "not a memsig char LM (metadata format must be 'memsig-charlm')");
  CharLMConfig cfg;
  auto cell = st.metadata.find("cell");
  if (cell == st.metadata.end()) throw FileError(path, "metadata has no 'cell'");
  try {
    cfg.cell = parse_cell(cell->second);
  } catch (const std::invalid_argument& e) {
    throw FileError(path, std::string("metadata 'cell': ") + e.what());
  }
  cfg.layers = meta_int(path, st, "layers");
  cfg.hidden = meta_int(path, st, "hidden");
  cfg.embed = meta_int(path, st, "embed");
  auto sym = st.metadata.find("symbols");
  if (sym == st.metadata.end()) throw FileError(path, "metadata has no 'symbols'");
  try {
    if (nlohmann::json::parse(sym->second).get<std::vector<std::string>>() != symbol_names())
      throw FileError(path, "symbol table differs from memsig's 34 symbols");
  } catch (const nlohmann::json::exception&) {
    throw FileError(path, "metadata 'symbols' is not a JSON array of strings");
  }
  Rng rng(0);
  auto model = std::make_unique<CharLM>(cfg, rng);
  for (auto& [name, p] : model->named_parameters()) {
    const Tensor& t = st.at(path, name);
    if (t.shape != p->value.shape)
      throw FileError(path, "tensor '" + name + "' has shape " + t.shape_str() + ", expected " + p->value.shape_str());
    p->value.data = t.data;
  }
  return model;
}

std::unique_ptr<CharLM> load_model(const std::string& path) { return model_from(path, load_safetensors(path)); }

}  // namespace memsig
