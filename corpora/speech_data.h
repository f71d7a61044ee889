// speech_data.h — speech corpora as lists of utterances: audio, transcript, speaker and, where known,
// the time span of every grapheme. Two ways in:
//
//   a Kaldi data directory   wav.scp   "REC PATH"  (PATH absolute or relative to the directory; a
//                                       piped command "REC cmd ... |" is refused: not supported)
//                            text      "UTT transcript ..."
//                            utt2spk   "UTT SPEAKER"              (optional; default: speaker = UTT)
//                            segments  "UTT REC START END"        (optional; seconds; END -1 = to the end)
//                            graphemes "UTT S0 E0 S1 E1 ..."      (optional, memsig's: seconds, one pair
//                                       per symbol of the normalised transcript)
//   a TSV manifest           "PATH<TAB>transcript" per line (PATH relative to the manifest's folder)
//
// Transcripts are normalised to the 34 symbols exactly as text corpora (symbols.h). What stops the
// reading with a one-line error naming FILE:LINE: a malformed line, a duplicate id, a piped command,
// a graphemes line whose pair count is not the transcript's length. What skips the utterance and is
// counted (SpeechData::skipped, reported by every command): a transcript with no usable symbol, an
// utterance with no audio entry, an audio entry with no transcript. Audio content problems (empty,
// NaN, too long) are found when the audio is read (feature_cache.h).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "corpora/symbols.h"

namespace memsig {

struct Utterance {
  std::string id, speaker, path;  // path as resolved (absolute or relative to the working directory)
  double start = 0, end = -1;     // seconds within the file; end < 0: to its end
  std::string transcript;         // as written
  Segment text;                   // normalised
  std::vector<float> spans;       // [2·text.size()]: start, end (s) of each symbol; empty when unknown
};

struct SpeechData {
  std::string source;                  // the directory or manifest
  std::vector<Utterance> utts;         // in the order of `text` (or of the manifest)
  std::map<std::string, int> skipped;  // reason -> utterances skipped for it
  std::string skipped_summary() const;  // "3 skipped: 2 no usable symbol, 1 no audio in wav.scp" or ""
  double seconds_known() const;        // sum of end − start where both are known (segments)
};

// A directory (Kaldi) or a file (TSV manifest). FileError naming file and line on malformed input.
SpeechData read_speech_data(const std::string& dir_or_manifest);
// The Kaldi reader on file contents in memory (an absent optional file: empty string), for the
// fuzz target and tests; `dir` resolves relative paths.
SpeechData parse_data_dir(const std::string& dir, const std::string& wav_scp, const std::string& text,
                          const std::string& utt2spk, const std::string& segments, const std::string& graphemes);
SpeechData parse_manifest(const std::string& path, const std::string& content);

// Writes wav.scp, text, utt2spk, spk2utt and (when every utterance has spans) graphemes, each
// atomically and sorted by id as Kaldi's tools expect; paths are written relative to `dir` when they
// lie inside it.
void write_data_dir(const std::string& dir, const std::vector<Utterance>& utts);

// Per feature frame t (centre at t·shift + window/2 seconds from the utterance start), the index in
// `text` of the symbol whose span holds it, or −1 (silence before the first word, past the last).
std::vector<int> frame_symbols(const Utterance& u, int frames, double shift = 0.010, double window = 0.025);

}  // namespace memsig
