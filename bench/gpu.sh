#!/usr/bin/env bash
# The GPU check (docs/gpu.md), for the first machine with an NVIDIA GPU; about 10 minutes:
#   1. builds the step timer with `--features cuda` (a first build downloads LLVM once, see
#      docs/gpu.md; later builds are offline),
#   2. checks loss and weight parity of a few MoCo-v2 steps against the CPU backend,
#   3. times the demo setting (SimCLR, small CNN w16, 32 px, batch 100) and the paper's
#      (MoCo-v2, ResNet-18, 224 px, batch 256, queue 65536) in steps/s,
#   4. prints the projected wall time of the 200-epoch reference run on one such GPU.
# Inputs are random tensors: this times the model, not data loading (docs/gpu.md).
# Usage: bench/gpu.sh [DEVICE] (default cuda:0). FEATURE=wgpu bench/gpu.sh wgpu runs the
# same check on the wgpu backend; STEPS sets the timed steps (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
device=${1:-cuda:0}
feature=${FEATURE:-cuda}
steps=${STEPS:-20}
start=$SECONDS
left() { echo $((600 - (SECONDS - start))); }
say() { printf '\n== %s (%ss elapsed)\n' "$1" "$((SECONDS - start))"; }

say "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null \
    || echo "nvidia-smi not found"
nproc

say "build (--features $feature)"
timeout "$(left)" cargo build --release --locked -q -p corruptencoder-train \
    --example gpu_step --features "$feature"
bin=target/release/examples/gpu_step

status=0
say "parity with the CPU backend"
timeout "$(left)" "$bin" "$device" parity 3 || status=$?

say "demo setting"
timeout "$(left)" "$bin" "$device" demo "$((steps * 5))"

say "paper setting"
timeout "$(left)" "$bin" "$device" paper "$steps"

say "done"
if [ "$status" -ne 0 ]; then echo "parity FAILED (exit $status)"; fi
exit "$status"
