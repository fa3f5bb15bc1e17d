#!/usr/bin/env bash
# SimCLR training step, ResNet-18 width 32, CIFAR stem, 32x32, batch 128 (256 views):
# views/s of ours (burn 0.22 flex CPU backend with our convolution and batch-norm kernels),
# of stock flex (the same binary with our kernels off) and of PyTorch on the same machine in
# the same run, with the ratios ours/pytorch and ours/stock-flex, the fraction of the
# machine's FMA peak each reaches, and each side's peak memory (GNU time).
# FMA peak: cores x cpu MHz x 32 f32 FLOP/cycle (two 256-bit FMA pipes, as on Zen 4 and
# recent Intel cores); override with PEAK_GFLOPS=... when the clock or the pipes differ.
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
# Convolution FLOPs of one training view of this model: forward 0.2786 GFLOP (2 x MACs of
# every conv), backward twice that less the stem's input gradient, 0.8340 GFLOP in all.
gflop_per_view=0.8340
peak=${PEAK_GFLOPS:-$(awk -v n="$(nproc)" '/^cpu MHz/ { mhz = $4; exit } END { printf "%.0f", n * mhz * 32 / 1000 }' /proc/cpuinfo)}
fma() { awk -v v="$(vps "$1")" -v g="$gflop_per_view" -v p="$peak" 'BEGIN { printf "%.1f GFLOP/s, %.0f %% of %s GFLOP/s FMA peak", v * g, 100 * v * g / p, p }'; }
echo "load before: $(uptime | sed 's/.*load average/load average/')"

# --workspace: -p would resolve burn's features differently and rebuild it.
cargo build --release -q --workspace --example pretrain_step
flex=$("${timer[@]}" target/release/examples/pretrain_step "$steps" "$batch" flex 2>&1)
echo "$flex"
stock=$("${timer[@]}" target/release/examples/pretrain_step "$steps" "$batch" flex-stock 2>&1)
echo "$stock"
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
    echo "ratio ours/pytorch: $(ratio "$flex" "$theirs")"
    if [ -n "${tch:-}" ]; then echo "ratio libtorch/pytorch: $(ratio "$tch" "$theirs")"; fi
else
    echo "no torch in $python: PyTorch side skipped (set PYTHON to a Python with torch)"
fi
echo "ratio ours/stock-flex: $(ratio "$flex" "$stock")"
echo "ours: $(fma "$flex")"
echo "stock flex: $(fma "$stock")"
if [ -n "${theirs:-}" ]; then echo "pytorch: $(fma "$theirs")"; fi
echo "load after: $(uptime | sed 's/.*load average/load average/')"
