"""TensorBoard reads the event files `pretrain.tensorboard` writes (bench/tensorboard_check.sh).

Runs a tiny experiment (two arms, monitor every epoch, tensorboard on), then for each run:
reads its event file with TensorBoard's EventAccumulator (CRC-checked record reading, the
protobuf parse, the scalar plugin's view) and compares every scalar with log.jsonl; then
serves the runs with `tensorboard --logdir` and reads the same scalars from its HTTP API,
the numbers a researcher's browser would draw.
"""
import argparse
import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import tensorboard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

EXPERIMENT = """
name = "tensorboard check"
seeds = [0]

[data]
source = "synthetic"
pretrain = 96
downstream_train = 60
downstream_test = 30
backgrounds = 10
background_size = [128, 96]

[data.world]
classes = 3
size = 32
reference_size = 64

[attack]
target = 0
references = 1
poison_ratio = 0.1

[testset]
trigger_size = 16
format = "png"

[eval]
batch_size = 64

[eval.transform]
resize = 0
crop = 32

[eval.classifier]
kind = "knn"
k = 5

[pretrain]
epochs = 3
batch_size = 16
tensorboard = true

[pretrain.encoder]
arch = "small-cnn"
stem = "cifar"
width = 8

[pretrain.views]
size = 32

[pretrain.monitor]
every = 1

[pretrain.monitor.knn]
k = 5

[pretrain.method]
name = "simclr"

[[arms]]
name = "clean"

[[arms]]
name = "corruptencoder"

[arms.attack]
kind = "corruptencoder"
trigger_size = 24
"""

# log.jsonl field of each tag
FIELDS = {
    "train/loss": "loss",
    "train/lr": "lr",
    "monitor/knn_accuracy": "knn_accuracy",
    "monitor/asr": "asr",
    "monitor/target_patch_asr": "ceiling",
}


def logged(run, field):
    """(step, value as f32) of every log.jsonl line with `field`."""
    import struct
    f32 = lambda v: struct.unpack("f", struct.pack("f", v))[0]
    lines = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
    return [(l["step"], f32(l[field])) for l in lines if l.get(field) is not None]


def served(logdir, expected):
    """{run: {tag: [(step, value)]}} from a TensorBoard server's scalars HTTP API, polled
    until it serves `expected` ({run: {tag: points}}) or two minutes pass."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--port", str(port),
         "--host", "127.0.0.1", "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/data/plugin/scalars"

    def get(path, **query):
        url = f"{base}/{path}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())

    try:
        deadline = time.time() + 120
        while True:
            try:
                tags = get("tags")
                out = {run: {tag: [(p[1], p[2]) for p in get("scalars", run=run, tag=tag)]
                             for tag in tags.get(run, {})}
                       for run in expected}
                if out == expected or time.time() > deadline:
                    return out
            except OSError:
                if time.time() > deadline:
                    raise
            time.sleep(1)
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work")
    args = parser.parse_args()
    work = pathlib.Path(args.work or tempfile.mkdtemp(prefix="tensorboard-check-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "experiment.toml").write_text(EXPERIMENT)
    out = work / "out"
    print(f"tensorboard {tensorboard.__version__}, work folder {work}")
    if not out.exists():
        subprocess.run([args.bin, "-q", "experiment", work / "experiment.toml", "--out", out],
                       check=True)
    files = sorted(out.glob("runs/**/events.out.tfevents.*"))
    if not files:
        sys.exit("FAILED: no event file written")
    failed = False
    expected = {}
    for path in files:
        run = path.parent
        name = str(run.relative_to(out))
        acc = EventAccumulator(str(run))
        acc.Reload()
        counts = []
        expected[name] = {}
        for tag, field in FIELDS.items():
            ours = logged(run, field)
            if ours:
                expected[name][tag] = ours
            present = tag in acc.Tags()["scalars"]
            theirs = [(e.step, e.value) for e in acc.Scalars(tag)] if present else []
            same = theirs == ours
            failed |= not same
            counts.append(f"{tag} {len(theirs)}{'' if same else ' DIFFERS'}")
        last = acc.Scalars("monitor/knn_accuracy")[-1]
        print(f"EventAccumulator, {name}: {', '.join(counts)}; "
              f"last kNN CA {last.value:.1f} % at step {last.step}")
    server = served(out, expected)
    for name in expected:
        same = server.get(name) == expected[name]
        failed |= not same
        points = sum(len(v) for v in server.get(name, {}).values())
        print(f"tensorboard server, {name}: {points} points, "
              f"{'equal to' if same else 'DIFFERENT from'} log.jsonl")
    if failed:
        sys.exit("FAILED: TensorBoard's scalars differ from log.jsonl")
    print("ok: every scalar TensorBoard reads equals log.jsonl's")


if __name__ == "__main__":
    main()
