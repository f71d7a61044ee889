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
expect_error "signature of a layer that does not exist" "entry 5 does not exist (the model has 1 entry: layer 1)" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --layers 5 --out "$dir/sig"
expect_error "signature with --patience 0" "--patience: '0' must be an integer from 1" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --patience 0 --out "$dir/sig0"
expect_error "the same layer twice" "entry 1 (layer 1) is named twice" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --layers 1,1 --out "$dir/sig1"
expect_error "a learning rate that is not a number" "--lr: 'nan' must be a number above 0" -- \
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

# --- second reliability round (issue 16) ---
# Strict numbers: the whole argument, of the option's kind, within its range; short numbers in messages.
expect_error "sampling at temperature nan" "--temperature: 'nan' must be a number above 0" -- \
  "$MEMSIG" sample --model "$dir/m.safetensors" --temperature nan
expect_error "a negative sample length" "--length: '-5' must be an integer from 1" -- "$MEMSIG" sample --model "$dir/m.safetensors" --length -5
expect_error "a negative number of lines" "--lines: '-3' must be an integer from 1" -- "$MEMSIG" sample --model "$dir/m.safetensors" --lines -3
expect_error "a count written as 1e2" "--lines: '1e2' must be an integer" -- "$MEMSIG" sample --model "$dir/m.safetensors" --lines 1e2
expect_error "a hexadecimal count" "--lines: '0x10' must be an integer" -- "$MEMSIG" sample --model "$dir/m.safetensors" --lines 0x10
expect_error "a negative seed" "--seed: '-1' must be an integer of at least 0" -- "$MEMSIG" sample --model "$dir/m.safetensors" --seed -1
expect_error "an infinite temperature, printed short" "and up to 100" -- "$MEMSIG" sample --model "$dir/m.safetensors" --temperature 1e999
grep -q "[0-9]\{30\}" "$dir/err" && fail "a range printed with 30 digits"
expect_error "bench config 1x1e2" "config 'lstm:1x1e2' is not CELL:LAYERSxHIDDEN" -- "$MEMSIG" bench --configs lstm:1x1e2
expect_error "bench config 1.5x16" "config '1.5x16' is not CELL:LAYERSxHIDDEN" -- "$MEMSIG" bench --configs 1.5x16
expect_error "bench config 1x16junk" "config 'lstm:1x16junk' is not CELL:LAYERSxHIDDEN" -- "$MEMSIG" bench --configs lstm:1x16junk
expect_error "bench configs ,,," "--configs ',,,' has an empty item" -- "$MEMSIG" bench --configs ,,,
expect_error "bench with 100000 layers" "layers 100000 is outside 1..16" -- "$MEMSIG" bench --configs lstm:100000x16
expect_error "bench with 100000 units" "hidden size 100000 is outside 1..8192" -- "$MEMSIG" bench --configs lstm:1x100000
expect_error "bench with a huge embedding" "--embed: '2000000000' must be an integer from 1 to 4096" -- "$MEMSIG" bench --embed 2000000000
# Outputs never destroy inputs, and are regular files or new paths.
cp "$dir/text.txt" "$dir/keep.txt"; cp "$dir/m.safetensors" "$dir/keep.safetensors"
expect_error "states --out the model" "--out names the command's input (--model)" -- \
  "$MEMSIG" states --model "$dir/m.safetensors" --text "$dir/text.txt" --out "$dir/m.safetensors"
expect_error "train --out the corpus" "--out names the command's input (--corpus)" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --out "$dir/text.txt"
expect_error "train --log the corpus" "--log names the command's input (--corpus)" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --out "$dir/n.safetensors" --log "$dir/text.txt"
expect_error "train --log = --out" "--log and --out name the same file" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --out "$dir/n.safetensors" --log "$dir/n.safetensors"
expect_error "train --out the --init-from model" "--out names the command's input (--init-from)" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --embed 4 --init-from "$dir/m.safetensors" --out "$dir/m.safetensors"
expect_error "train --out through another path to the corpus" "--out names the command's input (--corpus)" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --out "$dir/./text.txt"
expect_error "corpus --out the corpus" "--out names the command's input (--corpus)" -- "$MEMSIG" corpus --corpus "$dir/text.txt" --out "$dir/text.txt"
expect_error "ngram train --out the corpus" "--out names the command's input (--corpus)" -- \
  "$MEMSIG" ngram train --corpus "$dir/text.txt" --order 2 --out "$dir/text.txt"
"$MEMSIG" signature --model "$dir/m.safetensors" --corpus "$dir/text.txt" --max-lag 2 --epochs 1 --perfect-memory 0 --quiet \
  --out "$dir/sigA" > /dev/null 2>&1 || fail "a small signature"
expect_error "diff --out one of its inputs" "--out names the command's input (A)" -- \
  "$MEMSIG" diff "$dir/sigA/signature.json" "$dir/sigA/signature.json" --out "$dir/sigA/signature.json"
expect_error "marginal --out one of its inputs" "--out names the command's input (a signature)" -- \
  "$MEMSIG" marginal "$dir/sigA/signature.json" --out "$dir/sigA/signature.json"
cp "$dir/m.safetensors" "$dir/sigA/signature_model.safetensors"
expect_error "signature whose model lies where it writes" "--model lies in the output folder" -- \
  "$MEMSIG" signature --model "$dir/sigA/signature_model.safetensors" --corpus "$dir/text.txt" --out "$dir/sigA"
cmp -s "$dir/text.txt" "$dir/keep.txt" && cmp -s "$dir/m.safetensors" "$dir/keep.safetensors" || fail "an input was changed"
mkfifo "$dir/fifo"
expect_error "an output that is a FIFO" "$dir/fifo: is not a regular file" -- \
  "$MEMSIG" states --model "$dir/m.safetensors" --text "$dir/text.txt" --out "$dir/fifo"
[ -p "$dir/fifo" ] || fail "the FIFO was replaced"
expect_error "an output that is a device" "/dev/null: is not a regular file" -- \
  "$MEMSIG" corpus --corpus "$dir/text.txt" --out /dev/null
[ -c /dev/null ] || fail "/dev/null was replaced"
mkdir -p "$dir/adir"
expect_error "states --out a directory" "$dir/adir: is a directory" -- "$MEMSIG" states --model "$dir/m.safetensors" --text "$dir/text.txt" --out "$dir/adir"
# Binary files are not text corpora.
# Bytes of a binary file made here ($MEMSIG may be a wrapper script, as under scripts/arm64-check).
for i in $(seq 1 400); do printf 'ab\001\002\000\377cd\n'; done > "$dir/binary.txt"
expect_error "a binary file as a corpus" "$dir/binary.txt: not a text file: control byte" -- \
  "$MEMSIG" train --corpus "$dir/binary.txt" --out "$dir/bin.safetensors"
# Messages that say what is wrong.
expect_error "--init-from a model of another embedding size" "its embedding size 4 (this run: 6)" -- \
  "$MEMSIG" train --corpus "$dir/text.txt" --hidden 8 --embed 6 --init-from "$dir/m.safetensors" --out "$dir/emb.safetensors"
cp "$dir/m.safetensors" "$dir/M.ARPA"
"$MEMSIG" eval --model "$dir/M.ARPA" --text "$dir/text.txt" > /dev/null || fail "a char LM named .ARPA is read by its content"
"$MEMSIG" ngram train --corpus "$dir/text.txt" --order 2 --out "$dir/n.arpa" > /dev/null 2>&1 || fail "a 2-gram"
cp "$dir/n.arpa" "$dir/N.LM"
"$MEMSIG" eval --model "$dir/N.LM" --text "$dir/text.txt" > /dev/null || fail "an ARPA file of another name is read by its content"
gzip -c "$dir/n.arpa" > "$dir/n.arpa.gz"
expect_error "a gzipped ARPA file" "$dir/n.arpa.gz: is gzip-compressed: unpack it first" -- "$MEMSIG" eval --model "$dir/n.arpa.gz" --text "$dir/text.txt"
# ARPA probabilities: none above 1, all representable, unigrams summing to one.
awk '/^\\1-grams:/{s=1;print;next} s==1&&NF>=2&&$2=="a"{$1="0.5"} {print}' "$dir/n.arpa" > "$dir/pos.arpa"
expect_error "an ARPA log10 probability above 0" "log10 probability '0.5' is above 0" -- "$MEMSIG" eval --model "$dir/pos.arpa" --text "$dir/text.txt"
awk '/^\\1-grams:/{s=1;print;next} /^\\2-grams:/{s=0} s==1&&NF>=2{$1="0"} {print}' "$dir/n.arpa" > "$dir/zero.arpa"
expect_error "ARPA unigrams all of probability 1" "the unigram probabilities sum to" -- "$MEMSIG" eval --model "$dir/zero.arpa" --text "$dir/text.txt"
awk '/^\\1-grams:/{s=1;print;next} s==1&&NF>=2&&$2=="a"{$1="-1e308"} {print}' "$dir/n.arpa" > "$dir/huge.arpa"
expect_error "an ARPA log10 probability of -1e308" "log10 probability '-1e308' is out of range" -- \
  "$MEMSIG" ngram eval --model "$dir/huge.arpa" --text "$dir/text.txt"

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
expect_error "las: --lm-weight without --lm" "--lm-weight and --length-bonus need --lm" -- \
  "$MEMSIG" las eval --model "$dir/m.safetensors" --data "$dir" --lm-weight 0.3
expect_error "las: an --lm-weight that is not a number" "--lm-weight: 'x' is neither a number" -- \
  "$MEMSIG" las eval --model "$dir/m.safetensors" --data "$dir" --lm "$dir/m.safetensors" --lm-weight x
expect_error "las: a text file as the fusion LM" "$dir/text.txt: not a safetensors file" -- \
  "$MEMSIG" las decode --model "$dir/m.safetensors" --data "$dir" --lm "$dir/text.txt" --lm-weight 0.2
expect_error "las: fusion with greedy decoding" "shallow fusion needs beam search" -- \
  "$MEMSIG" las decode --model "$dir/m.safetensors" --data "$dir" --lm "$dir/m.safetensors" --beam 1
expect_error "las: a char LM probed on --data" "$dir/m.safetensors: is a char LM (LSTM/GRU) (memsig-charlm), probed on text" -- \
  "$MEMSIG" signature --model "$dir/m.safetensors" --data "$dir" --out "$dir/sigd"
leftovers=$(find "$dir" -name '*.tmp.*')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"
echo "CLI errors: ok"
