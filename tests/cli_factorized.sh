#!/usr/bin/env bash
# The bigram-factorized char LM through the command line like any other model: train
# --factorized bigram, eval, sample, states, signature and diff; its file is refused where a
# setting this build does not compute is asked for.
set -euo pipefail
MEMSIG=$1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/expect_error.sh"
for i in $(seq 1 200); do echo "the cat sat on the mat $((i % 7)) times, then the hat"; done > "$dir/text.txt"
"$MEMSIG" train --corpus "$dir/text.txt" --cell lstm --hidden 16 --embed 8 --factorized bigram --lambda causal \
  --epochs 3 --batch 16 --quiet --threads 1 --out "$dir/f.safetensors" > "$dir/train.log"
grep -q "best valid bpc" "$dir/train.log" || fail "train printed no result"
"$MEMSIG" eval --model "$dir/f.safetensors" --corpus "$dir/text.txt" --split test --json > "$dir/eval.json"
grep -q '"bpc"' "$dir/eval.json" || fail "eval gave no bpc"
"$MEMSIG" sample --model "$dir/f.safetensors" --lines 2 --length 40 --seed 3 > "$dir/sample.txt"
[ -s "$dir/sample.txt" ] || fail "sample wrote nothing"
"$MEMSIG" states --model "$dir/f.safetensors" --corpus "$dir/text.txt" --split test --max-segments 3 --out "$dir/s.safetensors" > /dev/null
[ -s "$dir/s.safetensors" ] || fail "states wrote nothing"
for seed in 1 2; do
  "$MEMSIG" signature --model "$dir/f.safetensors" --corpus "$dir/text.txt" --max-lag 3 --epochs 2 --perfect-memory 0 \
    --max-positions 2000 --seed $seed --quiet --threads 1 --out "$dir/sig$seed" > /dev/null
  [ -s "$dir/sig$seed/signature.json" ] || fail "signature wrote no signature.json"
done
"$MEMSIG" diff "$dir/sig1/signature.json" "$dir/sig2/signature.json" --bootstrap 10 --out "$dir/diff.png" > /dev/null
[ -s "$dir/diff.png" ] || fail "diff wrote no PNG"
expect_error "unknown lambda mode" "--lambda" -- "$MEMSIG" train --corpus "$dir/text.txt" --factorized bigram --lambda domain \
  --out "$dir/x.safetensors"
echo "factorized model through the command line: ok"
