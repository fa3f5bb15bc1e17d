#!/usr/bin/env bash
# Per-layer forward and forward+backward times of the bench/pretrain_step.sh model (ResNet-18
# width 32, 32x32, 256 views) at each stage's shape: ours (burn flex) beside PyTorch in the
# same run, with the ratio PyTorch time / our time (>1 means we are faster).
# PyTorch comes from bench/torch_python.sh ($PYTHON, python3, or bench/.venv made on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/torch_python.sh
cargo build --release -q -p corruptencoder-train --example op_times
target/release/examples/op_times | tee /tmp/op_times.ours.$$
if "$python" -c "import torch" 2>/dev/null; then
    "$python" bench/op_times.py 2>/dev/null | tee /tmp/op_times.theirs.$$
    echo "== speed ratio (pytorch ms / ours ms) =="
    paste -d'|' <(grep -v '^burn' /tmp/op_times.ours.$$) <(grep -v '^pytorch' /tmp/op_times.theirs.$$) |
        awk -F'|' '/^--/ { print $1; next } {
            n = split($1, a, " ");
            name = $1; sub(/ +[0-9.]+ ms$/, "", name);
            ours = a[n - 1]; m = split($2, c, " "); theirs = c[m - 1];
            printf "%-28s %5.2f\n", name, theirs / ours }'
else
    echo "no torch in $python: PyTorch side skipped (set PYTHON to a Python with torch)"
fi
rm -f /tmp/op_times.ours.$$ /tmp/op_times.theirs.$$
