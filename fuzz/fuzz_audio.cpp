// libFuzzer target: any bytes as an audio file (libsndfile decides the format: WAV, FLAC, AIFF, ...).
// Decoding must end in finite 16 kHz samples or an AudioError naming the file; never a crash or a
// huge allocation (the length limit is checked from the header before reading).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "corpora/audio.h"
#include "corpora/fbank.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memsig;
  try {
    std::vector<float> x = decode_audio(std::string((const char*)data, size), "fuzz.wav");
    for (float v : x)
      if (!std::isfinite(v)) std::abort();
    if (x.size() <= 16000 * 5) {  // features of short ones, too
      FbankOptions o;
      o.num_mel_bins = 40;
      Tensor f = Fbank(o).compute(x);
      for (float v : f.data)
        if (!std::isfinite(v)) std::abort();
    }
  } catch (const AudioError&) {
  } catch (const FileError&) {
  }
  return 0;
}
