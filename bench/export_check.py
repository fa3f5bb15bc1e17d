"""Exports of `corruptencoder export` loaded in PyTorch give our features (bench/export_check.sh).

For each encoder: pre-train it for one epoch with the CLI (so batch-norm statistics and
weights are trained, not initial), export it, execute the Python lines the export command
prints (they build the module, torchvision's own where it has one, and load the file with
strict=True), run PyTorch on generated images and compare with our features of the same
images. Also checks `corruptencoder.models.load_encoder` gives the same module.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
from corruptencoder.models import load_encoder  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

# name, pretrain flags, image side
ENCODERS = [
    ("resnet18-cifar-w64", ["--arch", "resnet18", "--stem", "cifar", "--width", "64"], 32),
    ("resnet18-imagenet-w64", ["--arch", "resnet18", "--stem", "imagenet", "--width", "64"], 64),
    ("resnet50-cifar-w16", ["--arch", "resnet50", "--stem", "cifar", "--width", "16"], 32),
    ("small-cnn-w16", ["--arch", "small-cnn", "--width", "16"], 32),
]


def images(folder, side, n=16):
    """`n` images of random coloured blocks at `side` px, in two class folders."""
    rng = np.random.default_rng(side)
    for i in range(n):
        blocks = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        pixels = np.kron(blocks, np.ones((side // 4, side // 4, 1), dtype=np.uint8))
        noise = rng.integers(0, 40, size=pixels.shape, dtype=np.uint8)
        out = folder / ("a" if i % 2 else "b") / f"img{i:02d}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels + noise).save(out)


def run(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def torch_features(model, sources):
    batch = torch.stack([torch.from_numpy(np.asarray(Image.open(s).convert("RGB")).copy())
                         for s in sources]).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        return model((batch - MEAN) / STD)


def check(name, encoder, folder, side, args, work):
    export = work / f"{name}.safetensors"
    snippet = run(args.bin, "-q", "export", encoder, "--format", "torchvision", "--out", export)
    scope = {}
    exec(snippet, scope)
    model = scope["model"]
    ours_json = work / f"{name}.features.json"
    run(args.features_bin, encoder, folder, side, ours_json)
    ours = json.loads(ours_json.read_text())
    sources = ours["sources"]
    theirs = torch_features(model, sources)
    ours = torch.tensor(ours["features"])
    diff = (theirs - ours).abs().max().item()
    # corruptencoder.models.load_encoder builds the module from the file's metadata.
    again = (torch_features(load_encoder(export), sources) - theirs).abs().max().item()
    builder = next(l for l in snippet.splitlines() if l.startswith("model = "))
    print(f"{name:<24} {builder[8:]:<48} {tuple(ours.shape)!s:<10} {ours.abs().max().item():>9.4f} "
          f"{diff:>10.2e} {again:>8.1e}")
    return diff / max(ours.abs().max().item(), 1e-12)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--features-bin", required=True)
    parser.add_argument("--work")
    args = parser.parse_args()
    work = pathlib.Path(args.work or tempfile.mkdtemp(prefix="export-check-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, work folder {work}")
    print(f"{'encoder':<24} {'PyTorch module':<48} {'features':<10} {'max |f|':>9} "
          f"{'max diff':>10} {'loader':>8}")
    worst = 0.0
    for name, flags, side in ENCODERS:
        folder = work / f"images{side}"
        if not folder.exists():
            images(folder, side)
        out = work / "runs" / name
        if not (out / "encoder.safetensors").exists():
            run(args.bin, "-q", "pretrain", "--data", folder, "--out", out, "--force",
                "--method", "simclr", "--epochs", "1", "--batch-size", "8",
                "--image-size", side, "--seed", "1", *flags)
        worst = max(worst, check(name, out / "encoder.safetensors", folder, side, args, work))
    moco = ROOT / "crates/train/tests/fixtures/moco_resnet18_w4.pth.tar"
    worst = max(worst, check("moco-pth-resnet18-w4", moco, work / "images64", 64, args, work))
    print(f"largest difference relative to the largest feature: {worst:.2e}")
    if worst > 1e-4:
        sys.exit("FAILED: PyTorch's features differ from ours")


if __name__ == "__main__":
    main()
