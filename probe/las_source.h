// las_source.h — a LAS model (models/las.h) as a state source for the probe, and a speech set as a
// corpus whose batches carry features.
//
// Entries: "listener 1" .. "listener L" (each BLSTM layer's output [forward h | backward h], 2H wide)
// and "speller query" (s_i, the top speller LSTM's output before attention, Hs wide).
// One row per grapheme c_p of each transcript (position p = 1..n of <s> c1..cn), the same rows for
// every entry, so the signatures of the entries rest on the same test targets and compare pairwise:
//   * a listener layer's row is its state at the (reduced) frame where c_p is spoken: the frame at
//     the middle of c_p's span in the synthesis timing (the `graphemes` file; a zero-length span,
//     a space between words that run together, takes the next spoken frame), divided by the layer's
//     reduction 2^min(k-1, P). An utterance with no synthesis timing (real audio: no graphemes
//     file) is timed by the CTC alignment of its transcript against the model's own joint-CTC head
//     (models/las_align.h): c_p's frame is the middle of the input frames of its run on the best
//     path. A model without a CTC head refuses such data (one-line error naming the model file).
//     The corpus's timing() — "synthesis", "ctc-alignment" or "synthesis+ctc-alignment" (some of
//     each) — is the signature's "timing" setting, so cached signatures never mix the two.
//   * the speller query's row at p is s_p, computed after reading c_p (teacher forcing on the true
//     transcript): it stands at the previous grapheme of the symbol it predicts, like an LM's state.
#pragma once
#include <memory>
#include <string>

#include "corpora/corpus.h"
#include "models/las.h"
#include "probe/state_source.h"

namespace memsig {

std::unique_ptr<StateSource> las_state_source(std::shared_ptr<const LAS> model);
// DIR/train, DIR/valid, DIR/test as a corpus of transcripts with features (normalised as the
// model was trained), named "speech:DIR".
Corpus speech_corpus(std::shared_ptr<const LAS> model, const std::string& dir, bool quiet = false);

}  // namespace memsig
