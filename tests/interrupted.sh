#!/usr/bin/env bash
# Resumed and cached results are the results an uninterrupted run gives (issue 16). Each recipe of
# the quick preset (budgets in steps, so the same models on any machine), and `memsig signature`,
# is stopped at chosen points with SIGTERM and SIGKILL (MEMSIG_STOP_AT, engine/stop_points.h),
# started again, and must end with byte-identical numbers and pictures. Cache entries derived from
# a model follow that model's weights; a partial signature from another corpus file of the same
# name is not reused; a stopped Figure 1 training is resumed, not taken as finished.
# Skipped (77) when the corpora are not reachable.
set -euo pipefail
MEMSIG=$1
. "$(dirname "$0")/needs_corpora.sh"

# stopped RUNLOG POINT CMD...: CMD must die at POINT (a stop point it reaches), not finish.
stopped() {
  local log=$1 point=$2; shift 2
  if MEMSIG_STOP_AT=$point "$@" >> "$log" 2>&1; then cat "$log"; fail "the run meant to stop at $point finished"; fi
  grep -q "stop point ${point%:*} reached" "$log" || { cat "$log"; fail "never reached $point"; }
  echo "stopped at $point"
}
# same A B WHAT: equal files, once each run's own folder name is taken out (fig4.json names model files).
same() {
  cmp -s <(sed "s#$dir/[a-z0-9]*/##g" "$1") <(sed "s#$dir/[a-z0-9]*/##g" "$2") ||
    fail "$3: $(basename "$1") differs from the uninterrupted run's"
}

# --- a recipe stopped again and again: Figure 3 (two 2-layer models, signatures layer by layer) ---
fig() { "$MEMSIG" figure "$1" --preset quick --work "$dir/$2/w" --out "$dir/$2/o" --quiet; }
fig fig3 ref3 > "$dir/ref3.log" 2>&1 || { cat "$dir/ref3.log"; fail "fig3"; }
for point in train.step#20:KILL train.best#1:TERM recipe.model#1:KILL probe.entry#1:TERM probe.entry#2:KILL \
             recipe.signature#1:INT train.end#1:KILL recipe.signature#2:TERM; do
  stopped "$dir/run3.log" "$point" fig fig3 run3
done
fig fig3 run3 >> "$dir/run3.log" 2>&1 || { cat "$dir/run3.log"; fail "fig3 after the stops"; }
for f in fig3.json fig3.png; do same "$dir/ref3/o/$f" "$dir/run3/o/$f" "fig3 stopped 8 times"; done
echo "fig3 stopped at 8 points (SIGTERM, SIGINT, SIGKILL): same result"

# --- Figure 4: models retrained from another model ---
fig fig4 ref4 > "$dir/ref4.log" 2>&1 || { cat "$dir/ref4.log"; fail "fig4"; }
for point in recipe.model#2:KILL recipe.model#1:TERM train.step#10:KILL probe.entry#1:KILL; do
  stopped "$dir/run4.log" "$point" fig fig4 run4
done
fig fig4 run4 >> "$dir/run4.log" 2>&1 || { cat "$dir/run4.log"; fail "fig4 after the stops"; }
for f in fig4.json fig4.png fig4_sweep.png; do same "$dir/ref4/o/$f" "$dir/run4/o/$f" "fig4 stopped 4 times"; done
echo "fig4 stopped at 4 points: same result"
# The source model changes (here: another model's weights under its name, its .done kept): every
# model retrained from it must be retrained, not taken from the cache.
src=$(ls "$dir"/run4/w/models/shakespeare_*.safetensors | head -1)
other=$(ls "$dir"/run4/w/models/ptb_lstm*.safetensors | head -1)
cp "$other" "$src"
fig fig4 run4 > "$dir/rerun4.log" 2>&1 || { cat "$dir/rerun4.log"; fail "fig4 after its source model changed"; }
n=$(grep -c "^== training .* from $src" "$dir/rerun4.log" || true)
[ "$n" -ge 2 ] || { cat "$dir/rerun4.log"; fail "fig4 reused models derived from the old source model ($n retrained)"; }
echo "fig4: a changed source model retrains the $n models derived from it"

# --- Figures 5 and 2, each stopped twice ---
fig fig5 ref5 > "$dir/ref5.log" 2>&1 || { cat "$dir/ref5.log"; fail "fig5"; }
for point in train.best#1:KILL recipe.signature#1:TERM; do stopped "$dir/run5.log" "$point" fig fig5 run5; done
fig fig5 run5 >> "$dir/run5.log" 2>&1 || { cat "$dir/run5.log"; fail "fig5 after the stops"; }
for f in fig5.json fig5.png fig5_marginal.png; do same "$dir/ref5/o/$f" "$dir/run5/o/$f" "fig5 stopped twice"; done
fig fig2 ref2 > "$dir/ref2.log" 2>&1 || { cat "$dir/ref2.log"; fail "fig2"; }
for point in recipe.model#3:KILL recipe.signature#2:TERM; do stopped "$dir/run2.log" "$point" fig fig2 run2; done
fig fig2 run2 >> "$dir/run2.log" 2>&1 || { cat "$dir/run2.log"; fail "fig2 after the stops"; }
for f in fig2.json fig2.png fig2_perplexity.png fig2_decoders.png; do same "$dir/ref2/o/$f" "$dir/run2/o/$f" "fig2 stopped twice"; done
echo "fig5 and fig2 stopped twice each: same result"

# --- memsig signature: a 2-layer model stopped after layer 1 keeps layer 1 ---
for i in $(seq 80); do echo "to be or not to be, that is the question number $i of the night"; done > "$dir/a.txt"
mkdir -p "$dir/other"; for i in $(seq 80); do echo "all the world is a stage and the men and women players $i"; done > "$dir/other/a.txt"
"$MEMSIG" train --corpus "$dir/a.txt" --layers 2 --hidden 12 --embed 6 --max-steps 30 --quiet --out "$dir/m2.safetensors" > /dev/null
sig() { "$MEMSIG" signature --model "$dir/m2.safetensors" --corpus "$1" --max-lag 3 --epochs 3 --out "$2"; }
sig "$dir/a.txt" "$dir/sigref" > /dev/null 2>&1 || fail "signature"
stopped "$dir/sig.log" probe.entry#1:TERM sig "$dir/a.txt" "$dir/sigrun"
sig "$dir/a.txt" "$dir/sigrun" > "$dir/sig2.log" 2>&1 || { cat "$dir/sig2.log"; fail "signature after a stop"; }
grep -q "1 entry(ies) taken from the checkpoint" "$dir/sig2.log" || { cat "$dir/sig2.log"; fail "layer 1 was not taken from the checkpoint"; }
same "$dir/sigref/signature.json" "$dir/sigrun/signature.json" "signature stopped after layer 1"
for f in signature_l1.png signature_l2.png signature_l1.csv marginal.csv; do same "$dir/sigref/$f" "$dir/sigrun/$f" "signature"; done
# A partial signature from another corpus file with the same name is not reused.
sig "$dir/other/a.txt" "$dir/sigother" > /dev/null 2>&1 || fail "signature on the other text"
stopped "$dir/sig3.log" probe.entry#1:KILL sig "$dir/a.txt" "$dir/sigmix"
sig "$dir/other/a.txt" "$dir/sigmix" > "$dir/sig4.log" 2>&1 || { cat "$dir/sig4.log"; fail "signature on the other text after a stop"; }
grep -q "written for other settings or another model; starting afresh" "$dir/sig4.log" || { cat "$dir/sig4.log"; fail "the other corpus's partial was reused"; }
same "$dir/sigother/signature.json" "$dir/sigmix/signature.json" "signature of a same-named corpus"
echo "signature: stopped after layer 1 and resumed: same result; a same-named corpus's partial is not reused"
# Entries in chunks (issue 17): a 3-layer model, chunks of at most 2 entries, stopped inside the
# first chunk and after it; resumed, it ends with the signature one chunk gives.
"$MEMSIG" train --corpus "$dir/a.txt" --layers 3 --hidden 10 --embed 6 --max-steps 20 --quiet --out "$dir/m3.safetensors" > /dev/null
sig3() { "$MEMSIG" signature --model "$dir/m3.safetensors" --corpus "$dir/a.txt" --max-lag 3 --epochs 3 --out "$@"; }
sig3 "$dir/sig3ref" --max-state-mib 0 > /dev/null 2>&1 || fail "signature of the 3-layer model"
for point in probe.entry#1:KILL probe.chunk#1:TERM; do
  rm -rf "$dir/sig3run" "$dir/sig3run.log"
  stopped "$dir/sig3run.log" "$point" sig3 "$dir/sig3run" --chunk-entries 2
  grep -q "chunk 1/2 (2 entries)" "$dir/sig3run.log" || { cat "$dir/sig3run.log"; fail "no chunks before $point"; }
  sig3 "$dir/sig3run" --chunk-entries 2 > "$dir/sig3b.log" 2>&1 || { cat "$dir/sig3b.log"; fail "chunked signature after $point"; }
  grep -q "entry(ies) taken from the checkpoint" "$dir/sig3b.log" || { cat "$dir/sig3b.log"; fail "nothing taken from the checkpoint after $point"; }
  same "$dir/sig3ref/signature.json" "$dir/sig3run/signature.json" "chunked signature stopped at $point"
  for f in signature_l3.png signature_l2.csv marginal.csv marginal.png; do same "$dir/sig3ref/$f" "$dir/sig3run/$f" "chunked signature"; done
done
echo "signature in chunks of 2 entries, stopped inside and after the first chunk: the result of one chunk"

# --- Figure 1: a training stopped after its first save is resumed, not taken as finished ---
f1() { "$MEMSIG" figure fig1 --train-minutes 0.02 --max-positions 500 --work "$dir/f1/w" --out "$dir/f1/o"; }
stopped "$dir/f1.log" train.best#1:KILL f1
f1 > "$dir/f1b.log" 2>&1 || { cat "$dir/f1b.log"; fail "fig1 after a stop"; }
grep -q "resuming from\|== training" "$dir/f1b.log" || { cat "$dir/f1b.log"; fail "fig1 took a stopped training as finished"; }
[ -s "$dir/f1/w/fig1/gru320.safetensors.done" ] || fail "fig1: the finished training is not marked done"
f1 > "$dir/f1c.log" 2>&1 || fail "fig1 a third time"
grep -q "== training" "$dir/f1c.log" && fail "fig1 trained again a model that had finished"
echo "fig1: a stopped training is resumed to its budget, then reused"
leftovers=$(find "$dir" -name '*.tmp.*')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"
echo "interrupted runs: ok"
