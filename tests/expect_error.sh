# expect_error.sh — sourced by the command-line tests. Needs $dir (a scratch folder).
#   fail MESSAGE                          print FAIL and exit 1
#   expect_error WHAT PATTERN -- cmd...   cmd must exit non-zero with exactly one stderr line holding PATTERN
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {
  local what=$1 pattern=$2; shift 3
  "$@" > "$dir/out" 2> "$dir/err" && fail "$what: exited 0"
  sed -i '/^memsig: device: /d' "$dir/err"  # the line saying which device a command runs on is not the error
  [ "$(wc -l < "$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "$what: not one line"; }
  grep -qF -- "$pattern" "$dir/err" || { cat "$dir/err"; fail "$what: message lacks '$pattern'"; }
  echo "ok   $what: $(cat "$dir/err")"
}
