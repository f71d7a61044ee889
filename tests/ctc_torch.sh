#!/usr/bin/env bash
# memsig's CTC loss (engine/ctc.h) against torch.nn.functional.ctc_loss on random problems: the
# loss within 1e-5 relative and every logit's gradient within 1e-4. Skipped (77) without python3-torch.
set -euo pipefail
TESTS=$1
source "$(dirname "$0")/torch_common.sh"
/usr/bin/python3 "$(dirname "$0")/../scripts/ctc_ref.py" "$dir/ctc.txt"
MEMSIG_CTC_REF="$dir/ctc.txt" "$TESTS" "[.ctc_torch]"
