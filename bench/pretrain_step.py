"""The PyTorch anchor of bench/pretrain_step.sh: the same SimCLR step as
crates/train/examples/pretrain_step.rs (torchvision-style ResNet-18 at base width 32, CIFAR
stem, 32x32 inputs, batch 128 = 256 views, MLP head 256-256-128, NT-Xent t=0.5, SGD)."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.down = None
        if stride != 1 or cin != planes:
            self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + idt)


def resnet18(width):
    layers, cin = [nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()], width
    for i, stride in enumerate([1, 2, 2, 2]):
        planes = width << i
        layers += [Basic(cin, planes, stride), Basic(planes, planes, 1)]
        cin = planes
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), cin


def nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / t
    sim.fill_diagonal_(-1e9)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    torch.manual_seed(0)
    enc, dim = resnet18(32)
    head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 128))
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.06, momentum=0.9, weight_decay=1e-4)

    phases = [0.0, 0.0, 0.0]  # forward (to the loss value), backward, SGD update

    def step(phases):
        a, b = torch.randn(batch, 3, 32, 32), torch.randn(batch, 3, 32, 32)
        t0 = time.perf_counter()
        z = head(enc(torch.cat([a, b])))
        loss = nt_xent(z[:batch], z[batch:], 0.5)
        value = loss.item()
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        for i, t in enumerate([t1 - t0, t2 - t1, t3 - t2]):
            phases[i] += t
        return value

    step([0.0, 0.0, 0.0])
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(phases)
    secs = time.perf_counter() - start
    vps = 2 * batch * steps / secs
    print(f"pytorch-{torch.__version__} simclr resnet18-w32 cifar32 batch {batch}: {steps} steps in {secs:.2f}s, "
          f"{vps:.1f} views/s (last loss {loss:.4f}, {torch.get_num_threads()} threads)")
    f, b, o = (t / steps for t in phases)
    print(f"  per step: forward {f:.2f}s, backward {b:.2f}s, sgd {o:.2f}s")


if __name__ == "__main__":
    main()
