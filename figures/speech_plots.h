// speech_plots.h — one utterance as a picture: its log mel spectrogram (time across, frequency up),
// under it the transcript's graphemes each placed over its time span (words on alternating bands,
// thin lines at word starts through the spectrogram), and a strip marking the silences found by
// energy (corpora/timing_check.h): the picture of the timing check.
#pragma once
#include <string>
#include <vector>

#include "corpora/speech_data.h"
#include "corpora/timing_check.h"
#include "engine/tensor.h"
#include "figures/render/canvas.h"

namespace memsig {

// fbank: [frames, bins] (10 ms frames, 25 ms windows).
Canvas spectrogram_with_graphemes(const Tensor& fbank, const Utterance& u, const std::vector<Interval>& silences,
                                  const std::string& title);

}  // namespace memsig
