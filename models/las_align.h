// las_align.h — where each grapheme is spoken, from the LAS model's own joint-CTC head: for audio with
// no synthesis timing (real recordings), the timing the listener's memory signature stands on.
//
// Per utterance: lp = log_softmax(W_c h^{L-1}_u + b_c) over the last listener layer's reduced frames u
// (the CTC head the model trained with, blank = symbol 0), and the transcript's forced alignment
// against it (engine/ctc.h ctc_align: the Viterbi best path). Symbol p owns the reduced frames of its
// run on that path; mapped back to input frames t = u·R .. u·R + R − 1 (R = 2^P, the reduction), it
// gives the same per-frame form as the synthesis timing (corpora/speech_data.h frame_symbols): the
// transcript index spoken at each input frame, −1 on blank frames and past the end.
#pragma once
#include <vector>

#include "engine/ctc.h"
#include "models/las.h"

namespace memsig {

// The alignment of each utterance of the batch (in.text: targets c1..cn </s>; the labels are c1..cn),
// spans in reduced frames. Throws std::invalid_argument naming the model file when the model has no
// CTC head (trained with ctc_weight 0).
std::vector<CtcAlignment> las_ctc_align(const LAS& model, const LasInput& in);

// Throws std::invalid_argument naming the model file when the model has no CTC head.
void require_ctc_head(const LAS& model);

// The alignment as per-input-frame transcript indices ([frames] entries; all −1 when impossible).
std::vector<int> aligned_frame_symbols(const CtcAlignment& a, int reduction, int frames);

}  // namespace memsig

namespace memsig {

// How well an alignment's timing agrees with a reference (synthesis) timing, both per input frame
// (transcript index or −1). Per symbol with a non-empty reference span [s0, s1]: the aligned centre
// c = ⌊(a0 + a1)/2⌋ of its aligned frames [a0, a1] (the frame the probe stands at); inside when
// s0 <= c <= s1; offset |(a0 + a1)/2 − (s0 + s1)/2| frames. Symbols with an empty reference span
// (a space between words that run together) are counted apart.
struct TimingAgreement {
  long symbols = 0, empty_reference = 0, inside = 0, impossible = 0;  // impossible: utterances
  double abs_offset_frames = 0;                                      // summed over the symbols with a span
  std::vector<double> offsets;                                       // each, in frames
  void add(const std::vector<int>& reference, const std::vector<int>& aligned, size_t n_symbols);
  double inside_fraction() const { return symbols > empty_reference ? (double)inside / (symbols - empty_reference) : 0; }
  double mean_abs_offset() const { return offsets.empty() ? 0 : abs_offset_frames / offsets.size(); }
};

}  // namespace memsig
