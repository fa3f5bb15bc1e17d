#!/usr/bin/env bash
# SimCLR training step, ResNet-18 width 32, CIFAR stem, 32x32, batch 128 (256 views):
# views/s of ours (burn 0.22, flex CPU backend) and, when a Python with torch is found
# ($PYTHON, default python3), of PyTorch on the same machine in the same run, plus the ratio
# and each side's peak memory (GNU time). Usage: bench/pretrain_step.sh [steps] [batch]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
batch=${2:-128}
python=${PYTHON:-python3}
timer=()
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "peak RSS %M KiB"); fi

cargo build --release -q -p corruptencoder-train --example pretrain_step
ours=$("${timer[@]}" target/release/examples/pretrain_step "$steps" "$batch" 2>&1)
echo "$ours"
if "$python" -c "import torch" 2>/dev/null; then
    theirs=$("${timer[@]}" "$python" bench/pretrain_step.py "$steps" "$batch" 2>&1)
    echo "$theirs"
    a=$(grep -o '[0-9.]* views/s' <<<"$ours" | cut -d' ' -f1)
    b=$(grep -o '[0-9.]* views/s' <<<"$theirs" | cut -d' ' -f1)
    echo "ratio ours/pytorch: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
else
    echo "no torch in $python: PyTorch side skipped (set PYTHON to a Python with torch)"
fi
