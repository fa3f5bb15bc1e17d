#!/usr/bin/env bash
# Encoders out to PyTorch, checked end to end: pre-trains tiny encoders with the CLI (ResNet-18
# at width 64 with the CIFAR and the ImageNet stem, a width-16 ResNet-50 and the small CNN),
# exports each with `corruptencoder export --format torchvision`, plus the authors'-style MoCo
# checkpoint fixture, runs the Python lines the export prints (torchvision's resnet18 for the
# width-64 ResNets, python/corruptencoder/models.py for the rest) and compares PyTorch's
# features of generated images with ours (crates/train/examples/encoder_features.rs).
# PyTorch, torchvision and safetensors come from bench/torch_python.sh's Python.
# Builds the dev profile (the test build's; PROFILE=release for a release build).
# Usage: bench/export_check.sh [work dir, default a temporary one]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/torch_python.sh
if ! "$python" -c "import torchvision, safetensors" 2>/dev/null; then
    "$python" -m pip install -q torchvision safetensors
fi
profile=${PROFILE:-dev}
cargo build -q --profile "$profile" --workspace --bins --example encoder_features
dir=${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")
"$python" bench/export_check.py --bin "$dir/corruptencoder" \
    --features-bin "$dir/examples/encoder_features" ${1:+--work "$1"}
