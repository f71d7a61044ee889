// asterisk.h — the project's real recorded speech: Debian's asterisk-core-sounds-en-wav (the
// Asterisk telephone prompts read by one professional speaker, Allison Smith, 8 kHz WAV;
// CC-BY-SA-3.0) with the transcripts of asterisk-core-sounds-en (core-sounds-en.txt.gz, lines
// "name: text"), as a Kaldi data directory.
//
// Transcripts: bracketed notes ("[ascending tones]", "at [@]") are removed; a lone digit is written
// as the word the speaker says ("press 1" -> "press one"), '*' as "star" and '#' as "pound"; then
// the usual normalisation. Prompts left with another number (a multi-digit one: "1234", "8500"),
// with nothing to say, or with no recording are skipped and counted.
// Split, fixed: the prompts sorted by name, every fifth (the 5th, 10th, ...) is test, the rest train.
// One speaker, so train and test share her voice; they share no prompt.
#pragma once
#include <string>

namespace memsig {

struct AsteriskReport {
  int prompts = 0, train = 0, test = 0;
  int no_recording = 0, no_speech = 0, multi_digit = 0, no_transcript = 0;
};

constexpr const char* kAsteriskSounds = "/usr/share/asterisk/sounds/en_US_f_Allison";
constexpr const char* kAsteriskText = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz";

// The transcript rule above, on one line's text: "" when the prompt is skipped (*why says which).
std::string asterisk_transcript(const std::string& raw, std::string* why = nullptr);
// Writes OUT/train and OUT/test (wav.scp with absolute paths into the sounds folder, text, utt2spk).
AsteriskReport import_asterisk(const std::string& out, const std::string& sounds = kAsteriskSounds,
                               const std::string& transcripts = kAsteriskText);

}  // namespace memsig
