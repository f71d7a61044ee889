# torch_common.sh — sourced by the shell tests that use PyTorch as the numerical reference.
# Skips the test (exit 77) when python3-torch is missing; otherwise gives a temporary folder $dir
# (removed on exit) and the helpers below.
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "python3-torch not installed: skipped"; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

# write_text FILE SEED LINES MAX_WORDS: a small corpus of random word lines (digits and
# punctuation included), the same for the same seed.
write_text() {
  /usr/bin/python3 - "$@" <<'PY'
import random, sys
path, seed, lines, max_words = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
random.seed(seed)
words = "the cat sat on a mat and it's 42 days, or not. who knows? alas poor yorick".split()
with open(path, "w") as f:
    for _ in range(lines):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(1, max_words))) + "\n")
PY
}
close() {  # |a - b| < 2e-5 bpc
  /usr/bin/python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'  memsig {a:.6f}  torch {b:.6f}'); sys.exit(abs(a-b) > 2e-5)" "$1" "$2"
}
bpc() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['bpc'])"; }
