#!/usr/bin/env bash
# SimCLR training step, ResNet-18 width 32, CIFAR stem, 32x32, batch 128 (256 views):
# views/s of ours (burn 0.22, flex CPU backend) and of PyTorch on the same machine in the
# same run, plus the ratio and each side's peak memory (GNU time).
# PyTorch comes from bench/torch_python.sh ($PYTHON, python3, or bench/.venv made on first use).
# Usage: bench/pretrain_step.sh [steps] [batch]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5}
batch=${2:-128}
. bench/torch_python.sh
timer=()
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "peak RSS %M KiB"); fi
vps() { grep -o '[0-9.]* views/s' <<<"$1" | cut -d' ' -f1; }
# torch without numpy warns on import; the warning is noise here.
quiet() { grep -v -e NumPy -e _conversion_method_template || true; }
ratio() { awk -v a="$(vps "$1")" -v b="$(vps "$2")" 'BEGIN { printf "%.2f", a / b }'; }

cargo build --release -q -p corruptencoder-train --example pretrain_step
flex=$("${timer[@]}" target/release/examples/pretrain_step "$steps" "$batch" flex 2>&1)
echo "$flex"
# TCH=1 also times burn's LibTorch backend, built against the libtorch of $python's torch
# (burn 0.22's tch expects torch 2.9.0; other versions are tried with the check bypassed).
if [ -n "${TCH:-}" ]; then
    LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1 PATH="$(dirname "$python"):$PATH" \
        cargo build --release -q -p corruptencoder-train --example pretrain_step --features tch
    lib=$("$python" -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
    tch=$(LD_LIBRARY_PATH="$lib" "${timer[@]}" target/release/examples/pretrain_step "$steps" "$batch" libtorch 2>&1 | quiet)
    echo "$tch"
fi
if "$python" -c "import torch" 2>/dev/null; then
    theirs=$("${timer[@]}" "$python" bench/pretrain_step.py "$steps" "$batch" 2>&1 | quiet)
    echo "$theirs"
    echo "ratio flex/pytorch: $(ratio "$flex" "$theirs")"
    if [ -n "${tch:-}" ]; then echo "ratio libtorch/pytorch: $(ratio "$tch" "$theirs")"; fi
else
    echo "no torch in $python: PyTorch side skipped (set PYTHON to a Python with torch)"
fi
