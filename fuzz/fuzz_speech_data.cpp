// libFuzzer target: any bytes as the files of a Kaldi data directory (wav.scp, text, utt2spk,
// segments, graphemes, split from the input at NUL bytes) and as a TSV manifest. Reading must end in
// a SpeechData whose utterances are consistent (spans two per symbol, segments in order) or a
// FileError naming the file; frame_symbols must stay inside the transcript.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "corpora/speech_data.h"
#include "engine/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memsig;
  std::string in((const char*)data, size);
  std::vector<std::string> part(5);
  size_t k = 0;
  for (char c : in) {
    if (c == '\0' && k + 1 < part.size()) ++k;
    else part[k] += c;
  }
  auto check = [](const SpeechData& d) {
    for (const Utterance& u : d.utts) {
      if (u.text.empty()) std::abort();
      if (!u.spans.empty() && u.spans.size() != 2 * u.text.size()) std::abort();
      if (u.end >= 0 && u.end <= u.start) std::abort();
      for (int s : frame_symbols(u, 300))
        if (s < -1 || s >= (int)u.text.size()) std::abort();
    }
  };
  try {
    check(parse_data_dir("fuzz", part[0], part[1], part[2], part[3], part[4]));
  } catch (const FileError&) {
  }
  try {
    check(parse_manifest("fuzz.tsv", in));
  } catch (const FileError&) {
  }
  return 0;
}
