#!/usr/bin/env bash
# memsig's LAS (models/las.h) against the same model in PyTorch 1.13 (scripts/las_ref.py): a model
# file written by PyTorch loads in memsig and gives the same loss (1e-5 relative) and the same
# gradient for every parameter, on three padded batches (with and without label smoothing, joint
# CTC on), with content-based and with location-aware attention. Skipped (77) without python3-torch.
set -euo pipefail
TESTS=$1
source "$(dirname "$0")/torch_common.sh"
/usr/bin/python3 "$(dirname "$0")/../scripts/las_ref.py" check --out "$dir/content"
MEMSIG_LAS_REF="$dir/content" "$TESTS" "[.las_torch]"
/usr/bin/python3 "$(dirname "$0")/../scripts/las_ref.py" check --out "$dir/location" --location
MEMSIG_LAS_REF="$dir/location" "$TESTS" "[.las_torch]"
