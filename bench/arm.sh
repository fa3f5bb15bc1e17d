#!/usr/bin/env bash
# One CorruptEncoder arm of `corruptencoder demo --full` (configs/demo-full.toml: BYOL, one
# reference object, the small CNN at 32 px, batch 128, SGD with the cosine schedule), trained
# for N epochs and scored with the linear probe (CA and ASR), in our CLI and in a PyTorch
# script written to the same recipe (bench/arm_torch.py, torch 2.15.0 / torchvision 0.29.2),
# on the same images, on this machine, in this run. Prints each side's wall time, views/s
# (whole pre-training, and the median step), peak RSS (GNU time), the phases each exposes,
# and the ratios ours/PyTorch.
#
# The images: our CLI writes them first (untimed, reused across runs) by running the demo's
# experiment with only its CorruptEncoder arm for one epoch; both sides then train on that
# run's poisoned pre-training list (clean images + poisons) and score on its downstream sets
# and triggered test set. The recipe both sides train with is that run's resolved
# pretrain/config.toml with the epochs, method and width below.
#
# Usage: bench/arm.sh [epochs]          (default 10)
# Environment:
#   METHOD=byol|moco-v2   the method (default byol; moco-v2 takes configs/demo.toml's table:
#                         queue 1024, momentum 0.99, temperature 0.2, split BN 8)
#   WIDTH=16|32|64        small-CNN base width (default: the demo's, 16)
#   IMAGES=N              clean pre-training images (default: the demo's, 2000; poisons are
#                         5 % of them); a small N makes a quick smoke run
#   THREADS=N             compute threads of both sides (default: all cores); PyTorch's
#                         DataLoader gets ARM_WORKERS workers (default THREADS)
#   WORK=DIR              scratch folder (default target/bench-arm)
#   CORRUPTENCODER_BIN    our binary; unset: cargo builds the release binary
#   PYTHON                a Python with the pinned torch (else bench/torch_python.sh's choice)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}
method=${METHOD:-byol}
width=${WIDTH:-16}
images=${IMAGES:-}
threads=${THREADS:-$(nproc)}
work=${WORK:-target/bench-arm}
case "$method" in byol | moco-v2) ;; *) echo "METHOD must be byol or moco-v2, not $method" >&2; exit 2 ;; esac
. bench/torch_python.sh
# bench/torch_python.sh's own venv gets the pinned pair bench/arm_torch.py checks for.
if [ "$python" = bench/.venv/bin/python ] && ! "$python" -c "import torchvision" 2>/dev/null; then
    echo "installing torch 2.15.0 and torchvision 0.29.2 into bench/.venv (once)" >&2
    bench/.venv/bin/pip install -q torch==2.15.0 torchvision==0.29.2 || true
fi
if [ -n "${CORRUPTENCODER_BIN:-}" ]; then
    bin=$CORRUPTENCODER_BIN
else
    # --workspace: -p would resolve burn's features differently and rebuild it.
    cargo build --release -q --workspace
    bin=${CARGO_TARGET_DIR:-target}/release/corruptencoder
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
timer=(/usr/bin/time -v)
[ -x /usr/bin/time ] || { echo "bench/arm.sh needs GNU time at /usr/bin/time" >&2; exit 2; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "load before: $(uptime | sed 's/.*load average/load average/')"

# 1. The images (untimed): the demo's CorruptEncoder arm for one epoch, probe of one epoch.
setup=$work/setup-${images:-demo}
if [ ! -f "$setup/results.json" ]; then
    awk -v images="$images" '
        function flush() { if (arm != "" && arm ~ /\nname = "corruptencoder"\n/) printf "%s", arm; arm = "" }
        /^\[\[arms\]\]/ { flush(); inarms = 1 }
        inarms { arm = arm $0 "\n"; next }
        /^\[/ { table = $0 }
        /^name = / && table == "" { print "name = \"bench/arm.sh images: the demo --full CorruptEncoder arm\""; next }
        table == "[data]" && /^pretrain = / && images != "" { print "pretrain = " images; next }
        (table == "[pretrain]" || table == "[eval.classifier]") && /^epochs = / { print "epochs = 1"; next }
        table == "[pretrain.monitor]" && /^every = / { print "every = 0"; next }
        { print }
        END { flush() }' configs/demo-full.toml >"$setup.toml"
    echo "writing the images: $bin experiment $setup.toml"
    "$bin" experiment "$setup.toml" --out "$setup" --force -q >/dev/null
fi
run=$setup/runs/corruptencoder/seed-0
target=$(awk '/^\[attack\]/ { a = 1 } a && /^target = / { print $3; exit }' "$setup/experiment.toml")
# Both sides read copies of the run's lists with absolute paths. Lists that hold absolute
# paths name them inside the experiment's staging folder (.<out>.partial), renamed to <out>
# when the experiment finished: those are pointed at <out>; relative ones at their list's folder.
staged="$(dirname "$setup")/.$(basename "$setup").partial/"
absolute() {
    awk -v s="$staged" -v f="$setup/" -v dir="$(dirname "$1")/" '
        index($0, s) == 1 { $0 = f substr($0, length(s) + 1) }
        !/^\// { $0 = dir $0 }
        { print }' "$1" >"$2"
    local first
    first=$(head -1 "$2" | awk '{ print $1 }')
    [ -f "$first" ] || { echo "$first (from $1) not found" >&2; exit 1; }
}
absolute "$run/poisons/filelist.txt" "$work/filelist.txt"
absolute "$setup/data/downstream-train/list.txt" "$work/train.txt"
absolute "$setup/data/downstream-test/list.txt" "$work/test.txt"
absolute "$setup/testset/filelist.txt" "$work/triggered.txt"
train=$work/train.txt
test=$work/test.txt
triggered=$work/triggered.txt

# 2. The recipe: the arm's resolved config with these epochs, width and method.
config=$work/$method-w$width-e$epochs.toml
awk -v epochs="$epochs" -v width="$width" '
    /^\[/ { table = $0 }
    table == "[method]" { next }
    table == "" && /^epochs = / { print "epochs = " epochs; next }
    table == "[encoder]" && /^width = / { print "width = " width; next }
    { print }' "$run/pretrain/config.toml" >"$config"
if [ "$method" = byol ]; then
    sed -n '/^\[method\]/,$p' "$run/pretrain/config.toml" >>"$config"
else
    sed -n '/^\[pretrain.method\]/,/^$/p' configs/demo.toml | sed 's/^\[pretrain.method\]/[method]/' >>"$config"
fi
echo "recipe: $config ($(grep -c . "$work/filelist.txt") images, $epochs epochs, $method, width $width, $threads threads)"

seconds() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$1"; }
peak() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

# 3. Ours: pre-training, then the probe (`eval`: features, linear probe, CA and ASR).
RAYON_NUM_THREADS=$threads "${timer[@]}" -o "$work/ours-pretrain.time" \
    "$bin" pretrain --data "$work/filelist.txt" --config "$config" --out "$work/ours" --force -q
RAYON_NUM_THREADS=$threads "${timer[@]}" -o "$work/ours-eval.time" \
    "$bin" eval --encoder "$work/ours/encoder.safetensors" --train "$train" --test "$test" \
    --triggered "$triggered" --target "$target" --resize 0 --crop 32 --batch-size 250 \
    --seed 0 --json "$work/ours-eval.json" -q >"$work/ours-eval.txt"
pre=$(seconds "$work/ours-pretrain.time")
probe=$(seconds "$work/ours-eval.time")
ours_stats=$("$python" - "$work/ours/log.jsonl" "$(grep -m1 '^batch_size' "$config" | awk '{ print $3 }')" "$pre" <<'EOF'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
steps = [l for l in lines if "loss" in l]
views = 2 * int(sys.argv[2]) * len(steps)
print(f"{len(steps)} {views / float(sys.argv[3]):.1f} {statistics.median(l['views_per_sec'] for l in steps):.1f} {steps[-1]['loss']:.4f}")
EOF
)
read -r ours_steps ours_vps ours_steady ours_loss <<<"$ours_stats"
# Summed over the steps: waiting for views, forward, backward, optimiser, the method's own
# updates (log.jsonl's per-step `seconds`).
ours_phases=$("$python" - "$work/ours/log.jsonl" <<'EOF'
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
total = lambda k: sum((s.get("seconds") or {}).get(k) or 0.0 for s in steps)
print(", ".join(f"{k} {total(k):.1f}s" for k in ["data", "forward", "backward", "update", "after"]))
EOF
)
ours_wall=$(awk -v a="$pre" -v b="$probe" 'BEGIN { printf "%.2f", a + b }')
ours_peak=$(awk -v a="$(peak "$work/ours-pretrain.time")" -v b="$(peak "$work/ours-eval.time")" 'BEGIN { print (a > b ? a : b) }')
echo "ours ($bin) $method small-cnn-w$width: $ours_steps steps, $threads threads"
echo "  pretrain ${pre}s: $ours_vps views/s; steady $ours_steady views/s (median step, log.jsonl)"
echo "  phases: pretrain ${pre}s ($ours_phases), probe ${probe}s"
pct() { grep -m1 "^$1" "$work/ours-eval.txt" | grep -o '[0-9.]*%' | head -1 | tr -d %; }
echo "  last loss $ours_loss, CA $(pct top-1) %, ASR $(pct ASR) %"
echo "  arm ${ours_wall}s, peak RSS $ours_peak MiB"

# 4. PyTorch, on the same images with the same recipe.
quiet() { grep -v -e NumPy -e _conversion_method_template || true; }
if "$python" -c "import torch, torchvision" 2>/dev/null; then
    theirs=$(ARM_THREADS=$threads "${timer[@]}" -o "$work/torch.time" \
        "$python" bench/arm_torch.py "$config" "$work/filelist.txt" "$train" "$test" "$triggered" "$target" 2>&1 | quiet)
    echo "$theirs"
    torch_wall=$(seconds "$work/torch.time")
    echo "  process ${torch_wall}s (with Python and torch start-up), peak RSS $(peak "$work/torch.time") MiB (main process)"
    torch_vps=$(grep -o 'pretrain [0-9.]*s[^:]*: [0-9.]* views/s' <<<"$theirs" | awk '{ print $(NF-1) }')
    torch_steady=$(grep -o 'steady [0-9.]* views/s' <<<"$theirs" | awk '{ print $2 }')
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    echo "ratio ours/pytorch views/s: $(ratio "$ours_vps" "$torch_vps") (whole pre-training), $(ratio "$ours_steady" "$torch_steady") (median step)"
    torch_arm=$(grep -o '^  arm [0-9.]*s' <<<"$theirs" | grep -o '[0-9.]*')
    echo "ratio pytorch/ours arm wall time: $(ratio "$torch_arm" "$ours_wall") (PyTorch from its first line of work), $(ratio "$torch_wall" "$ours_wall") (its whole process)"
else
    echo "no torch/torchvision in $python: PyTorch side skipped (set PYTHON to a Python with torch $(grep -o '"2[0-9.]*"' bench/arm_torch.py | head -1))"
fi
echo "load after: $(uptime | sed 's/.*load average/load average/')"
