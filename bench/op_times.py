"""PyTorch side of crates/train/examples/op_times.rs: the same layers, shapes and timing
rule (one warm-up, then the mean of 3 repetitions), in milliseconds."""
import time

import torch
import torch.nn as nn


def timed(name, f, reps=3):
    f()
    start = time.perf_counter()
    for _ in range(reps):
        f()
    ms = (time.perf_counter() - start) / reps * 1e3
    print(f"{name:28} {ms:8.1f} ms")


def main():
    torch.manual_seed(0)
    print(f"pytorch-{torch.__version__}, {torch.get_num_threads()} threads")
    for c, hw in [(32, 32), (64, 16), (128, 8), (256, 4)]:
        print(f"-- [256, {c}, {hw}, {hw}]")
        x = torch.randn(256, c, hw, hw)
        conv = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        bn = nn.BatchNorm2d(c)

        def fwd(m):
            with torch.no_grad():
                m(x).sum().item()

        def fwd_bwd(m):
            xr = x.clone().requires_grad_()
            m(xr).sum().backward()

        timed("conv3x3 fwd", lambda: fwd(conv))
        timed("conv3x3 fwd+bwd", lambda: fwd_bwd(conv))
        timed("bn fwd", lambda: fwd(bn))
        timed("bn fwd+bwd", lambda: fwd_bwd(bn))
        timed("relu+add fwd+bwd", lambda: fwd_bwd(lambda t: torch.relu(t) + t))


if __name__ == "__main__":
    main()
