#!/usr/bin/env bash
# memsig speech on bad input: one line naming the file, non-zero exit; skipped utterances counted.
set -euo pipefail
MEMSIG=$1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/expect_error.sh"
command -v sox > /dev/null || { echo "sox not installed: skipped"; exit 77; }
mkdir -p "$dir/d/wav"
sox -n -r 16000 -b 16 "$dir/d/wav/a.wav" synth 0.5 sine 300
sox -n -r 8000 -b 16 "$dir/d/wav/b.flac" synth 0.5 sine 300
printf 'a wav/a.wav\nb wav/b.flac\n' > "$dir/d/wav.scp"
printf 'a Hello there\nb Good-bye, 2 you\nc ((()))\n' > "$dir/d/text"
"$MEMSIG" speech stats --data "$dir/d" --mel-bins 40 > "$dir/out"
grep -q "2 utterances, 2 speakers" "$dir/out" || { cat "$dir/out"; fail "stats of a good directory"; }
grep -q "1 utterances skipped (1 no usable symbol in the transcript)" "$dir/out" || { cat "$dir/out"; fail "skip not reported"; }
echo "ok   stats: $(head -1 "$dir/out")"
# Features cached: the second run reads them.
"$MEMSIG" speech fbank --data "$dir/d" --mel-bins 40 | grep -q "read from" || fail "feature cache not used"
echo "ok   fbank cache read back"
cp -r "$dir/d" "$dir/p"; printf 'a sox wav/a.wav -t wav - |\n' > "$dir/p/wav.scp"
expect_error "piped wav.scp" "wav.scp:1: piped command entries are not supported" -- "$MEMSIG" speech stats --data "$dir/p"
cp -r "$dir/d" "$dir/m"; rm "$dir/m/wav/b.flac"
expect_error "file missing from wav.scp" "m/wav/b.flac: " -- "$MEMSIG" speech fbank --data "$dir/m" --no-cache
cp -r "$dir/d" "$dir/t"; echo "not audio" > "$dir/t/wav/b.flac"
expect_error "not audio" "t/wav/b.flac: cannot read as audio" -- "$MEMSIG" speech fbank --data "$dir/t" --no-cache
# Empty audio: a 0-sample WAV, and a 0-sample FLAC (whose header cannot say its length).
cp -r "$dir/d" "$dir/e"; sox -n -r 16000 -b 16 "$dir/e/wav/a.wav" trim 0 0; sox -n -r 16000 -b 16 "$dir/e/wav/b.flac" trim 0 0
"$MEMSIG" speech fbank --data "$dir/e" --no-cache > "$dir/out" 2> "$dir/err" || { cat "$dir/err"; fail "empty audio stopped the run"; }
grep -q "fbank: 2 utterances skipped (2 empty audio)" "$dir/out" || { cat "$dir/out" "$dir/err"; fail "empty audio not counted"; }
echo "ok   empty audio skipped and counted: $(grep 'fbank:' "$dir/out")"
mkdir "$dir/x"
expect_error "no wav.scp" "x/wav.scp: missing" -- "$MEMSIG" speech stats --data "$dir/x"
expect_error "no data" "nowhere: no such data directory or manifest" -- "$MEMSIG" speech stats --data "$dir/nowhere"
expect_error "unknown utterance" "no utterance 'zz'" -- "$MEMSIG" speech spectrogram --data "$dir/d" --utt zz --out "$dir/s.png"
expect_error "no timing" "no utterance has grapheme timing" -- "$MEMSIG" speech timing --data "$dir/d"
"$MEMSIG" speech spectrogram --data "$dir/d" --out "$dir/s.png" > /dev/null
[ -s "$dir/s.png" ] || fail "no spectrogram"
echo "ok   spectrogram written"
echo "speech command line: ok"
