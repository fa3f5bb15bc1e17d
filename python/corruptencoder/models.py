"""PyTorch definitions of corruptencoder's encoders, with the key names that
`corruptencoder export --format torchvision` writes (and `pretrain`'s encoder.safetensors
holds), so that `model.load_state_dict(load_file(path), strict=True)` fills every tensor.

- `resnet(arch, stem, width)`: torchvision's ResNet-18/34/50 (its own BasicBlock and
  Bottleneck) at any base width, `fc` replaced by `Identity` so that the model outputs the
  pooled features. At width 64 with the ImageNet stem it is `torchvision.models.resnetNN()`
  with `fc = Identity()`; the CIFAR stem is a 3x3 stride-1 `conv1` and no max-pool.
- `SmallCnn(width)`: the three-conv demo network (`convs.{0,1,2}`, `bns.{0,1,2}`).
- `load_encoder(path)`: builds the right one from the file (its metadata, or its tensor
  shapes for files without it) and loads it, in eval mode.

Inputs are [B, 3, H, W] images in [0, 1] normalised with ImageNet's mean and std; outputs
are [B, F] features (512 for ResNet-18/34 at width 64, 2048 for ResNet-50, 4 * width for
the small CNN).
"""

import torch
from torch import nn

ARCHS = ("resnet18", "resnet34", "resnet50")


class SmallCnn(nn.Module):
    """Three 3x3 convs of widths w, 2w, 4w (the last two stride 2), each followed by batch
    norm and ReLU, then global average pooling: crates/train/src/encoder/small_cnn.rs."""

    def __init__(self, width=16):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width]
        self.convs = nn.ModuleList(
            nn.Conv2d(chans[i], chans[i + 1], 3, stride=1 if i == 0 else 2, padding=1, bias=False)
            for i in range(3)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(c) for c in chans[1:])

    def forward(self, x):
        for conv, bn in zip(self.convs, self.bns):
            x = torch.relu(bn(conv(x)))
        return x.mean(dim=(2, 3))


def resnet(arch="resnet18", stem="imagenet", width=64):
    """torchvision's ResNet `arch` at base `width` with `stem` ("imagenet": 7x7 stride-2 conv
    and 3x3 max-pool; "cifar": 3x3 stride-1 conv, no max-pool), without its classifier."""
    from torchvision.models import resnet as tv

    if arch not in ARCHS:
        raise ValueError(f"arch {arch!r} is not one of {ARCHS}")
    if stem not in ("imagenet", "cifar"):
        raise ValueError(f"stem {stem!r} is not 'imagenet' or 'cifar'")
    model = getattr(tv, arch)()
    if width != 64:
        # torchvision fixes the base width at 64; its own _make_layer rebuilds the layers
        # from `inplanes`, with the same blocks and key names.
        block = type(model.layer1[0])
        blocks = [len(getattr(model, f"layer{i}")) for i in range(1, 5)]
        model.inplanes = width
        model.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        model.bn1 = nn.BatchNorm2d(width)
        for i, n in enumerate(blocks):
            layer = model._make_layer(block, width << i, n, stride=1 if i == 0 else 2)
            setattr(model, f"layer{i + 1}", layer)
    if stem == "cifar":
        model.conv1 = nn.Conv2d(3, width, 3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    model.fc = nn.Identity()
    return model


def describe(state, metadata=None):
    """(arch, stem, width) of a state dict: from `corruptencoder export`'s metadata when
    given, else from the tensor shapes, as crates/train/src/import.rs infers them."""
    if metadata and "arch" in metadata:
        return metadata["arch"], metadata.get("stem", "cifar"), int(metadata["width"])
    if "convs.0.weight" in state:
        return "small-cnn", "cifar", state["convs.0.weight"].shape[0]
    width, _, k, _ = state["conv1.weight"].shape
    stem = "imagenet" if k == 7 else "cifar"
    blocks = [sum(1 for key in state if key.startswith(f"layer{i}.") and key.endswith(".conv1.weight"))
              for i in range(1, 5)]
    if "layer1.0.conv3.weight" in state:
        return "resnet50", stem, width
    return ("resnet18" if blocks == [2, 2, 2, 2] else "resnet34"), stem, width


def build(arch, stem="imagenet", width=64):
    """The module for an encoder of `arch` ("small-cnn" or a ResNet), `stem` and `width`."""
    if arch == "small-cnn":
        return SmallCnn(width)
    return resnet(arch, stem, width)


def load_encoder(path, device="cpu"):
    """The encoder in the safetensors file `path` (an export or a run's encoder.safetensors),
    loaded with strict=True, in eval mode."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    state = load_file(str(path), device=device)
    model = build(*describe(state, metadata))
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()
