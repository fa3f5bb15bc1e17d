#!/usr/bin/env python3
"""Single-threaded PIL/numpy CorruptEncoder generator: the speed anchor for bench/poison.sh.

It follows method.md section 3 step by step the way the authors' released script works (one
process, reference and mask re-read and re-processed for every poison, PIL resize and blur,
PNG save), so its rate stands for theirs on this machine. It is our own code, not theirs.
"""
import os
import random
import sys
import time

import numpy as np
from PIL import Image, ImageFilter


def main():
    kit, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    refdir = os.path.join(kit, "references", "hunting-dog")
    refs = [os.path.join(refdir, k) for k in ("1", "2", "3")]
    bgdir = os.path.join(kit, "backgrounds")
    bgs = sorted(os.listdir(bgdir))
    trigger = Image.open(os.path.join(kit, "triggers", "trigger_10.png")).convert("RGB").resize((40, 40), Image.BICUBIC)
    os.makedirs(out, exist_ok=True)
    random.seed(0)
    start = time.time()
    for i in range(n):
        k = random.choice(refs)
        img = Image.open(os.path.join(k, "img.png")).convert("RGB")
        label = np.array(Image.open(os.path.join(k, "label.png")).convert("RGB"))
        mask = (label[..., 0] == 128) & (label[..., 1] == 0)
        ys, xs = np.nonzero(mask)
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        obj = img.crop(box)
        m = Image.fromarray((mask * 255).astype(np.uint8)).crop(box)
        w, h = obj.size
        o_w = min(w, 400)
        o_h = int(o_w / w * h)
        obj = obj.resize((o_w, o_h), Image.BICUBIC)
        m = m.resize((o_w, o_h), Image.NEAREST).filter(ImageFilter.GaussianBlur(1))
        p_h, p_w = o_h, int(2 * o_w)
        bg = Image.open(os.path.join(bgdir, bgs[i % len(bgs)])).convert("RGB")
        b_w, b_h = bg.size
        l_h = int(max(p_h / b_h, p_w / b_w, 1) * b_h)
        l_w = int(l_h / b_h * b_w)
        bg = bg.resize((max(l_w, p_w), max(l_h, p_h)), Image.BICUBIC)
        x = int(random.uniform(0, bg.size[0] - p_w))
        y = bg.size[1] - p_h
        canvas = bg.crop((x, y, x + p_w, y + p_h))
        left = random.random() < 0.5
        o_x = int(random.uniform(0, 0.05 * p_w)) if left else int(random.uniform(p_w - o_w - 0.05 * p_w, p_w - o_w))
        canvas.paste(obj, (o_x, 0), m)
        dx, dy = 0.125 * p_w, 0.25 * p_h
        if left:
            t_x = int(random.uniform(o_x + o_w + dx, p_w - dx - 40))
        else:
            t_x = int(random.uniform(dx, o_x - dx - 40))
        t_y = int(random.uniform(dy, p_h - dy - 40))
        canvas.paste(trigger, (t_x, t_y))
        canvas.save(os.path.join(out, "poison_%05d.png" % i))
    print("%.3f" % (time.time() - start))


if __name__ == "__main__":
    main()
