# needs_corpora.sh — sourced by the shell tests that run recipes on PTB and Tiny Shakespeare. Needs
# $MEMSIG. Exits 77 (skipped) when the corpora are not reachable; gives $dir (a scratch folder,
# removed at exit) and fail MESSAGE.
"$MEMSIG" corpus --corpus ptb > /dev/null 2>&1 && "$MEMSIG" corpus --corpus shakespeare > /dev/null 2>&1 ||
  { echo "PTB or Tiny Shakespeare not found (set MEMSIG_CORPORA): skipped"; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
