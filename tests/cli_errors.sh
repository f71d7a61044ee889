#!/usr/bin/env bash
# Bad input to the memsig binary: a one-line error naming the file and the problem, a non-zero
# exit, and nothing half-written left behind.
set -uo pipefail
MEMSIG=$1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/expect_error.sh"
for i in $(seq 60); do echo "to be or not to be, that is the question $i"; done > "$dir/text.txt"
"$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --embed 4 --epochs 1 --quiet --out "$dir/m.safetensors" > /dev/null \
  || fail "training a tiny model"
head -c 300 "$dir/m.safetensors" > "$dir/truncated.safetensors"
expect_error "truncated model" "$dir/truncated.safetensors: truncated" -- \
  "$MEMSIG" eval --model "$dir/truncated.safetensors" --text "$dir/text.txt"
expect_error "text file as a model" "$dir/text.txt: not a safetensors file" -- "$MEMSIG" eval --model "$dir/text.txt" --text "$dir/text.txt"
expect_error "missing model" "$dir/none.safetensors: cannot open" -- "$MEMSIG" sample --model "$dir/none.safetensors"
expect_error "missing corpus file" "$dir/none.txt: no such corpus file" -- \
  "$MEMSIG" train --corpus "$dir/none.txt" --out "$dir/new.safetensors"
[ -e "$dir/new.safetensors" ] && fail "a model file was written after a failed start"
printf '$$$\n%%%%\n' > "$dir/empty.txt"
expect_error "text with no symbols" "$dir/empty.txt: no text" -- \
  "$MEMSIG" train --corpus "$dir/empty.txt" --out "$dir/new.safetensors"
echo '{"layers": 3' > "$dir/bad.json"
expect_error "malformed signature.json" "$dir/bad.json: not valid JSON" -- \
  "$MEMSIG" diff "$dir/bad.json" "$dir/bad.json" --out "$dir/d.png"
[ -e "$dir/d.png" ] && fail "a PNG was written after a failed diff"
expect_error "signature of a layer that does not exist" "layer 5 does not exist" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --layers 5 --out "$dir/sig"
expect_error "signature with --patience 0" "--patience must be at least 1" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --patience 0 --out "$dir/sig0"
expect_error "the same layer twice" "layer 1 is named twice" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --layers 1,1 --out "$dir/sig1"
expect_error "a learning rate that is not a number" "--lr must be a positive number" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --embed 4 --lr nan --out "$dir/nan.safetensors"
expect_error "a --log path that cannot be written, found before training" "/nonexistent/curve.csv" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --embed 4 --log /nonexistent/curve.csv --out "$dir/log.safetensors"
expect_error "training that diverges (--lr 1e6, SGD, no clipping)" "training stopped at step" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --embed 4 --optimizer sgd --clip 0 --lr 1e6 --epochs 3 --quiet \
  --out "$dir/div.safetensors"
[ -e "$dir/div.safetensors.ckpt" ] && fail "a checkpoint was written by a diverged run"
head -5 "$dir/text.txt" > "$dir/short.txt"
expect_error "a text too short to split" "$dir/short.txt: only 5 non-empty lines" -- \
  "$MEMSIG" train --corpus "$dir/short.txt" --out "$dir/short.safetensors"
expect_error "a directory as a model" "$dir: is a directory" -- "$MEMSIG" eval --model "$dir" --text "$dir/text.txt"
# memsig las: models, data sets and options.
expect_error "las: a char LM as a LAS model" "$dir/m.safetensors: not a memsig LAS model" -- \
  "$MEMSIG" las eval --model "$dir/m.safetensors" --data "$dir"
expect_error "las: a folder that is not a speech set" "$dir: has no train/ data directory" -- \
  "$MEMSIG" las train --data "$dir" --out "$dir/las.safetensors"
[ -e "$dir/las.safetensors" ] && fail "a LAS model was written after a failed start"
expect_error "las: --pyramid not below --listener-layers" "--pyramid must be below --listener-layers" -- \
  "$MEMSIG" las train --data "$dir" --listener-layers 2 --pyramid 2 --out "$dir/las.safetensors"
expect_error "las: a missing data directory" "$dir/none: no such data directory" -- \
  "$MEMSIG" las train --data "$dir/none" --out "$dir/las.safetensors"
leftovers=$(find "$dir" -name '*.tmp.*')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"
echo "CLI errors: ok"
