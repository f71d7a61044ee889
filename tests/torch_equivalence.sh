#!/usr/bin/env bash
# memsig <-> PyTorch under the model-file contract: a model trained by memsig gives the same bpc
# in PyTorch, and a model written by PyTorch gives the same bpc in memsig (LSTM and GRU, 2 layers).
# Skipped (exit 77) when python3-torch is not installed.
set -euo pipefail
MEMSIG=$1
REF=$(dirname "$0")/../scripts/torch_ref.py
source "$(dirname "$0")/torch_common.sh"
write_text "$dir/text.txt" 4 400 12
"$MEMSIG" corpus --corpus "$dir/text.txt" --split valid --out "$dir/valid.ids"
for cell in lstm gru; do
  echo "$cell: trained by memsig, evaluated by both"
  "$MEMSIG" train --corpus "$dir/text.txt" --cell $cell --layers 2 --hidden 24 --embed 8 --epochs 2 --batch 16 \
    --quiet --out "$dir/m_$cell.safetensors" > /dev/null
  a=$("$MEMSIG" eval --model "$dir/m_$cell.safetensors" --corpus "$dir/text.txt" --split valid --json | bpc)
  b=$(/usr/bin/python3 "$REF" eval --model "$dir/m_$cell.safetensors" --data "$dir/valid.ids" | bpc)
  close "$a" "$b"
  echo "$cell: written by PyTorch, evaluated by both"
  /usr/bin/python3 "$REF" export --cell $cell --layers 2 --hidden 24 --embed 8 --seed 3 --out "$dir/t_$cell.safetensors"
  a=$("$MEMSIG" eval --model "$dir/t_$cell.safetensors" --corpus "$dir/text.txt" --split valid --json | bpc)
  b=$(/usr/bin/python3 "$REF" eval --model "$dir/t_$cell.safetensors" --data "$dir/valid.ids" | bpc)
  close "$a" "$b"
done
echo "PyTorch equivalence: ok"
