#!/usr/bin/env bash
# A figure study run through a scheduler that already exists (issue 21): the quick preset's
# Figure 4 (models retrained from another model: three stages of dependencies) written as a
# Makefile plan and run with make -j2, and as a GNU parallel plan; both must give files
# byte-identical to the in-process run. Then the shared cache under concurrency: two jobs that
# compute the same entry at once (one waits on the entry's lock, the result is the same), and a
# killed job (listed as stopped by --status, resumed by the next run). The Slurm plan is checked
# by scripts/slurm-check where a Slurm controller can be started (see README).
# Skipped (77) when the corpora are not reachable.
set -euo pipefail
MEMSIG=$1
. "$(dirname "$0")/needs_corpora.sh"
fig() { local w=$1; shift; "$MEMSIG" figure fig4 --preset quick --work "$dir/$w/w" --out "$dir/$w/o" --quiet "$@"; }
# fig4.json names model files under each run's own work folder: compare with that taken out.
same() {
  for f in fig4.json fig4.png fig4_sweep.png; do
    cmp -s <(sed "s#$dir/[a-z0-9]*/##g" "$dir/ref/o/$f") <(sed "s#$dir/[a-z0-9]*/##g" "$dir/$1/o/$f") ||
      fail "$1: $f differs from the in-process run's"
  done
}
fig ref > "$dir/ref.log" 2>&1 || { cat "$dir/ref.log"; fail "in-process fig4"; }

# make -j2
fig mk --plan make > "$dir/plan.log" 2>&1 || { cat "$dir/plan.log"; fail "--plan make"; }
grep -q "jobs in 4 stages" "$dir/plan.log" || { cat "$dir/plan.log"; fail "the plan does not have the 4 dependency stages"; }
make -f "$dir/mk/w/plan/fig4.mk" -j2 > "$dir/make.log" 2>&1 || { cat "$dir/make.log"; fail "make -j2"; }
same mk
fig mk --status > "$dir/status.log" 2>&1
grep -q "jobs$" "$dir/status.log" && grep -q " 0 missing" "$dir/status.log" || { cat "$dir/status.log"; fail "--status after make"; }
echo "make -j2 plan: byte-identical to the in-process run"

# GNU parallel, stage by stage
if command -v parallel > /dev/null; then
  fig par --plan parallel > "$dir/plan2.log" 2>&1 || { cat "$dir/plan2.log"; fail "--plan parallel"; }
  JOBS=2 sh "$dir/par/w/plan/fig4.parallel.sh" > "$dir/par.log" 2>&1 || { cat "$dir/par.log"; fail "the parallel plan"; }
  same par
  echo "GNU parallel plan: byte-identical to the in-process run"
else
  echo "GNU parallel is not installed: its plan was not run"
fi

# Two jobs computing the same entry at once; then a job killed in the middle of its training.
fig con --plan make > /dev/null 2>&1
model=$(grep -o "entry 'model:shakespeare[^']*'" "$dir/con/w/plan/fig4.mk" | head -1 | sed "s/entry '//; s/'$//")
target=$(grep -o "entry 'model:ptb_lstm[^']*'" "$dir/con/w/plan/fig4.mk" | head -1 | sed "s/entry '//; s/'$//")
fig con --entry "$model" > "$dir/a.log" 2>&1 & a=$!
fig con --entry "$model" > "$dir/b.log" 2>&1 & b=$!
wait $a || { cat "$dir/a.log"; fail "the first of two concurrent jobs"; }
wait $b || { cat "$dir/b.log"; fail "the second of two concurrent jobs"; }
n=$(cat "$dir/a.log" "$dir/b.log" | grep -c "^== training" || true)
[ "$n" = 1 ] || { cat "$dir/a.log" "$dir/b.log"; fail "two concurrent jobs trained the entry $n times"; }
cmp -s "$dir/con/w/models/${model#model:}.safetensors" "$dir/ref/w/models/${model#model:}.safetensors" ||
  fail "the entry computed by two concurrent jobs differs from the in-process run's"
echo "two concurrent jobs on one entry: trained once, the same model"
if MEMSIG_STOP_AT=train.step#5:KILL fig con --entry "$target" > "$dir/k.log" 2>&1; then fail "the job meant to be killed finished"; fi
fig con --status > "$dir/status2.log" 2>&1
grep -q "^stopped *$target" "$dir/status2.log" || { cat "$dir/status2.log"; fail "--status does not list the killed job as stopped"; }
grep -q "^done *$model" "$dir/status2.log" || { cat "$dir/status2.log"; fail "--status does not list the finished job as done"; }
make -f "$dir/con/w/plan/fig4.mk" -j2 > "$dir/make2.log" 2>&1 || { cat "$dir/make2.log"; fail "make after a killed job"; }
for f in fig4.json fig4.png; do
  cmp -s <(sed "s#$dir/[a-z0-9]*/##g" "$dir/ref/o/$f") <(sed "s#$dir/[a-z0-9]*/##g" "$dir/con/o/$f") || fail "after a killed job: $f differs"
done
echo "a killed job: listed as stopped, resumed by the next run, same result"
echo "plans: ok"
