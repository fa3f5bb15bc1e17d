#!/usr/bin/env bash
# Per-layer forward and forward+backward times of the bench/pretrain_step.sh model (ResNet-18
# width 32, 32x32, 256 views) at each stage's shape: ours (burn flex with our convolution and
# batch-norm kernels), stock flex (the same calls with our kernels off) and PyTorch, in the
# same run, with the ratios pytorch/ours and stock-flex/ours (time over our time: >1 means we
# are faster) and the GFLOP/s of our 3x3 convolutions.
# PyTorch comes from bench/torch_python.sh ($PYTHON, python3, or bench/.venv made on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/torch_python.sh
echo "load before: $(uptime | sed 's/.*load average/load average/')"
# --workspace: -p would resolve burn's features differently and rebuild it.
cargo build --release -q --workspace --example op_times
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/release/examples/op_times | tee "$tmp/ours"
target/release/examples/op_times stock | tee "$tmp/stock"
if "$python" -c "import torch" 2>/dev/null; then
    "$python" bench/op_times.py 2>/dev/null | tee "$tmp/theirs"
else
    echo "no torch in $python: PyTorch column left empty (set PYTHON to a Python with torch)"
    grep -v '^burn' "$tmp/ours" | sed 's/[0-9.]* ms$/nan ms/' | sed '1i pytorch' >"$tmp/theirs"
fi
echo "load after: $(uptime | sed 's/.*load average/load average/')"
echo "== milliseconds and ratios (time over ours: >1 means ours is faster) =="
printf "%-22s %9s %9s %9s %14s %17s %9s\n" layer ours stock pytorch pytorch/ours stock-flex/ours "GFLOP/s"
paste -d'|' <(grep -v '^burn' "$tmp/ours") <(grep -v '^burn' "$tmp/stock") <(grep -v '^pytorch' "$tmp/theirs") |
    awk -F'|' '/^--/ { print $1; match($1, /256, [0-9]+, [0-9]+/); split(substr($1, RSTART, RLENGTH), d, ", ");
                      c = d[2]; hw = d[3]; next }
        {
            name = $1; sub(/ +[0-9.]+ ms$/, "", name);
            n = split($1, a, " "); ours = a[n - 1];
            n = split($2, b, " "); stock = b[n - 1];
            n = split($3, t, " "); theirs = t[n - 1];
            # 3x3 conv: 2 * 256 * c * c * 9 * hw * hw FLOP forward, three times that with both gradients.
            flop = 2 * 256 * c * c * 9 * hw * hw * (name ~ /bwd/ ? 3 : 1);
            gf = name ~ /^conv/ ? sprintf("%9.1f", flop / ours / 1e6) : "";
            printf "%-22s %9.1f %9.1f %9.1f %14.2f %17.2f %s\n", name, ours, stock, theirs, theirs / ours, stock / ours, gf }'
