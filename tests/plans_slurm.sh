#!/usr/bin/env bash
# The Slurm plan on a real (single-node, local) Slurm controller: the quick preset's Figure 3
# submitted as job arrays with afterok dependencies must give files byte-identical to the
# in-process run. Skipped (77) without root, slurm-wlm and munge, or when the daemons cannot be
# started here (scripts/slurm-local).
set -euo pipefail
MEMSIG=$1
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "not root: the local Slurm cannot be started; skipped"; exit 77; }
command -v sbatch > /dev/null || { echo "slurm-wlm is not installed; skipped"; exit 77; }
"$MEMSIG" corpus --corpus ptb > /dev/null 2>&1 || { echo "PTB not found (set MEMSIG_CORPORA): skipped"; exit 77; }
dir=$(mktemp -d)
conf=$("$here/scripts/slurm-local" start "$dir/slurm" 2> "$dir/slurm.err") || { cat "$dir/slurm.err"; echo "Slurm could not be started here; skipped"; rm -rf "$dir"; exit 77; }
eval "$conf"
trap '"$here/scripts/slurm-local" stop "$dir/slurm"; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir"/slurm/log/*.log 2> /dev/null | tail -20; exit 1; }
"$MEMSIG" figure fig3 --preset quick --work "$dir/ref/w" --out "$dir/ref/o" --quiet > "$dir/ref.log" 2>&1 || { cat "$dir/ref.log"; fail "fig3"; }
"$MEMSIG" figure fig3 --preset quick --work "$dir/s/w" --out "$dir/s/o" --quiet --plan slurm > "$dir/plan.log" 2>&1 || fail "--plan slurm"
# Each job's output in the scratch folder; every job on one thread (the node has $(nproc) cores).
export SBATCH_OPTS="--output=$dir/job-%A_%a.out --cpus-per-task=1 --export=ALL,OMP_NUM_THREADS=1"
bash "$dir/s/w/plan/fig3.slurm.sh" > "$dir/submit.log" 2>&1 || { cat "$dir/submit.log"; fail "submitting the plan"; }
cat "$dir/submit.log"
for i in $(seq 600); do
  [ -z "$(squeue -h 2> /dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h)" ] || fail "jobs still queued after 10 minutes: $(squeue -h)"
for f in fig3.json fig3.png; do
  [ -s "$dir/s/o/$f" ] || { cat "$dir"/job-*.out; fail "the Slurm plan wrote no $f"; }
  cmp -s "$dir/ref/o/$f" "$dir/s/o/$f" || fail "$f from Slurm differs from the in-process run's"
done
echo "Slurm plan (job arrays, afterok): byte-identical to the in-process run"
