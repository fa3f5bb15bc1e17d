#!/usr/bin/env bash
# Two builds of our CLI on the same pre-training, alternated: the speed a change to the
# kernels or the view pipeline buys, and whether it changed the trained weights.
#
# Usage: bench/compare_bins.sh OLD_BIN NEW_BIN CONFIG LIST [EPOCHS] [ROUNDS]
#   CONFIG  a pre-training config (a run's pretrain/config.toml; set `[monitor] every = 0`
#           so only training is timed)
#   LIST    its `path label` pre-training list (an experiment run's poisons/filelist.txt)
#   EPOCHS  epochs per run (default 2); ROUNDS  old/new pairs (default 2)
# Prints per run: wall and user seconds and peak RSS (GNU time), the median views/s over
# the steps after the first two (log.jsonl), and at the end whether the two builds' encoders
# are byte-identical. Time it on quiet cores: other work on the machine moves the numbers.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,12p' "$0"; exit 2; }
old=$1 new=$2 config=$3 list=$4 epochs=${5:-2} rounds=${6:-2}
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "config: $config; list: $list ($(grep -c . "$list") images); $epochs epochs"
for round in $(seq "$rounds"); do
    for side in old new; do
        bin=$old; [ "$side" = new ] && bin=$new
        out=$work/$side
        rm -rf "$out"
        /usr/bin/time -f "%e %U %M" -o "$work/time" "$bin" pretrain --config "$config" \
            --data "$list" --out "$out" --epochs "$epochs" -q
        read -r wall user rss <"$work/time"
        median=$(python3 -c "
import json, statistics, sys
v = [json.loads(l)['views_per_sec'] for l in open(sys.argv[1]) if 'views_per_sec' in l]
print(round(statistics.median(v[2:] or v), 1))" "$out/log.jsonl")
        printf '%s round %s: wall %6.2f s, user %6.2f s, peak RSS %4d MiB, median %7.1f views/s (%s)\n' \
            "$side" "$round" "$wall" "$user" $((rss / 1024)) "$median" "$bin"
    done
done
if cmp -s "$work/old/encoder.safetensors" "$work/new/encoder.safetensors"; then
    echo "encoders: byte-identical"
else
    echo "encoders: differ"
fi
