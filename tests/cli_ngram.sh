#!/usr/bin/env bash
# memsig ngram from the command line: train writes an ARPA file that eval reads back to the same
# bpc; bad ARPA files give a one-line error naming the file and the line, and a non-zero exit.
set -uo pipefail
MEMSIG=$1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/expect_error.sh"
for i in $(seq 200); do echo "to be or not to be, that is the question $i. whether 'tis nobler in the mind"; done > "$dir/text.txt"

"$MEMSIG" ngram train --corpus "$dir/text.txt" --order 4 --out "$dir/m.arpa" > "$dir/train.out" 2> /dev/null \
  || fail "training a 4-gram"
grep -q '^valid: .* bpc, perplexity .* targets)$' "$dir/train.out" || { cat "$dir/train.out"; fail "train prints no valid line"; }
[ "$(grep -c '^    [1-4]  ' "$dir/train.out")" -eq 4 ] || { cat "$dir/train.out"; fail "train prints no line per order"; }
"$MEMSIG" ngram eval --model "$dir/m.arpa" --corpus "$dir/text.txt" --split valid > "$dir/eval.out" || fail "eval"
grep -q "^$dir/m.arpa on $dir/text.txt:valid: [0-9.]* bpc, perplexity [0-9.]* ([0-9]* targets)$" "$dir/eval.out" \
  || { cat "$dir/eval.out"; fail "eval line format"; }
# The valid bpc train printed is the one eval computes from the file.
[ "$(sed -n 's/^valid: \([0-9.]*\) bpc.*/\1/p' "$dir/train.out")" = "$(sed -n 's/.*: \([0-9.]*\) bpc.*/\1/p' "$dir/eval.out")" ] \
  || fail "train and eval disagree: $(cat "$dir/train.out" "$dir/eval.out")"
"$MEMSIG" ngram eval --model "$dir/m.arpa" --text "$dir/text.txt" --json > "$dir/eval.json" || fail "eval --json"
for key in model data bpc perplexity targets; do grep -q "\"$key\":" "$dir/eval.json" || fail "eval --json lacks $key"; done
echo "ok   train and eval agree: $(cat "$dir/eval.out")"

sed 's/^\(-[0-9.e-]*\)\tt h\b/\1\tt Q/' "$dir/m.arpa" > "$dir/unknown.arpa"
line=$(grep -n $'\tt Q' "$dir/unknown.arpa" | head -1 | cut -d: -f1)
[ -n "$line" ] || fail "could not plant an unknown symbol"
expect_error "unknown symbol" "$dir/unknown.arpa: line $line: unknown symbol 'Q'" -- \
  "$MEMSIG" ngram eval --model "$dir/unknown.arpa" --text "$dir/text.txt"
head -n 50 "$dir/m.arpa" > "$dir/truncated.arpa"
expect_error "truncated ARPA" "$dir/truncated.arpa: line 50: file ends in" -- \
  "$MEMSIG" ngram eval --model "$dir/truncated.arpa" --text "$dir/text.txt"
expect_error "text file as a model" "$dir/text.txt: line 200: no \\data\\ line" -- \
  "$MEMSIG" ngram eval --model "$dir/text.txt" --text "$dir/text.txt"
expect_error "missing model" "$dir/none.arpa: cannot open" -- "$MEMSIG" ngram eval --model "$dir/none.arpa" --text "$dir/text.txt"
expect_error "missing corpus" "no such corpus file" -- "$MEMSIG" ngram train --corpus "$dir/none.txt" --out "$dir/new.arpa"
[ -e "$dir/new.arpa" ] && fail "a model file was written after a failed start"
leftovers=$(find "$dir" -name '*.tmp.*')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"
echo "CLI ngram: ok"
