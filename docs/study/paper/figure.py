"""The figures of docs/study/paper.md from the committed runs' result.json files.

Usage: python3 docs/study/paper/figure.py NAME [--svg FILE]
NAME is one of ratio, references, layout, trigger-size, capacity, or table1 (Table 1's arms
over seeds 3-7 beside the paper's published numbers). For a figure it prints a markdown table
(per point: the seeds found, ASR and BA as mean ± sample sd [95 % Student t interval of the
mean], the ASR per seed), then each pair of points' ASR difference paired by seed (and each
point minus Table 1's clean encoder, where the figure draws that level), and, with --svg,
draws ASR against the figure's parameter: a dot per seed, the mean with its interval, and
the clean encoder's mean ASR at the same seeds.
Each point is read from the experiment folder that ran it: a figure's own sweep, or Table 1
for its default value (the same setting and seeds). Points with no runs yet are listed as
such and left out of the drawing.
"""
import argparse
import json
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
# Two-sided 95 % Student t quantiles by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}
SEEDS = [3, 4, 5]
CE = "corruptencoder"
AGAINST = "corruptencoder-against-object"

# name: (x label, [(series label, [(x tick, folder, arm, sweep value or None)])])
FIGURES = {
    "ratio": ("poisons, % of the 2,000 clean images", [
        ("CorruptEncoder", [("0.5", "ratio", CE, 0.005), ("1", "ratio", CE, 0.01),
                            ("2", "ratio", CE, 0.02), ("5", "table1", CE, None)]),
    ]),
    "references": ("reference objects", [
        ("CorruptEncoder", [("1", "table1", CE, None), ("3", "references", CE, 3.0),
                            ("5", "references", CE, 5.0)]),
    ]),
    "layout": ("area ratio (background / object)", [
        ("centred (the paper's rule)", [("1.75", "layout", CE, 1.75), ("2", "table1", CE, None),
                                        ("2.5", "layout", CE, 2.5), ("3", "layout", CE, 3.0)]),
        ("against the object", [("1.75", "layout", AGAINST, 1.75),
                                ("2", "placement", AGAINST, None),
                                ("2.5", "layout", AGAINST, 2.5), ("3", "layout", AGAINST, 3.0)]),
    ]),
    "trigger-size": ("trigger side in the poisons, px", [
        ("CorruptEncoder", [("32", "trigger-size", CE, 32.0), ("48", "table1", CE, None),
                            ("64", "trigger-size", CE, 64.0)]),
    ]),
    "capacity": ("small CNN width", [
        ("CorruptEncoder", [("16", "table1", CE, None), ("32", "capacity-w32", CE, None),
                            ("64", "capacity-w64", CE, None)]),
        ("clean", [("16", "table1", "clean", None), ("32", "capacity-w32", "clean", None),
                   ("64", "capacity-w64", "clean", None)]),
    ]),
}
# Figures whose clean level is Table 1's clean arm (capacity draws its clean arms as a series).
CLEAN_LEVEL = {"ratio", "references", "layout", "trigger-size"}


def load_runs(folder):
    """(arm, sweep value or None, seed) -> result, for every result.json under FOLDER/runs."""
    runs = {}
    root = os.path.join(HERE, folder, "runs")
    for dirpath, _, files in os.walk(root):
        if "result.json" in files:
            with open(os.path.join(dirpath, "result.json")) as f:
                r = json.load(f)
            value = r["sweep"]["value"] if r.get("sweep") else None
            runs[(r["arm"], value, r["seed"])] = r
    return runs


def stats(values):
    """(mean, sd, low, high); sd and the interval are None below two values."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None, None
    sd = statistics.stdev(values)
    half = T975[len(values) - 1] * sd / len(values) ** 0.5
    return mean, sd, mean - half, mean + half


def fmt(values):
    mean, sd, low, high = stats(values)
    if sd is None:
        return f"{mean:.1f}"
    return f"{mean:.1f} ± {sd:.1f} [{low:.1f}, {high:.1f}]"


def gather(name):
    cache = {}

    def runs(folder):
        if folder not in cache:
            cache[folder] = load_runs(folder)
        return cache[folder]

    label, series = FIGURES[name]
    out = []
    for series_label, points in series:
        rows = []
        for tick, folder, arm, value in points:
            found = [runs(folder).get((arm, value, s)) for s in SEEDS]
            rows.append((tick, folder, [(s, r) for s, r in zip(SEEDS, found) if r]))
        out.append((series_label, rows))
    clean = None
    if name in CLEAN_LEVEL:
        clean = [(s, r) for s in SEEDS if (r := runs("table1").get(("clean", None, s)))]
    return label, out, clean


def table(gathered):
    label, series, clean = gathered
    lines = [f"| series | {label} | from | seeds | ASR % | BA % | ASR per seed |",
             "|---|---|---|---|---|---|---|"]
    for series_label, rows in series:
        for tick, folder, found in rows:
            if not found:
                lines.append(f"| {series_label} | {tick} | `paper/{folder}` | none yet | - | - | - |")
                continue
            asr = [r["asr"] for _, r in found]
            ba = [r["accuracy"] for _, r in found]
            per_seed = ", ".join(f"{r['asr']:.1f} ({s})" for s, r in found)
            seeds = ", ".join(str(s) for s, _ in found)
            lines.append(f"| {series_label} | {tick} | `paper/{folder}` | {seeds} | {fmt(asr)} "
                         f"| {fmt(ba)} | {per_seed} |")
    if clean:
        asr = [r["asr"] for _, r in clean]
        lines.append(f"\nClean encoder (Table 1's clean arm, same seeds): ASR {fmt(asr)} %.")
    return "\n".join(lines)


def paired(gathered):
    """Each later point minus each earlier one of a series, then each point minus the clean
    encoder where the figure has a clean level, over the seeds both sides have."""
    label, series, clean = gathered
    lines = [f"| series | {label}: comparison | seeds | ASR difference, points | per seed |",
             "|---|---|---|---|---|"]

    def row(series_label, what, found_b, found_a):
        a = dict(found_a)
        pairs = [(s, r["asr"] - a[s]["asr"]) for s, r in found_b if s in a]
        if pairs:
            per_seed = ", ".join(f"{d:+.1f} ({s})" for s, d in pairs)
            seeds = ", ".join(str(s) for s, _ in pairs)
            lines.append(f"| {series_label} | {what} | {seeds} "
                         f"| {fmt([d for _, d in pairs])} | {per_seed} |")

    for series_label, rows in series:
        for i, (tick_a, _, found_a) in enumerate(rows):
            for tick_b, _, found_b in rows[i + 1:]:
                row(series_label, f"{tick_b} minus {tick_a}", found_b, found_a)
    if clean:
        for series_label, rows in series:
            for tick, _, found in rows:
                row(series_label, f"{tick} minus the clean encoder", found, clean)
    return "\n".join(lines)


def svg(gathered):
    label, series, clean = gathered
    w, h, left, right, top, bottom = 640, 400, 60, 170, 20, 50
    pw, ph = w - left - right, h - top - bottom
    ticks = [t for t, _, _ in series[0][1]]
    xs = {t: left + pw * (i + 0.5) / len(ticks) for i, t in enumerate(ticks)}

    def y(v):
        return top + ph * (1 - max(0.0, min(100.0, v)) / 100)

    colours = ["#d64541", "#4272c4", "#57a054"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for v in range(0, 101, 20):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    for t, x in xs.items():
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{t}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">{label}</text>')
    out.append(f'<text transform="translate(16,{top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">ASR % (linear probe)</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="#333"/>')
    legend = []
    if clean:
        cy = y(statistics.fmean(r["asr"] for _, r in clean))
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{cy:.1f}" y2="{cy:.1f}" '
                   f'stroke="#777" stroke-dasharray="5,4"/>')
        legend.append(("clean encoder", "#777", True))
    offset = 8 * (len(series) - 1)
    for k, (series_label, rows) in enumerate(series):
        colour = colours[k % len(colours)]
        dx = -offset / 2 + 8 * k
        means = []
        for tick, _, found in rows:
            if not found:
                continue
            x = xs[tick] + dx
            asr = [r["asr"] for _, r in found]
            mean, _, low, high = stats(asr)
            if low is not None:
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y(low):.1f}" '
                           f'y2="{y(high):.1f}" stroke="{colour}" stroke-width="1.5"/>')
            for a in asr:
                out.append(f'<circle cx="{x + 4:.1f}" cy="{y(a):.1f}" r="2.5" fill="#222" '
                           f'fill-opacity="0.6"/>')
            out.append(f'<circle cx="{x:.1f}" cy="{y(mean):.1f}" r="5" fill="{colour}"/>')
            means.append((x, y(mean)))
        if len(means) > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in means)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="1.5"/>')
        legend.append((series_label, colour, False))
    for i, (text, colour, dashed) in enumerate(legend):
        ly = top + 14 + 18 * i
        lx = left + pw + 12
        if dashed:
            out.append(f'<line x1="{lx}" x2="{lx + 16}" y1="{ly - 4}" y2="{ly - 4}" '
                       f'stroke="{colour}" stroke-dasharray="5,4"/>')
        else:
            out.append(f'<circle cx="{lx + 8}" cy="{ly - 4}" r="5" fill="{colour}"/>')
        out.append(f'<text x="{lx + 22}" y="{ly}">{text}</text>')
    ly = top + 14 + 18 * len(legend)
    out.append(f'<circle cx="{left + pw + 20}" cy="{ly - 4}" r="2.5" fill="#222" '
               f'fill-opacity="0.6"/><text x="{left + pw + 34}" y="{ly}">one seed</text>')
    out.append(f'<text x="{left + pw + 12}" y="{ly + 18}">whisker: 95 % t interval</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# Table 1's arms beside the paper's published numbers (SPEC 7: the authors' released
# encoders on ImageNet100-B, target hunting dog; CTRL and localized cropping not in it).
TABLE1 = [
    ("random-encoder", "random encoder", None),
    ("clean", "clean", (61.2, 0.4)),
    ("corruptencoder", "CorruptEncoder", (61.6, 92.9)),
    ("corruptencoder-plus", "CorruptEncoder+", (61.7, 99.5)),
    ("ssl-backdoor", "SSL-Backdoor", (61.3, 14.3)),
    ("ctrl", "CTRL", None),
    ("poisoned-encoder", "PoisonedEncoder", (61.1, 35.5)),
    ("corruptencoder-localized", "CorruptEncoder, localized cropping", None),
    ("clean-localized", "clean, localized cropping", None),
]
TABLE1_SEEDS = [3, 4, 5, 6, 7]


def table1():
    runs = load_runs("table1")
    lines = ["| arm | seeds | CA/BA % | ASR % | seeds with ASR >= 50 % | ASR per seed (3-7) "
             "| paper CA/BA % | paper ASR % |", "|---|---|---|---|---|---|---|---|"]
    for arm, label, paper in TABLE1:
        found = [r for s in TABLE1_SEEDS if (r := runs.get((arm, None, s)))]
        if not found:
            continue
        asr = [r["asr"] for r in found]
        over = sum(a >= 50 for a in asr)
        per_seed = ", ".join(f"{a:.1f}" for a in asr)
        ca, pa = (f"{paper[0]:.1f}", f"{paper[1]:.1f}") if paper else ("-", "-")
        lines.append(f"| {label} | {len(found)} | {fmt([r['accuracy'] for r in found])} "
                     f"| {fmt(asr)} | {over} of {len(found)} | {per_seed} | {ca} | {pa} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(FIGURES) + ["table1"])
    parser.add_argument("--svg", help="write the figure here")
    args = parser.parse_args()
    if args.name == "table1":
        print(table1())
        return
    gathered = gather(args.name)
    print(table(gathered))
    print()
    print(paired(gathered))
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(gathered))


if __name__ == "__main__":
    main()
