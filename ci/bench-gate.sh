#!/usr/bin/env bash
# Benchmark of the gate's harness overhead (documented in docs/bench-gate.md; not a test).
#
# Measures one `gate` with a cached base against a fresh head that changes one .c file,
# and compares its wall time with what cannot be avoided:
#   incremental make time + corpus run time / cores.
# Everything else (checkout, packaging the relocatable result, verification, namespace
# set-up, parsing, statistics, reports) is harness overhead; the target is under 10%.
#
# Usage: ci/bench-gate.sh [REPEATS]   (needs the demo repository; builds it on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
bin=target/release/pystats-gate
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Warm everything: demo repository, base build, base results (comment head passes).
"$bin" demo --quiet --head comment --repeats "$repeats" --out "$out/warm" >/dev/null || true
repo=$(find "${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}/demo" -mindepth 1 -maxdepth 1 -type d \
          -name 'cpython-*' | sort | head -1)

# A head no cache has seen: a one-line change in one .c file.
stamp=$(date +%s%N)
git -C "$repo" branch -f "bench-$stamp" base
git -C "$repo" worktree add -q --detach "$out/wt" "bench-$stamp"
echo "/* pystats-gate bench $stamp */" >> "$out/wt/Python/specialize.c"
git -C "$out/wt" -c user.name=bench -c user.email=bench@pystats-gate.invalid \
  commit -q -am "bench head $stamp"
head=$(git -C "$out/wt" rev-parse HEAD)
git -C "$repo" worktree remove --force "$out/wt"
git -C "$repo" branch -f "bench-$stamp" "$head"

start=$(date +%s.%N)
code=0
"$bin" gate --quiet --repo "$repo" --base base --head "bench-$stamp" \
  --repeats "$repeats" --out "$out/gate" >/dev/null || code=$?
end=$(date +%s.%N)
git -C "$repo" branch -D -q "bench-$stamp"
if [ "$code" -gt 1 ]; then
  echo "bench-gate: gate failed with exit $code" >&2
  exit "$code"
fi

python3 - "$out/gate/gate.json" "$start" "$end" <<'PY'
import json, os, sys
g = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
cores = os.cpu_count() or 1
make = g["head"]["make_seconds"]
build = g["head"]["build_seconds"]
run = g["head_run"]
corpus = run["run_seconds"] / run["jobs"]
floor = make + corpus
print("| quantity | seconds |")
print("|---|---|")
print(f"| gate wall time (cached base, fresh head) | {wall:.2f} |")
print(f"| head build (checkout + make + package + verify) | {build:.2f} |")
print(f"| of which configure + make | {make:.2f} |")
print(f"| head corpus: {run['runs']} runs, sum of run times | {run['run_seconds']:.2f} |")
print(f"| head corpus wall ({run['jobs']} jobs, {cores} cores) | {run['wall_seconds']:.2f} |")
print(f"| floor = make + run time / jobs | {floor:.2f} |")
print(f"| harness overhead = wall - floor | {wall - floor:.2f} ({(wall - floor) / wall * 100:.1f}% of wall) |")
print(f"| base results cached | {g['base_results_cached']} |")
PY
