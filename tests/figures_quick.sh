#!/usr/bin/env bash
# Every figure recipe (Figures 2-5, and 7) end to end on the quick preset (tiny models, seconds each): it
# runs, writes its pictures and numbers, and a second run reuses every cached model and signature.
# Skipped (77) when the corpora are not reachable (MEMSIG_CORPORA unset and nothing cached).
set -euo pipefail
MEMSIG=$1
. "$(dirname "$0")/needs_corpora.sh"
"$MEMSIG" figure all --preset quick --work "$dir/work" --out "$dir/out" --quiet > "$dir/log" 2>&1 || { cat "$dir/log"; fail "figure all"; }
for f in fig2.png fig2_perplexity.png fig2_decoders.png fig2_best_decoder.png fig2.json fig3.png fig3.json fig4.png fig4_sweep.png fig4.json \
         fig5.png fig5_marginal.png fig5.json; do
  [ -s "$dir/out/$f" ] || fail "missing $f"
  case $f in *.png) [ "$(head -c 4 "$dir/out/$f" | tail -c 3)" = "PNG" ] || fail "$f is not a PNG" ;; esac
done
grep -q "fig5: interpolation" "$dir/log" || fail "fig5 printed no interpolation"
grep -q "fig4: retrained on" "$dir/log" || fail "fig4 printed no sweep"
# A second run trains nothing and probes nothing: everything comes from the cache.
"$MEMSIG" figure all --preset quick --work "$dir/work" --out "$dir/out" --quiet > "$dir/log2" 2>&1 || { cat "$dir/log2"; fail "second run"; }
if grep -q "^== " "$dir/log2"; then grep "^== " "$dir/log2"; fail "the second run recomputed something"; fi
# Figure 6 (not in "all"): a tiny bigram-factorized LSTM, its views, 1156 ablations, the tests.
"$MEMSIG" figure fig6 --preset quick --work "$dir/work" --out "$dir/out" --quiet --check-ablation 1 > "$dir/log6" 2>&1 || { cat "$dir/log6"; fail "figure fig6"; }
for f in fig6.png fig6_ablation.png fig6_all_bases.png fig6.json; do
  [ -s "$dir/out/$f" ] || fail "missing $f"
done
grep -q "fig6: .* bases with an effect" "$dir/log6" || fail "fig6 printed no permutation test"
grep -q "fig6: pruning" "$dir/log6" || fail "fig6 printed no pruning"
[ "$(grep -c "fig6: check-ablation basis .*: marginal drop" "$dir/log6")" -eq 7 ] || fail "fig6 --check-ablation 1 did not check the six named bases and one more"
grep -q "fig6: check-ablation: r over all" "$dir/log6" || fail "fig6 --check-ablation printed no agreement"
"$MEMSIG" figure fig6 --preset quick --work "$dir/work" --out "$dir/out" --quiet --check-ablation 1 > "$dir/log6b" 2>&1 || { cat "$dir/log6b"; fail "fig6 second run"; }
if grep -q "^== " "$dir/log6b"; then grep "^== " "$dir/log6b"; fail "the second fig6 run recomputed something"; fi
# Figure 7 (LAS on synthesized speech): needs espeak-ng in the build to synthesize its speech set.
if "$MEMSIG" figure fig7 --preset quick --work "$dir/work" --out "$dir/out" --quiet > "$dir/log7" 2>&1; then
  for f in fig7.png fig7.json; do [ -s "$dir/out/$f" ] || fail "missing $f"; done
  grep -q "fig7: claim last_over_first" "$dir/log7" || fail "fig7 measured no claims"
  "$MEMSIG" figure fig7 --preset quick --work "$dir/work" --out "$dir/out" --quiet > "$dir/log7b" 2>&1 || { cat "$dir/log7b"; fail "fig7 second run"; }
  if grep -q "^== " "$dir/log7b"; then grep "^== " "$dir/log7b"; fail "fig7's second run recomputed something"; fi
  # LAS is a model kind: `memsig signature` reads its speech set like any model's data; eval and
  # sample refuse it with one line; --corpus is refused for it, --data for a char LM.
  las7="$dir/work/fig7/las.safetensors"
  "$MEMSIG" signature --model "$las7" --data "$dir/work/fig7/data" --layers 1,2 --max-lag 2 --max-positions 2000 \
    --epochs 2 --out "$dir/sig_las" --quiet > "$dir/log_sig_las" 2>&1 || { cat "$dir/log_sig_las"; fail "signature of a LAS model"; }
  [ -s "$dir/sig_las/signature.json" ] || fail "signature of a LAS model: no signature.json"
  grep -q "listener 1" "$dir/sig_las/signature.json" || fail "signature of a LAS model: no listener layer"
  # Synthesized speech is timed by the synthesis; the signature says so. The CTC alignment of the
  # same test split (memsig las align) fits every utterance and is compared with that timing.
  grep -q '"timing": "synthesis"' "$dir/sig_las/signature.json" || fail "signature of a LAS model: no timing setting"
  "$MEMSIG" las align --model "$las7" --data "$dir/work/fig7/data" --split test --out "$dir/align.tsv" > "$dir/align.json" 2> "$dir/err_align" ||
    { cat "$dir/err_align"; fail "las align"; }
  grep -q '"impossible_alignments": 0' "$dir/align.json" || { cat "$dir/align.json"; fail "las align: an utterance did not align"; }
  grep -q '"centre_inside_synthesized_span"' "$dir/align.json" || fail "las align: no agreement measured"
  [ "$(wc -l < "$dir/align.tsv")" -gt 10 ] || fail "las align: no per-grapheme table"
  # The same speech without its synthesis timing (as real audio comes): timed by the CTC alignment.
  cp -r "$dir/work/fig7/data" "$dir/untimed" && rm -f "$dir"/untimed/*/graphemes
  "$MEMSIG" signature --model "$las7" --data "$dir/untimed" --layers 1 --max-lag 2 --max-positions 2000 \
    --epochs 2 --out "$dir/sig_untimed" --quiet > "$dir/log_sig_untimed" 2>&1 || { cat "$dir/log_sig_untimed"; fail "signature on untimed speech"; }
  grep -q '"timing": "ctc-alignment"' "$dir/sig_untimed/signature.json" || fail "signature on untimed speech: not timed by the CTC alignment"
  # A model without a CTC head cannot time it: one line naming the model file, nothing written.
  "$MEMSIG" las train --data "$dir/untimed" --listener-hidden 4 --speller-hidden 4 --ctc-weight 0 --max-steps 1 --epochs 1 \
    --out "$dir/noctc.safetensors" --quiet > /dev/null 2>&1 || fail "las train --ctc-weight 0"
  if "$MEMSIG" signature --model "$dir/noctc.safetensors" --data "$dir/untimed" --out "$dir/sig_noctc" > /dev/null 2> "$dir/err_noctc"; then
    fail "signature on untimed speech accepted a model without CTC"
  fi
  sed -i '/^memsig: device: /d' "$dir/err_noctc"
  [ "$(wc -l < "$dir/err_noctc")" -eq 1 ] && grep -qF "$dir/noctc.safetensors: trained without CTC" "$dir/err_noctc" \
    || { cat "$dir/err_noctc"; fail "no-CTC model on untimed speech: not one line naming the file"; }
  [ ! -e "$dir/sig_noctc" ] || fail "no-CTC model on untimed speech: output written"
  echo "one two three" > "$dir/three.txt"
  for cmd in "eval --model $las7 --text $dir/three.txt" "sample --model $las7" "signature --model $las7 --corpus $dir/three.txt --out $dir/s2"; do
    if "$MEMSIG" $cmd > /dev/null 2> "$dir/err_las"; then fail "memsig $cmd accepted a LAS model"; fi
    sed -i '/^memsig: device: /d' "$dir/err_las"  # which device it runs on is not the error
    [ "$(wc -l < "$dir/err_las")" -eq 1 ] && grep -qF "$las7: is a LAS speech recognizer" "$dir/err_las" \
      || { cat "$dir/err_las"; fail "memsig $cmd: not one line naming the file"; }
  done
elif grep -q "built with espeak-ng" "$dir/log7"; then
  echo "fig7: this memsig has no espeak-ng: not run"
else
  cat "$dir/log7"; fail "figure fig7"
fi
echo "figure recipes (quick preset): ok"
