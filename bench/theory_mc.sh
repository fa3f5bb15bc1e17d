#!/usr/bin/env bash
# Layout-theory Monte Carlo throughput (view pairs per second), release build.
# Usage: bench/theory_mc.sh [pairs per policy, default 1e8] ; RAYON_NUM_THREADS=2 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}"
cargo run --quiet --release -p corruptencoder-theory --example theory_mc -- "${1:-100000000}"
