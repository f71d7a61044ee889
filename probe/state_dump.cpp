#include "probe/state_dump.h"

#include <nlohmann/json.hpp>

#include "engine/safetensors.h"

namespace memsig {

StateDumpInfo dump_states(const CharLM& model, const std::vector<Segment>& segs, const std::string& path,
                          const std::map<std::string, std::string>& metadata, int batch) {
  const int L = model.cfg.layers, H = model.cfg.hidden;
  const bool with_c = has_cell_state(model.cfg.cell);
  std::vector<int64_t> first_row(segs.size() + 1, 0);  // segment i's rows start here
  for (size_t i = 0; i < segs.size(); ++i) first_row[i + 1] = first_row[i] + (int64_t)segs[i].size() + 1;
  const int64_t N = first_row.back();

  std::vector<SafetensorsStream::Decl> decls = {{"symbol", "I32", {N}}, {"segment", "I32", {N}}, {"position", "I32", {N}}};
  for (int l = 1; l <= L; ++l) {
    decls.push_back({"layer" + std::to_string(l) + ".h", "F32", {N, H}});
    if (with_c) decls.push_back({"layer" + std::to_string(l) + ".c", "F32", {N, H}});
  }
  auto meta = metadata;
  meta["format"] = "memsig-states";
  meta["model"] = model.describe();
  meta["cell"] = cell_name(model.cfg.cell);
  meta["layers"] = std::to_string(L);
  meta["hidden"] = std::to_string(H);
  meta["segments"] = std::to_string(segs.size());
  meta["rows"] = std::to_string(N);
  meta["symbols"] = nlohmann::json(symbol_names()).dump();
  SafetensorsStream out(path, decls, meta);

  // Index columns, in segment order.
  std::vector<int32_t> sym, seg, pos;
  for (size_t i = 0; i < segs.size(); ++i)
    for (size_t t = 0; t <= segs[i].size(); ++t) {
      sym.push_back(t == 0 ? kBos : segs[i][t - 1]);
      seg.push_back((int32_t)i);
      pos.push_back((int32_t)t);
    }
  out.write("symbol", 0, sym.data(), N);
  out.write("segment", 0, seg.data(), N);
  out.write("position", 0, pos.data(), N);

  NoGrad no_grad;
  for (auto& idx : length_buckets(segs, batch)) {  // batches of similar length; rows go to their place
    Batch b = make_batch(segs, idx);
    LMForward f = model.forward(b.inputs, b.T, b.B, nullptr);
    std::vector<float> rows;
    for (int l = 0; l < L; ++l) {
      const RnnStates& st = *f.states[l];
      for (const char* kind : {"h", "c"}) {
        if (kind[0] == 'c' && !with_c) continue;
        std::string name = "layer" + std::to_string(l + 1) + "." + kind;
        for (int k = 0; k < b.B; ++k) {
          int n1 = b.lengths[k];  // n + 1 positions
          rows.resize((size_t)n1 * H);
          for (int t = 0; t < n1; ++t) {
            const float* src = (kind[0] == 'h' ? st.h_at(t) : st.c_at(t)) + (size_t)k * H;
            std::copy(src, src + H, rows.data() + (size_t)t * H);
          }
          out.write(name, first_row[idx[k]] * H, rows.data(), (int64_t)n1 * H);
        }
      }
    }
  }
  out.finish();
  StateDumpInfo info;
  info.rows = N;
  info.segments = (int64_t)segs.size();
  info.bytes = N * 4 * (3 + (int64_t)L * H * (with_c ? 2 : 1));
  return info;
}

}  // namespace memsig
