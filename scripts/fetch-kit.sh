#!/usr/bin/env bash
# Builds "the kit", the authors' real attack inputs, from their public repository
# (https://github.com/jzhang538/CorruptEncoder, pinned to one commit below):
#
#   KIT/references/<class>/        hunting-dog, komondor, lorikeet, rottweiler: k.JPEG, k.json
#                                  (labelme polygons) and k/{img.png,label.png,label_names.txt}
#                                  for k = 1, 2, 3; hunting-dog/support-images/ (5 photos)
#   KIT/triggers/                  trigger_10.png ... trigger_19.png, hello_kitty.jpeg
#   KIT/backgrounds/               650 Places365 validation photos
#   KIT/imagenet100_A.txt          WordNet ids of the pre-training classes
#   KIT/imagenet100_B.txt          WordNet ids of the downstream classes
#
# Usage: scripts/fetch-kit.sh [KIT]
#   KIT defaults to ../shared/kit beside the repository, where the tests, the benchmarks and
#   the reference experiment files (configs/*-reference.toml) look for it. Tests elsewhere:
#   CORRUPTENCODER_KIT=/path/to/kit cargo test --workspace.
#   CORRUPTENCODER_KIT_REPO overrides the repository to copy from (a URL, or the path of a
#   clone already on disk).
#
# Needs git and a network connection; nothing in the build, the tests or CI runs it. Run
# from a machine without network access it fails at the clone and changes nothing. What was
# tested here: the copying, from a local clone of the pinned commit (the result equals the
# kit the tests use, file for file); the download itself could not be tested where this
# script was written, which has no network.
set -euo pipefail

REPO=${CORRUPTENCODER_KIT_REPO:-https://github.com/jzhang538/CorruptEncoder.git}
# The authors' commit "add clip code" (2025-02-09); the kit's files are those of this commit.
COMMIT=c2bf36177432ee500dda2056f3ede307c528d808
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIT=${1:-$ROOT/../shared/kit}

if [ -e "$KIT" ]; then
  echo "error: $KIT exists; remove it first or give another folder" >&2
  exit 1
fi
command -v git >/dev/null || { echo "error: git is needed" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/repo
git init -q "$SRC"
git -C "$SRC" remote add origin "$REPO"
# One commit, no history: GitHub serves a commit by its hash.
if ! git -C "$SRC" fetch -q --depth 1 origin "$COMMIT"; then
  echo "error: cannot fetch commit $COMMIT of $REPO (no network, or the repository moved)" >&2
  exit 1
fi
git -C "$SRC" -c advice.detachedHead=false checkout -q FETCH_HEAD

STAGE=$WORK/kit
mkdir -p "$STAGE/references" "$STAGE/triggers" "$STAGE/backgrounds"
for class in hunting-dog komondor lorikeet rottweiler; do
  from=$SRC/generate-poison/references/$class
  to=$STAGE/references/$class
  mkdir -p "$to"
  for k in 1 2 3; do
    cp "$from/$k.JPEG" "$from/$k.json" "$to/"
    mkdir -p "$to/$k"
    # label_viz.png, labelme's preview of the mask, is not an input.
    cp "$from/$k/img.png" "$from/$k/label.png" "$from/$k/label_names.txt" "$to/$k/"
  done
done
cp -r "$SRC/generate-poison/references/hunting-dog/support-images" \
  "$STAGE/references/hunting-dog/support-images"
cp "$SRC"/generate-poison/triggers/* "$STAGE/triggers/"
cp "$SRC"/generate-poison/places/* "$STAGE/backgrounds/"
cp "$SRC/generate-poison/imagenet100_A.txt" "$STAGE/imagenet100_A.txt"
cp "$SRC/get_downstream_dataset/imagenet100_B.txt" "$STAGE/imagenet100_B.txt"

# What the tests rely on, checked before the kit is put in place.
count() { find "$1" -type f | wc -l; }
[ "$(count "$STAGE/backgrounds")" -eq 650 ] || { echo "error: expected 650 backgrounds" >&2; exit 1; }
[ "$(count "$STAGE/triggers")" -eq 11 ] || { echo "error: expected 11 trigger images" >&2; exit 1; }
[ "$(count "$STAGE/references/hunting-dog/support-images")" -eq 5 ] ||
  { echo "error: expected 5 support images" >&2; exit 1; }

mkdir -p "$(dirname "$KIT")"
mv "$STAGE" "$KIT"
echo "kit written to $KIT ($(count "$KIT") files)"
