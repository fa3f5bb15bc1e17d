#!/usr/bin/env bash
# Builds the `corruptencoder` wheel (pyproject.toml: maturin, `bin` bindings, the CLI binary
# plus the `corruptencoder` Python package), installs it offline into a fresh venv and runs
# the installed copy: `corruptencoder --version`, a tiny `poison corruptencoder` on generated
# references and backgrounds, and `import corruptencoder.models`. Not part of CI: the wheel is
# a full release build (10-15 min on 2 cores from an empty target folder).
#
# maturin: $MATURIN, else `maturin` on PATH, else installed with pip into target/maturin-venv.
# The wheel lands in target/wheels/ whatever CARGO_TARGET_DIR says (--out).
# Usage: scripts/build-wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -n "${MATURIN:-}" ]; then
    maturin=$MATURIN
elif command -v maturin >/dev/null 2>&1; then
    maturin=maturin
else
    maturin=target/maturin-venv/bin/maturin
    if [ ! -x "$maturin" ]; then
        echo "installing maturin into target/maturin-venv (once)" >&2
        python3 -m venv target/maturin-venv
        target/maturin-venv/bin/pip install -q 'maturin>=1.9,<2'
    fi
fi
echo "== $("$maturin" --version)"

echo "== maturin build --release"
rm -f target/wheels/corruptencoder-*.whl
start=$SECONDS
"$maturin" build --release --locked --out target/wheels
echo "== built in $((SECONDS - start)) s"
wheel=$(ls target/wheels/corruptencoder-*.whl)
echo "== $wheel ($(du -h "$wheel" | cut -f1))"
python3 -m zipfile -l "$wheel"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== pip install --no-index into a fresh venv ($work/venv)"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-index "$wheel"
bin="$work/venv/bin/corruptencoder"
echo "== which corruptencoder: $(PATH="$work/venv/bin:$PATH" command -v corruptencoder)"

echo "== corruptencoder --version"
"$bin" --version

echo "== poison corruptencoder on generated inputs"
# Three references (an RGBA disc on a 64 px image each: the alpha is the mask), four plain
# backgrounds and a white trigger, written by the venv's Python without third-party packages.
"$work/venv/bin/python" - "$work" <<'PY'
import pathlib, struct, sys, zlib

def png(path, w, h, pixel, alpha):
    rows = b"".join(b"\0" + b"".join(pixel(x, y) for x in range(w)) for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

work = pathlib.Path(sys.argv[1])
(work / "references").mkdir()
(work / "backgrounds").mkdir()
for k in range(3):
    def disc(x, y, k=k):
        inside = (x - 32) ** 2 + (y - 32) ** 2 < (20 + 3 * k) ** 2
        return bytes([200, 40 * k, 60, 255 if inside else 0])
    png(work / "references" / f"object{k}.png", 64, 64, disc, alpha=True)
for k in range(4):
    png(work / "backgrounds" / f"bg{k}.png", 160, 120,
        lambda x, y, k=k: bytes([(x * 3 + 50 * k) % 256, (y * 2) % 256, 90]), alpha=False)
PY
"$bin" poison corruptencoder --references "$work/references" --backgrounds "$work/backgrounds" \
    --trigger white --trigger-size 12 --max-size 200 --num-poisons 4 --seed 0 --out "$work/poisons"
echo "-- $(ls "$work/poisons" | tr '\n' ' ')"
head -n 2 "$work/poisons/manifest.jsonl"

echo "== the wheel's Python package (corruptencoder.models needs torch, so it is found, not imported)"
"$work/venv/bin/python" -c "import corruptencoder, importlib.util; print(corruptencoder.__file__); print('corruptencoder.models:', importlib.util.find_spec('corruptencoder.models').origin)"
echo "== ok"
