#!/usr/bin/env bash
# --device on the commands that run models: each says which device it ran on (one stderr line,
# "memsig: device: ..."); `--device cuda` without a usable GPU (or in a build without CUDA) is a
# one-line error saying which, before any work; an unknown device is refused.
set -euo pipefail
MEMSIG=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/expect_error.sh"

# bench --sample needs no corpus: a tiny model sampled a few steps, on the device chosen.
for spec in cpu auto; do
  "$MEMSIG" bench --configs gru:1x8 --sample 5 --threads 1 --device $spec > "$dir/out" 2> "$dir/err" ||
    { cat "$dir/err"; fail "bench --device $spec"; }
  grep -q '^memsig: device: ' "$dir/err" || { cat "$dir/err"; fail "--device $spec: no line saying the device"; }
  grep -q '"device":"\(cpu\|cuda\)"' "$dir/out" || { cat "$dir/out"; fail "--device $spec: bench JSON lacks the device"; }
  echo "ok   --device $spec: $(grep '^memsig: device: ' "$dir/err")"
done
grep -q '^memsig: device: cpu$' <("$MEMSIG" bench --configs gru:1x8 --sample 5 --threads 1 --device cpu 2>&1 >/dev/null) ||
  fail "--device cpu does not say cpu"

# --device cuda: runs where a GPU answers; elsewhere one line saying why, for every command.
if "$MEMSIG" bench --configs gru:1x8 --sample 5 --threads 1 --device cuda > "$dir/out" 2> "$dir/err"; then
  grep -q '^memsig: device: cuda' "$dir/err" || { cat "$dir/err"; fail "--device cuda ran but did not say cuda"; }
  echo "ok   --device cuda: $(grep '^memsig: device: ' "$dir/err")"
else
  why="no CUDA device"  # a CUDA build on a machine without a GPU; a CPU build says so instead
  grep -q "built without CUDA" <("$MEMSIG" bench --device auto --configs gru:1x8 --sample 1 2>&1 >/dev/null) && why="built without CUDA"
  expect_error "bench --device cuda" "$why" -- "$MEMSIG" bench --device cuda --configs gru:1x8 --sample 5
  expect_error "train --device cuda" "$why" -- "$MEMSIG" train --device cuda --corpus "$dir/none.txt" --out "$dir/m.safetensors"
  expect_error "eval --device cuda" "$why" -- "$MEMSIG" eval --device cuda --model "$dir/none" --text "$dir/none.txt"
  expect_error "signature --device cuda" "$why" -- "$MEMSIG" signature --device cuda --model "$dir/none" --corpus x --out "$dir/s"
  expect_error "states --device cuda" "$why" -- "$MEMSIG" states --device cuda --model "$dir/none" --text x --out "$dir/s.st"
  expect_error "figure --device cuda" "$why" -- "$MEMSIG" figure fig3 --device cuda --work "$dir/w" --out "$dir/o"
  [ ! -e "$dir/m.safetensors" ] && [ ! -e "$dir/s" ] && [ ! -e "$dir/w" ] || fail "--device cuda failed after writing something"
fi
expect_error "--device gpu" "--device" -- "$MEMSIG" eval --device gpu --model "$dir/none" --text "$dir/none.txt"
echo "cli_device: all passed"
