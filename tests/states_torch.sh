#!/usr/bin/env bash
# `memsig states` read back by PyTorch: every layer's h and c at every step of every segment equal
# the states PyTorch's LSTMCell/GRUCell compute from the same model file (the one `memsig eval`
# evaluates), and the symbol/segment/position columns match the split. Skipped (77) without torch.
set -euo pipefail
MEMSIG=$1
REF=$(dirname "$0")/../scripts/torch_ref.py
source "$(dirname "$0")/torch_common.sh"
for i in $(seq 80); do echo "line $i: the quick brown fox, it's $((i * 7)) jumps."; done > "$dir/text.txt"
"$MEMSIG" corpus --corpus "$dir/text.txt" --split valid --out "$dir/valid.ids"
for cell in lstm gru; do
  "$MEMSIG" train --corpus "$dir/text.txt" --cell $cell --layers 2 --hidden 12 --embed 6 --epochs 1 --batch 8 \
    --quiet --out "$dir/m_$cell.safetensors" > /dev/null
  "$MEMSIG" eval --model "$dir/m_$cell.safetensors" --corpus "$dir/text.txt" --split valid > /dev/null
  "$MEMSIG" states --model "$dir/m_$cell.safetensors" --corpus "$dir/text.txt" --split valid --out "$dir/s_$cell.safetensors"
  echo -n "$cell: "
  /usr/bin/python3 "$REF" states --model "$dir/m_$cell.safetensors" --states "$dir/s_$cell.safetensors" --data "$dir/valid.ids"
done
echo "states file read by PyTorch: ok"
