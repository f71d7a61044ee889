#!/usr/bin/env bash
# The bigram-factorized char LM through the command line like any other model: train
# --factorized bigram, eval, sample, states, signature and diff; its file is refused where a
# setting this build does not compute is asked for; --lambda domain goes into the file and every
# command reads the λ of the corpus it is given.
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
grep -aq '"lambda":"causal"' "$dir/f.safetensors" || fail "the causal model's metadata lacks lambda=causal"
expect_error "unknown lambda mode" "--lambda" -- "$MEMSIG" train --corpus "$dir/text.txt" --factorized bigram --lambda trigram \
  --out "$dir/x.safetensors"
expect_error "domain lambda without factorized" "--lambda domain needs --factorized bigram" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --lambda domain --out "$dir/x.safetensors"

# Domain lambda: the mode and each training corpus's counts go in the model file, and every command
# given a corpus reads that corpus's lambda (a mixture of two files: each part's own).
for i in $(seq 1 100); do echo "a dog and a cat $((i % 5))"; done > "$dir/other.txt"
"$MEMSIG" train --corpus "$dir/text.txt+$dir/other.txt" --cell gru --hidden 12 --embed 8 --factorized bigram --lambda domain \
  --epochs 2 --batch 16 --quiet --threads 1 --out "$dir/d.safetensors" > "$dir/train_d.log"
grep -q "best valid bpc" "$dir/train_d.log" || fail "domain-lambda train printed no result"
grep -aq '"lambda":"domain"' "$dir/d.safetensors" || fail "the domain model's metadata lacks lambda=domain"
grep -aq '"lambda_window":"training split"' "$dir/d.safetensors" || fail "the domain model's metadata lacks its window"
grep -aq 'corpus\\":\\"text.txt' "$dir/d.safetensors" || fail "the domain model stores no lambda for text.txt"
grep -aq 'corpus\\":\\"other.txt' "$dir/d.safetensors" || fail "the domain model stores no lambda for other.txt"
for c in "$dir/text.txt" "$dir/other.txt" "$dir/text.txt+$dir/other.txt"; do
  "$MEMSIG" eval --model "$dir/d.safetensors" --corpus "$c" --split test --json > "$dir/eval_d.json"
  grep -q '"bpc"' "$dir/eval_d.json" || fail "eval of the domain model on $c gave no bpc"
done
"$MEMSIG" sample --model "$dir/d.safetensors" --corpus other.txt --lines 2 --length 30 --seed 3 > "$dir/sample_d.txt"
[ -s "$dir/sample_d.txt" ] || fail "sample of the domain model wrote nothing"
"$MEMSIG" states --model "$dir/d.safetensors" --corpus "$dir/other.txt" --split test --max-segments 3 --out "$dir/sd.safetensors" > /dev/null
[ -s "$dir/sd.safetensors" ] || fail "states of the domain model wrote nothing"
"$MEMSIG" signature --model "$dir/d.safetensors" --corpus "$dir/text.txt" --max-lag 3 --epochs 2 --perfect-memory 0 \
  --max-positions 2000 --seed 1 --quiet --threads 1 --out "$dir/sigd" > /dev/null
[ -s "$dir/sigd/signature.json" ] || fail "signature of the domain model wrote no signature.json"
for i in $(seq 1 40); do echo "something else entirely $i"; done > "$dir/third.txt"
expect_error "domain model on a corpus it has no lambda for" "none for 'third.txt'" -- \
  "$MEMSIG" eval --model "$dir/d.safetensors" --corpus "$dir/third.txt" --split test
expect_error "domain model sampled without a corpus" "give --corpus" -- \
  "$MEMSIG" sample --model "$dir/d.safetensors" --lines 1 --length 10
expect_error "domain model probed on a mixture" "a mixture" -- \
  "$MEMSIG" signature --model "$dir/d.safetensors" --corpus "$dir/text.txt+$dir/other.txt" --max-lag 2 --epochs 1 \
  --perfect-memory 0 --quiet --threads 1 --out "$dir/sigm"
echo "factorized model through the command line: ok"
