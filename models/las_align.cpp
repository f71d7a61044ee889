#include "models/las_align.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops.h"

namespace memsig {

void require_ctc_head(const LAS& model) {
  if (model.cfg.ctc_weight <= 0 || !model.ctc_w)
    throw std::invalid_argument((model.file.empty() ? std::string("the LAS model") : model.file) +
                                ": trained without CTC (ctc_weight 0), so it has no CTC head to align speech that has "
                                "no synthesis timing (no graphemes file)");
}

std::vector<CtcAlignment> las_ctc_align(const LAS& model, const LasInput& in) {
  require_ctc_head(model);
  if (!in.text || in.text->B != in.B) throw std::invalid_argument("las_ctc_align: the batch has no transcripts");
  NoGrad no_grad;
  ListenerOut lo = model.listen(in);
  const int B = in.B;
  const int64_t V = model.cfg.vocab;
  Tensor logits = linear(lo.layers.back(), model.ctc_w, model.ctc_b)->value;  // [Tr*B, V] time-major
  std::vector<CtcAlignment> out;
  std::vector<float> lp;
  for (int b = 0; b < B; ++b) {
    const int Tb = lo.lengths.back()[b];
    lp.assign((size_t)Tb * V, 0.0f);
    for (int u = 0; u < Tb; ++u) log_softmax_rows(logits.ptr() + ((size_t)u * B + b) * V, 1, V, lp.data() + (size_t)u * V);
    std::vector<int32_t> labels;
    const Batch& tb = *in.text;
    for (int i = 0; i + 1 < tb.lengths[b]; ++i) labels.push_back(tb.targets[(size_t)i * B + b]);
    out.push_back(ctc_align(lp.data(), Tb, (int)V, labels, 0));
  }
  return out;
}

std::vector<int> aligned_frame_symbols(const CtcAlignment& a, int reduction, int frames) {
  std::vector<int> out(std::max(frames, 0), -1);
  if (!a.possible) return out;
  for (size_t p = 0; p < a.first.size(); ++p)
    for (int t = a.first[p] * reduction; t < (a.last[p] + 1) * reduction && t < frames; ++t) out[t] = (int)p;
  return out;
}

}  // namespace memsig

namespace memsig {

void TimingAgreement::add(const std::vector<int>& reference, const std::vector<int>& aligned, size_t n) {
  std::vector<int> r0(n, -1), r1(n, -1), a0(n, -1), a1(n, -1);
  auto spans = [n](const std::vector<int>& fs, std::vector<int>& f, std::vector<int>& l) {
    for (int t = 0; t < (int)fs.size(); ++t)
      if (fs[t] >= 0 && fs[t] < (int)n) {
        if (f[fs[t]] < 0) f[fs[t]] = t;
        l[fs[t]] = t;
      }
  };
  spans(reference, r0, r1);
  spans(aligned, a0, a1);
  if (n > 0 && a0[0] < 0) {  // the alignment was impossible
    ++impossible;
    return;
  }
  for (size_t p = 0; p < n; ++p) {
    ++symbols;
    if (r0[p] < 0) {
      ++empty_reference;
      continue;
    }
    const int c = (a0[p] + a1[p]) / 2;
    if (c >= r0[p] && c <= r1[p]) ++inside;
    double off = std::abs((a0[p] + a1[p]) / 2.0 - (r0[p] + r1[p]) / 2.0);
    abs_offset_frames += off;
    offsets.push_back(off);
  }
}

}  // namespace memsig
