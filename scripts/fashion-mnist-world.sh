#!/usr/bin/env bash
# Builds the Fashion-MNIST world of docs/study/real.md (real labelled images for experiment
# files, `source = "files"`): installs Debian's `dataset-fashion-mnist` when its files are
# missing (70,000 labelled 28 px images, IDX; needs apt and root), then draws the world with
# `corruptencoder world`. Nothing in `cargo test` needs it.
#
#   scripts/fashion-mnist-world.sh [OUT] [extra `corruptencoder world` flags]
#
# OUT defaults to worlds/fashion-mnist; the binary is $CORRUPTENCODER or
# target/release/corruptencoder. The defaults below are the world the study uses.
set -euo pipefail
out=${1:-worlds/fashion-mnist}
shift || true
bin=${CORRUPTENCODER:-target/release/corruptencoder}
src=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    echo "installing dataset-fashion-mnist (Debian) into $src" >&2
    apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
names=$(mktemp)
trap 'rm -f "$names"' EXIT
printf '%s\n' "T-shirt/top" Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot" >"$names"
"$bin" world \
    --train "$src/train-images-idx3-ubyte.gz" \
    --test "$src/t10k-images-idx3-ubyte.gz" \
    --class-names "$names" \
    --out "$out" \
    --pretrain 2000 --downstream-train 1000 --downstream-test 500 \
    --references 3 --supports 5 --target-images 400 \
    --size 32 --reference-scale 4 --scenes 100 --plain 100 --seed 0 \
    "$@"
