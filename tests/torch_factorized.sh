#!/usr/bin/env bash
# The bigram-factorized char LM, memsig <-> PyTorch (scripts/torch_factorized.py): models written
# by PyTorch (LSTM and GRU, 2 layers) give the same bpc in both, and the same bits and every
# parameter's gradient on one batch (tests/factorized_grads.cpp writes memsig's); a model trained
# by memsig gives the same bpc in both.
# Skipped (exit 77) when python3-torch is not installed.
set -euo pipefail
MEMSIG=$1
GRADS=$2
REF=$(dirname "$0")/../scripts/torch_factorized.py
source "$(dirname "$0")/torch_common.sh"
write_text "$dir/text.txt" 5 300 10
"$MEMSIG" corpus --corpus "$dir/text.txt" --split valid --out "$dir/valid.ids"
for cell in lstm gru; do
  echo "$cell: factorized model written by PyTorch"
  /usr/bin/python3 "$REF" export --cell $cell --layers 2 --hidden 12 --embed 6 --seed 3 --out "$dir/f_$cell.safetensors"
  echo " bpc on valid, both"
  a=$("$MEMSIG" eval --model "$dir/f_$cell.safetensors" --corpus "$dir/text.txt" --split valid --json | bpc)
  b=$(/usr/bin/python3 "$REF" eval --model "$dir/f_$cell.safetensors" --data "$dir/valid.ids" | bpc)
  close "$a" "$b"
  echo " one batch of 12 segments: bits and every gradient"
  "$GRADS" "$dir/f_$cell.safetensors" "$dir/text.txt" valid 12 "$dir/g_$cell.safetensors" > /dev/null
  /usr/bin/python3 "$REF" grads --model "$dir/f_$cell.safetensors" --data "$dir/valid.ids" --n 12 \
    --compare "$dir/g_$cell.safetensors"
done
echo "lstm: factorized model trained by memsig (train --factorized bigram), evaluated by both"
"$MEMSIG" train --corpus "$dir/text.txt" --cell lstm --layers 2 --hidden 12 --embed 6 --factorized bigram --epochs 2 --batch 16 \
  --quiet --threads 1 --out "$dir/m.safetensors" > /dev/null
a=$("$MEMSIG" eval --model "$dir/m.safetensors" --corpus "$dir/text.txt" --split valid --json | bpc)
b=$(/usr/bin/python3 "$REF" eval --model "$dir/m.safetensors" --data "$dir/valid.ids" | bpc)
close "$a" "$b"
echo "PyTorch equivalence of the factorized model: ok"
