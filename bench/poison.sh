#!/usr/bin/env bash
# Poison generation speed: the 650 default CorruptEncoder poisons from the authors' kit,
# ours (all cores) against a single-threaded PIL anchor measured in the same run.
# Usage: bench/poison.sh [KIT] [N]   (KIT defaults to $CORRUPTENCODER_KIT, else ../shared/kit
# beside the repository, as scripts/fetch-kit.sh builds it; N to 650)
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:-${CORRUPTENCODER_KIT:-../shared/kit}}
n=${2:-650}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release -q -p corruptencoder
bin=target/release/corruptencoder
# Warm the page cache so both sides read from memory.
cat "$kit"/backgrounds/* >/dev/null
start=$(date +%s.%N)
$bin -q poison corruptencoder --references "$kit/references/hunting-dog" \
  --backgrounds "$kit/backgrounds" --trigger "$kit/triggers/trigger_10.png" \
  --num-poisons "$n" --out "$tmp/ours"
ours=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
ours_rate=$(awk -v n="$n" -v t="$ours" 'BEGIN{print n/t}')
printf 'ours:   %4d poisons in %6.2f s = %7.1f poisons/s (%d cores)\n' "$n" "$ours" "$ours_rate" "$(nproc)"

py=python3
if ! $py -c 'import PIL, numpy' 2>/dev/null; then
  if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv && bench/.venv/bin/pip install -q pillow numpy || true
  fi
  py=bench/.venv/bin/python
fi
if $py -c 'import PIL, numpy' 2>/dev/null; then
  anchor=$($py bench/anchor_poison.py "$kit" "$tmp/anchor" "$n")
  anchor_rate=$(awk -v n="$n" -v t="$anchor" 'BEGIN{print n/t}')
  printf 'anchor: %4d poisons in %6.2f s = %7.1f poisons/s (PIL, 1 thread)\n' "$n" "$anchor" "$anchor_rate"
  printf 'ratio:  %.1fx the anchor (target: >= 250 poisons/s on 2 cores)\n' "$(awk -v a="$ours_rate" -v b="$anchor_rate" 'BEGIN{print a/b}')"
else
  echo "anchor: skipped (no Python with PIL and numpy)"
fi
