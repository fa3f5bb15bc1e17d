# Sourced by the bench scripts: sets $python to a Python that has torch, for the PyTorch
# anchors. $PYTHON if set, else python3 if it has torch, else bench/.venv, made on first use
# (pip install torch: a download of a few GB, once).
if [ -n "${PYTHON:-}" ]; then
    python=$PYTHON
elif python3 -c "import torch" 2>/dev/null; then
    python=python3
else
    python=bench/.venv/bin/python
    if ! "$python" -c "import torch" 2>/dev/null; then
        echo "installing torch into bench/.venv (once) for the PyTorch anchor" >&2
        { [ -x "$python" ] || python3 -m venv bench/.venv; } && bench/.venv/bin/pip install -q torch || true
    fi
fi
