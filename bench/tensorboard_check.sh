#!/usr/bin/env bash
# TensorBoard reads our event files: runs a tiny experiment with `[pretrain] tensorboard = true`
# and the monitor on every epoch (a clean and a CorruptEncoder arm), then reads each run's
# event file with the `tensorboard` Python package (its EventAccumulator, which checks every
# record's CRC, and the TensorBoard server's scalars HTTP API) and compares the scalars with
# log.jsonl. Python: $PYTHON, else bench/.venv (pip install tensorboard on first use).
# Builds the dev profile (PROFILE=release for a release build).
# Usage: bench/tensorboard_check.sh [work dir, default a temporary one]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PYTHON:-}" ]; then
    python=$PYTHON
else
    python=bench/.venv/bin/python
    [ -x "$python" ] || python3 -m venv bench/.venv
fi
if ! "$python" -c "import tensorboard" 2>/dev/null; then
    "$python" -m pip install -q tensorboard
fi
profile=${PROFILE:-dev}
cargo build -q --profile "$profile" --workspace --bins
dir=${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")
"$python" bench/tensorboard_check.py --bin "$dir/corruptencoder" ${1:+--work "$1"}
