#!/usr/bin/env bash
# memsig's Kaldi filterbanks against torchaudio.compliance.kaldi.fbank (python3-torchaudio 0.13) on
# the same audio: synthetic speech-like audio written by sox at 16 kHz (16-bit, read by both), an
# asterisk prompt (8 kHz, resampled by memsig; torchaudio gets memsig's samples) when installed; 40
# and 80 bins, with and without the energy column. Within 1e-3 relative (scripts/fbank_ref.py).
# Skipped (77) without torchaudio or sox.
set -euo pipefail
MEMSIG=$1
REF=$(dirname "$0")/../scripts/fbank_ref.py
/usr/bin/python3 -c "import torchaudio" 2>/dev/null || { echo "python3-torchaudio not installed: skipped"; exit 77; }
command -v sox > /dev/null || { echo "sox not installed: skipped"; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
# A chirp and noise with silence between: loud and quiet frames, 1.5 s.
sox -n -r 16000 -b 16 "$dir/a.wav" synth 0.6 sine 200-3000 synth 0.6 whitenoise mix pad 0 0.3 gain -6 \
  : synth 0.6 pinknoise gain -20 2> /dev/null || sox -n -r 16000 -b 16 "$dir/a.wav" synth 1.5 sine 200-3000 gain -6
files=("$dir/a.wav")
ast=/usr/share/asterisk/sounds/en_US_f_Allison/auth-thankyou.wav
[ -f "$ast" ] && files+=("$ast")
specs=()
n=0
for f in "${files[@]}"; do
  for bins in 40 80; do
    for energy in "" energy; do
      n=$((n + 1))
      "$MEMSIG" speech fbank --audio "$f" --mel-bins $bins ${energy:+--energy} --out "$dir/f$n.safetensors" > /dev/null
      spec="$dir/f$n.safetensors:$bins:$energy"
      [ "$f" = "$dir/a.wav" ] && spec="$spec:$f"
      specs+=("$spec")
    done
  done
done
/usr/bin/python3 "$REF" "${specs[@]}"
echo "fbank equals torchaudio's kaldi.fbank: ok"
