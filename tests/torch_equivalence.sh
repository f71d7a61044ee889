#!/usr/bin/env bash
# memsig <-> PyTorch under the model-file contract: a model trained by memsig gives the same bpc
# in PyTorch, and a model written by PyTorch gives the same bpc in memsig (LSTM and GRU, 2 layers).
# Skipped (exit 77) when python3-torch is not installed.
set -euo pipefail
MEMSIG=$1
REF=$(dirname "$0")/../scripts/torch_ref.py
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "python3-torch not installed: skipped"; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$dir/text.txt" <<'PY'
import random, sys
random.seed(4)
words = "the cat sat on a mat and it's 42 days, or not. who knows? alas poor yorick".split()
with open(sys.argv[1], "w") as f:
    for _ in range(400):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(1, 12))) + "\n")
PY
"$MEMSIG" corpus --corpus "$dir/text.txt" --split valid --out "$dir/valid.ids"
close() {  # |a - b| < 2e-5 bpc
  /usr/bin/python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'  memsig {a:.6f}  torch {b:.6f}'); sys.exit(abs(a-b) > 2e-5)" "$1" "$2"
}
bpc() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['bpc'])"; }
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
