#!/usr/bin/env python3
"""Error rates of `compare` on real dumps, off the simulator.

Each trial splits a pool of real whole-process dumps of one build (default: the 12 of
tests/fixtures/gate/whole-process-aa-3.13.5, seeds 1..12) into disjoint sets: base (3
seeds), head (3 other seeds: unpaired, real seed noise) and a calibration set (the other
6). Head's object method cache miss ratio is then raised by the planted shift (hits moved
to misses, rounded down to whole counts). `compare` runs with the shipped rules plus a
1 pp fail-level limit on that ratio, without and with `--noise` learned by `calibrate` on
the calibration set (out of sample). Prints a markdown table of verdict rates with
one-sided 95% Clopper-Pearson upper bounds (docs/gate.md, "Measured on real dumps").

Usage: ci/real-aa.py [TRIALS] [POOL_DIR]   (default 100 trials; needs target/release/pystats-gate)
"""

import json
import math
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                      "release", "pystats-gate")
RULES = """include = ["default.toml"]

[[rule]]
name = "method-cache-miss-ratio"
metric = "objects.method_cache_miss_ratio"
max_increase = 0.01
severity = "fail"
description = "Whole-process method cache misses: up by more than one percentage point."
"""
SHIFTS_PP = [0.0, 1.0, 1.25, 2.0]
HITS, MISSES = "Object method cache hits: ", "Object method cache misses: "


def upper_bound(k, n, level=0.95):
    """One-sided Clopper-Pearson upper bound of a rate seen k times in n (bisection)."""
    if k >= n:
        return 1.0
    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        tail = sum(math.comb(n, i) * mid**i * (1 - mid) ** (n - i) for i in range(k + 1))
        lo, hi = (mid, hi) if tail > 1 - level else (lo, mid)
    return hi


def plant(text, shift_pp):
    """Moves shift_pp of the method cache's lookups from hits to misses."""
    lines = text.splitlines(keepends=True)
    idx = {p: i for i, line in enumerate(lines) for p in (HITS, MISSES) if line.startswith(p)}
    hits, misses = (int(lines[idx[p]][len(p):]) for p in (HITS, MISSES))
    k = min(hits, math.floor(shift_pp / 100 * (hits + misses)))
    lines[idx[HITS]] = f"{HITS}{hits - k}\n"
    lines[idx[MISSES]] = f"{MISSES}{misses + k}\n"
    return "".join(lines)


def write_set(pool, manifest, runs, dest, shift_pp=0.0):
    """A stats set of the pool's `runs` (names) at `dest` as repeats run-1.., head's shift
    planted. No manifest: the seeds differ between the sets, so they compare unpaired (a
    manifest naming other seeds is refused as a different set of repeats)."""
    os.makedirs(dest)
    by_name = {r["name"]: r for r in manifest["repeats"]}
    repeats = [dict(by_name[r], name=f"run-{k + 1}") for k, r in enumerate(runs)]
    for src_name, r in zip(runs, repeats):
        os.makedirs(os.path.join(dest, r["name"]))
        for f in os.listdir(os.path.join(pool, src_name)):
            with open(os.path.join(pool, src_name, f), encoding="utf-8") as src:
                text = src.read()
            with open(os.path.join(dest, r["name"], f), "w", encoding="utf-8") as out:
                out.write(plant(text, shift_pp) if shift_pp else text)


def verdict(base, head, rules, out, noise=None):
    args = [BINARY, "compare", base, head, "--rules", rules, "--format", "json", "-o", out,
            "--force"]
    if noise:
        args += ["--noise", noise]
    rc = subprocess.run(args, capture_output=True, text=True, check=False)
    if rc.returncode not in (0, 1):
        sys.exit(f"compare exited {rc.returncode}: {rc.stderr}")
    with open(out, encoding="utf-8") as f:
        return json.load(f)["verdict"]


def trial(pool, manifest, rules, rng, counts):
    with tempfile.TemporaryDirectory() as tmp:
        splits(pool, manifest, rules, rng, tmp, counts)


def splits(pool, manifest, rules, rng, tmp, counts):
    """One random split of the pool into base, head and calibration sets, every shift."""
    names = [r["name"] for r in manifest["repeats"]]
    rng.shuffle(names)
    base_runs, head_runs, calib_runs = names[:3], names[3:6], names[6:]
    base, calib = os.path.join(tmp, "base"), os.path.join(tmp, "calib")
    write_set(pool, manifest, base_runs, base)
    write_set(pool, manifest, calib_runs, calib)
    noise = os.path.join(tmp, "noise.json")
    subprocess.run([BINARY, "calibrate", "-o", noise, "--force", calib], check=True,
                   capture_output=True)
    for shift in SHIFTS_PP:
        head = os.path.join(tmp, f"head-{shift}")
        write_set(pool, manifest, head_runs, head, shift)
        out = os.path.join(tmp, "report.json")
        for design, n in (("unpaired, 3 repeats", None), ("unpaired + --noise, 3 repeats", noise)):
            counts.setdefault((design, shift), []).append(verdict(base, head, rules, out, n))


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    pool = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        ROOT, "tests/fixtures/gate/whole-process-aa-3.13.5")
    with open(os.path.join(pool, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    rng, counts = random.Random(20), {}
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.toml")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(RULES)
        for _ in range(trials):
            trial(pool, manifest, rules, rng, counts)
    print("| design | planted | trials | gate failed (95% upper) | inconclusive | pass (95% upper) |")
    print("|---|---|---|---|---|---|")
    for (design, shift), v in counts.items():
        n = len(v)
        fail, passed = v.count("regression"), v.count("pass")
        print(f"| {design} | {shift:g} pp | {n} | {100 * fail / n:.1f}% "
              f"({100 * upper_bound(fail, n):.1f}%) | {100 * (n - fail - passed) / n:.1f}% | "
              f"{100 * passed / n:.1f}% ({100 * upper_bound(passed, n):.1f}%) |")


if __name__ == "__main__":
    main()
