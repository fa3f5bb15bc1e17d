"""Paired differences of each defended arm against the undefended arm of the same attack
(docs/study/defenses.md, held-out seeds), from the committed runs' result.json files.

Usage: python3 docs/study/defenses/paired.py docs/study/defenses/heldout/runs 3 4 5
Prints a markdown table: per defended arm, the seeds, BA and ASR differences (defended minus
undefended, seed by seed) as mean ± sample sd [95 % Student t interval of the mean], and the
per-seed ASR differences. A detector arm also gets its AUROC and poisons flagged per seed.
"""
import json
import os
import statistics
import sys

# Two-sided 95 % Student t quantiles by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}

ATTACKS = {"corruptencoder": "CorruptEncoder", "ssl-backdoor": "SSL-Backdoor", "clean": "clean"}
DEFENSES = [
    ("-localized", "localized cropping"),
    ("-k-distance", "k-distance, k 16"),
    ("-k-distance-k256", "k-distance, k 256"),
    ("-dao", "DAO, k 16"),
    ("-dao-k256", "DAO, k 256"),
    ("-i-cutmix", "i-CutMix"),
    ("-patch-search", "PatchSearch"),
    ("-patch-search-trigger-sized", "PatchSearch, trigger-sized window"),
]


def load(root, arm, seed):
    path = os.path.join(root, arm, f"seed-{seed}", "result.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def summary(values):
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return f"{mean:+.1f}"
    sd = statistics.stdev(values)
    half = T975[n - 1] * sd / n**0.5
    return f"{mean:+.1f} ± {sd:.1f} [{mean - half:+.1f}, {mean + half:+.1f}]"


def main():
    root, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]]
    print("| attack | defense | seeds | BA difference | ASR difference | ASR difference per seed | AUROC per seed | poisons flagged per seed |")
    print("|---|---|---|---|---|---|---|---|")
    for attack, attack_name in ATTACKS.items():
        for suffix, defense in DEFENSES:
            pairs = [(load(root, attack, s), load(root, attack + suffix, s)) for s in seeds]
            pairs = [(b, d) for b, d in pairs if b and d]
            if not pairs:
                continue
            ba = [d["accuracy"] - b["accuracy"] for b, d in pairs]
            asr = [d["asr"] - b["asr"] for b, d in pairs]
            det = [d.get("detection") for _, d in pairs]
            auroc = ", ".join(f"{x['auroc']:.3f}" for x in det if x and x["auroc"] is not None) or "-"
            flagged = ", ".join(str(x["flagged_poisons"]) for x in det if x and x["poisons"]) or "-"
            per_seed = ", ".join(f"{v:+.1f}" for v in asr)
            print(f"| {attack_name} | {defense} | {len(pairs)} | {summary(ba)} | {summary(asr)} | {per_seed} | {auroc} | {flagged} |")


if __name__ == "__main__":
    main()
