"""The PyTorch side of bench/arm.sh: one CorruptEncoder arm (pre-training, then the linear
probe scored for CA and ASR) written to our recipe as a researcher would write it in PyTorch,
on the very images our CLI wrote (the poisoned pre-training list, the downstream sets, the
triggered test set).

The recipe is read from the same `config.toml` our `corruptencoder pretrain --config` runs:
seed, epochs, batch size, SGD (lr, momentum, weight decay) with MoCo's per-epoch cosine, the
small CNN (widths w, 2w, 4w, 3x3 convs without bias, the last two strided, batch norm, ReLU,
global average pool), the method (BYOL: projector and predictor 4w-hidden-proj with batch
norm, symmetric 2 - 2 cos loss, target EMA with BYOL's cosine momentum; MoCo-v2: head
4w-hidden-128 without batch norm, InfoNCE against a queue, key EMA, split BN with the keys
shuffled across the groups) and the views (torchvision.transforms.v2 in MoCo-v2's order:
RandomResizedCrop, ColorJitter p, RandomGrayscale p, GaussianBlur p, flip, Normalize).

Where this side cannot match ours exactly (also in docs/performance.md, "bench/arm.sh"):
- Random streams: torch's generators, not our ChaCha8 streams per (seed, epoch, image), so
  initial weights, data order, view draws, the MoCo queue's initial keys and its shuffle-BN
  permutations differ; losses and scores agree in distribution only.
- Resize: torchvision's antialiased bilinear resize of uint8 tensors, ours the `image` crate's
  Triangle filter (PIL's antialiased bilinear); the two round differently by a grey level.
- Gaussian blur: v2.GaussianBlur needs one odd kernel size for every sigma; it is
  2 ceil(3 sigma_max) + 1 (13 px for sigma up to 2), where ours spans ceil(3 sigma) pixels
  each side of the sigma drawn: the same kernel at sigma_max, a slightly wider (and dearer)
  one below it (each extra tap weighs under 2e-3 of the centre tap).
- Batch-norm running statistics of the BYOL/MoCo target: ours blends them with the EMA like
  every other float tensor; here too (buffers blended alongside parameters), but
  `num_batches_tracked` (an integer) is left alone.
- MoCo split BN, `split_bn = "batch-norm"` (our default): both sides split each batch norm
  into interleaved groups ([B, C, H, W] seen as [B/G, G*C, H, W]) with one running-statistics
  update per step from the groups' mean, as MoCo's `SplitBatchNorm`; `split_bn = "passes"`:
  one encoder call per group, whose batch norms' running statistics take one update per
  group on both sides (burn's batch norm updates once per call).
- Data loading: a torch DataLoader with worker processes (default one per thread), images
  decoded once into memory first (ours caches decoded images the same way); ours builds the
  views on its compute threads ahead of the step (prefetch 2), without extra processes.
- The training monitor (kNN every 10 epochs in `demo --full`) runs in neither side, and ours
  writes a checkpoint per epoch, which this side does not.
- Peak RSS (GNU time) is that of the largest single process: the DataLoader workers' memory
  is not added to the main process's.

Usage: arm_torch.py CONFIG FILELIST TRAIN_LIST TEST_LIST TRIGGERED_LIST TARGET
  (env ARM_THREADS: torch threads, default all cores; ARM_WORKERS: DataLoader workers,
  default the thread count)
"""
import copy
import math
import os
import statistics
import sys
import time
import tomllib

TORCH, TORCHVISION = "2.15.0", "0.29.2"

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402
from torchvision.io import ImageReadMode, decode_image, read_file  # noqa: E402
from torchvision.transforms import v2  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def check_versions():
    have = (torch.__version__.split("+")[0], torchvision.__version__.split("+")[0])
    if have != (TORCH, TORCHVISION) and not os.environ.get("ARM_ANY_TORCH"):
        sys.exit(f"arm_torch.py is pinned to torch {TORCH} / torchvision {TORCHVISION}, found "
                 f"{have[0]} / {have[1]} (ARM_ANY_TORCH=1 runs it anyway, unpinned)")


def read_list(path):
    """`path label` lines; relative paths are relative to the list's folder."""
    base, items = os.path.dirname(os.path.abspath(path)), []
    with open(path) as f:
        for line in f:
            if line.strip():
                p, label = line.rsplit(maxsplit=1)
                items.append((p if os.path.isabs(p) else os.path.join(base, p), int(label)))
    return items


def load_images(items):
    return [decode_image(read_file(p), mode=ImageReadMode.RGB) for p, _ in items]


class PairViews(torch.utils.data.Dataset):
    """Two augmented views of every image, decoded once into memory."""

    def __init__(self, images, views):
        self.images = images
        v = views
        jitter = v["jitter"]
        sigma_max = v["blur_sigma"][1]
        self.t = v2.Compose([
            v2.RandomResizedCrop(v["size"], scale=tuple(v["crop"]["scale"]),
                                 ratio=tuple(v["crop"]["ratio"]), antialias=True),
            v2.ToDtype(torch.float32, scale=True),
            v2.RandomApply([v2.ColorJitter(jitter["brightness"], jitter["contrast"],
                                           jitter["saturation"], jitter["hue"])], p=v["jitter_p"]),
            v2.RandomGrayscale(p=v["grayscale_p"]),
            v2.RandomApply([v2.GaussianBlur(2 * math.ceil(3 * sigma_max) + 1,
                                            sigma=tuple(v["blur_sigma"]))], p=v["blur_p"]),
            v2.RandomHorizontalFlip(p=v["flip_p"]),
            v2.Normalize(MEAN, STD),
        ])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = self.images[i]
        return self.t(img), self.t(img)


class GroupedBatchNorm2d(nn.BatchNorm2d):
    """Batch norm over `groups` interleaved groups of the batch in training (view i in group
    i mod groups), the running statistics updated once per call by the groups' mean; plain
    batch norm in evaluation. Ours: `split_bn = "batch-norm"`."""

    def __init__(self, channels, groups):
        super().__init__(channels)
        self.groups = groups

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        b, c, h, w = x.shape
        g = self.groups
        mean, var = self.running_mean.repeat(g), self.running_var.repeat(g)
        y = F.batch_norm(x.reshape(b // g, g * c, h, w), mean, var, self.weight.repeat(g),
                         self.bias.repeat(g), True, self.momentum, self.eps)
        with torch.no_grad():
            self.running_mean.copy_(mean.view(g, c).mean(0))
            self.running_var.copy_(var.view(g, c).mean(0))
        return y.reshape(b, c, h, w)


class SmallCnn(nn.Module):
    """Ours: widths w, 2w, 4w; 3x3 convs without bias, stride 1, 2, 2; BN (over `bn_groups`
    interleaved groups in training); ReLU; mean pool."""

    def __init__(self, width, bn_groups=1):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width]
        layers = []
        for i in range(3):
            bn = nn.BatchNorm2d(chans[i + 1]) if bn_groups == 1 else GroupedBatchNorm2d(chans[i + 1], bn_groups)
            layers += [nn.Conv2d(chans[i], chans[i + 1], 3, 1 if i == 0 else 2, 1, bias=False),
                       bn, nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.dim = 4 * width
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.body(x).mean(dim=(2, 3))


def mlp(i, h, o, bn):
    """Ours: Linear, optional BN, ReLU, Linear; weights U(+-1/sqrt(in)), biases zero."""
    fc1, fc2 = nn.Linear(i, h), nn.Linear(h, o)
    for fc, fan_in in ((fc1, i), (fc2, h)):
        nn.init.uniform_(fc.weight, -fan_in ** -0.5, fan_in ** -0.5)
        nn.init.zeros_(fc.bias)
    return nn.Sequential(fc1, *([nn.BatchNorm1d(h)] if bn else []), nn.ReLU(), fc2)


def frozen_copy(module):
    target = copy.deepcopy(module)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


@torch.no_grad()
def ema(target, online, m):
    """target = m target + (1 - m) online over parameters and float buffers (ours blends both)."""
    for t, o in zip(list(target.parameters()) + list(target.buffers()),
                    list(online.parameters()) + list(online.buffers())):
        if t.dtype.is_floating_point:
            t.mul_(m).add_(o, alpha=1 - m)


class Byol(nn.Module):
    def __init__(self, width, cfg):
        super().__init__()
        self.encoder = SmallCnn(width)
        d, h, p = self.encoder.dim, cfg["hidden_dim"], cfg["projection_dim"]
        self.projector, self.predictor = mlp(d, h, p, True), mlp(p, h, p, True)
        self.target_encoder, self.target_projector = frozen_copy(self.encoder), frozen_copy(self.projector)
        self.tau = cfg["momentum"]

    def trainable(self):
        return [*self.encoder.parameters(), *self.projector.parameters(), *self.predictor.parameters()]

    def loss(self, v1, v2):
        def online(v):
            return self.predictor(self.projector(self.encoder(v)))

        with torch.no_grad():
            t1, t2 = (self.target_projector(self.target_encoder(v)) for v in (v1, v2))
        p1, p2 = online(v1), online(v2)

        def reg(p, z):
            return (2 - 2 * (F.normalize(p, dim=1) * F.normalize(z, dim=1)).sum(1)).mean()

        return (reg(p1, t2) + reg(p2, t1)) / 2

    def after_step(self, progress):
        m = 1 - (1 - self.tau) * (math.cos(math.pi * progress) + 1) / 2
        ema(self.target_encoder, self.encoder, m)
        ema(self.target_projector, self.projector, m)


class MocoV2(nn.Module):
    def __init__(self, width, cfg):
        super().__init__()
        # Split BN inside the batch norms (our default) or one encoder call per group.
        self.inside = cfg.get("split_bn", "batch-norm") == "batch-norm"
        self.encoder = SmallCnn(width, cfg["bn_splits"] if self.inside else 1)
        d = self.encoder.dim
        h = cfg.get("hidden_dim", d)
        self.head = mlp(d, h, cfg["projection_dim"], False)
        self.key_encoder, self.key_head = frozen_copy(self.encoder), frozen_copy(self.head)
        self.m, self.t, self.splits = cfg["momentum"], cfg["temperature"], cfg["bn_splits"]
        self.register_buffer("queue", F.normalize(torch.randn(cfg["queue_size"], cfg["projection_dim"]), dim=1))
        self.ptr = 0

    def trainable(self):
        return [*self.encoder.parameters(), *self.head.parameters()]

    def grouped(self, encoder, x):
        if self.inside or self.splits == 1:
            return encoder(x)
        return torch.cat([encoder(g) for g in x.chunk(self.splits)])

    def loss(self, v1, v2):
        with torch.no_grad():
            perm = torch.randperm(v2.shape[0])
            k = F.normalize(self.key_head(self.grouped(self.key_encoder, v2[perm])), dim=1)
            keys = torch.empty_like(k)
            keys[perm] = k
        q = F.normalize(self.head(self.grouped(self.encoder, v1)), dim=1)
        logits = torch.cat([(q * keys).sum(1, keepdim=True), q @ self.queue.T], 1) / self.t
        self.keys = keys
        return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))

    @torch.no_grad()
    def after_step(self, progress):
        ema(self.key_encoder, self.encoder, self.m)
        ema(self.key_head, self.head, self.m)
        b = self.keys.shape[0]
        self.queue[self.ptr:self.ptr + b] = self.keys
        self.ptr = (self.ptr + b) % self.queue.shape[0]


def pretrain(cfg, items, workers):
    """Trains as ours does; returns the encoder, seconds per phase and per-step seconds."""
    torch.manual_seed(cfg["seed"])
    t0 = time.perf_counter()
    data = PairViews(load_images(items), cfg["views"])
    decode = time.perf_counter() - t0
    batch, epochs = cfg["batch_size"], cfg["epochs"]
    loader = torch.utils.data.DataLoader(
        data, batch_size=batch, shuffle=True, drop_last=True, num_workers=workers,
        persistent_workers=workers > 0, prefetch_factor=2 if workers > 0 else None)
    method, width = cfg["method"], cfg["encoder"]["width"]
    if cfg["views"]["crops"] != "standard":
        sys.exit(f"arm_torch.py ports standard crops only, not {cfg['views']['crops']}")
    if cfg["encoder"]["arch"] != "small-cnn":
        sys.exit(f"arm_torch.py ports the small CNN only, not {cfg['encoder']['arch']}")
    model = {"byol": lambda: Byol(width, method), "moco-v2": lambda: MocoV2(width, method)}[method["name"]]()
    o = cfg["optim"]
    if o.get("warmup_epochs", 0):
        sys.exit("arm_torch.py has no warm-up (the arm's recipe has none)")
    opt = torch.optim.SGD(model.trainable(), lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"])
    total = len(loader) * epochs
    phases = dict.fromkeys(["data+views", "forward", "backward", "optimiser"], 0.0)
    steps, step = [], 0
    for epoch in range(epochs):
        for g in opt.param_groups:
            g["lr"] = o["lr"] * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        it, t_step = iter(loader), time.perf_counter()
        while True:
            t = time.perf_counter()
            try:
                v1, v2 = next(it)
            except StopIteration:
                break
            t1 = time.perf_counter()
            loss = model.loss(v1, v2)
            value = loss.item()
            t2 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            t3 = time.perf_counter()
            opt.step()
            step += 1
            model.after_step(step / total)
            t4 = time.perf_counter()
            for k, dt in zip(phases, [t1 - t, t2 - t1, t3 - t2, t4 - t3]):
                phases[k] += dt
            steps.append(t4 - t_step)
            t_step = t4
            if not math.isfinite(value):
                sys.exit(f"loss {value} at step {step}")
    return model.encoder, decode, phases, steps, value


@torch.no_grad()
def features(encoder, items, batch, crop):
    """Eval-mode features of every image: centre crop `crop`, ImageNet normalisation."""
    encoder.eval()
    t = v2.Compose([v2.CenterCrop(crop), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)])
    images = load_images(items)
    out = [encoder(torch.stack([t(x) for x in images[i:i + batch]])) for i in range(0, len(images), batch)]
    return torch.cat(out), torch.tensor([label for _, label in items])


def probe(train, labels, classes, seed, epochs=40, batch=256, milestones=(15, 30)):
    """Ours: L2-normalise, standardise on the training features, Linear + CE, SGD, MultiStepLR."""
    x = F.normalize(train, dim=1)
    mean, std = x.mean(0), x.std(0)
    inv = torch.where(std > 1e-8, 1 / std, torch.zeros_like(std))
    prep = lambda f: (F.normalize(f, dim=1) - mean) * inv  # noqa: E731
    x = prep(train)
    torch.manual_seed(seed)
    lin = nn.Linear(x.shape[1], classes)
    nn.init.uniform_(lin.bias, -1 / math.sqrt(x.shape[1]), 1 / math.sqrt(x.shape[1]))
    opt = torch.optim.SGD(lin.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(milestones), 0.1)
    for _ in range(epochs):
        for idx in torch.randperm(len(x)).split(batch):
            opt.zero_grad()
            F.cross_entropy(lin(x[idx]), labels[idx]).backward()
            opt.step()
        sched.step()
    return lambda f: lin(prep(f)).argmax(1)


def main():
    check_versions()
    if len(sys.argv) != 7:
        sys.exit(__doc__.split("Usage: ")[1])
    config, filelist, train_list, test_list, triggered_list, target = sys.argv[1:]
    target = int(target)
    with open(config, "rb") as f:
        cfg = tomllib.load(f)
    threads = int(os.environ.get("ARM_THREADS") or os.cpu_count())
    workers = int(os.environ.get("ARM_WORKERS") or threads)
    torch.set_num_threads(threads)
    start = time.perf_counter()
    items = read_list(filelist)
    encoder, decode, phases, steps, loss = pretrain(cfg, items, workers)
    pre = time.perf_counter() - start
    t = time.perf_counter()
    crop, fbatch = int(os.environ.get("ARM_CROP", 32)), int(os.environ.get("ARM_FEATURE_BATCH", 250))
    train, ytrain = features(encoder, read_list(train_list), fbatch, crop)
    test, ytest = features(encoder, read_list(test_list), fbatch, crop)
    trig, ytrig = features(encoder, read_list(triggered_list), fbatch, crop)
    feature_s = time.perf_counter() - t
    classes = int(max(ytrain.max(), ytest.max())) + 1
    predict = probe(train, ytrain, classes, cfg["seed"])
    ca = (predict(test) == ytest).float().mean().item() * 100
    keep = ytrig != target
    asr = (predict(trig[keep]) == target).float().mean().item() * 100
    probe_s = time.perf_counter() - t
    views = 2 * cfg["batch_size"] * len(steps)
    name = f"pytorch-{torch.__version__} {cfg['method']['name']} small-cnn-w{cfg['encoder']['width']}"
    print(f"{name}: {len(steps)} steps, {cfg['epochs']} epochs, batch {cfg['batch_size']}, "
          f"{threads} threads, {workers} loader workers")
    print(f"  pretrain {pre:.2f}s (decode {decode:.2f}s): {views / pre:.1f} views/s; "
          f"steady {2 * cfg['batch_size'] / statistics.median(steps):.1f} views/s (median step)")
    print("  phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items()) + f", probe {probe_s:.2f}s "
          f"(features {feature_s:.2f}s, fit and score {probe_s - feature_s:.2f}s)")
    print(f"  last loss {loss:.4f}, CA {ca:.1f} %, ASR {asr:.1f} %")
    print(f"  arm {time.perf_counter() - start:.2f}s")


if __name__ == "__main__":
    main()
