#!/usr/bin/env bash
# Benchmark: `compare`, `check`, `summarize` and `metrics` on large synthetic stats sets
# (N benchmarks x 3 repeats per side), wall time and peak RSS.
#
# Usage: ci/bench-scale.sh [N ...]   (default: 1000 5000)
# Env:   PYSTATS_GATE_CACHE   cache root (default ~/.cache/pystats-gate)
#        PYSTATS_GATE_BIN     binary to measure (default: target/release/pystats-gate, built)
# Prints a markdown table; docs/bench-scale.md holds the measured numbers.
#
# The sets are made once into $CACHE/bench-scale/N (not committed) from the real CPython
# 3.13.5 dumps in tests/fixtures/real-3.13.5 (aa-base for BASE, aa-head for HEAD): benchmark
# bNNNN of repeat run-k is the fixture's run-k dump of `arith` (even N) or `attrs` (odd N)
# with every counter multiplied by 1 + N % 7 and, on odd benchmarks, its first 40 lines
# moved to the end (so neither the values nor the key order are a plain copy; scaling by an
# integer keeps every invariant `check` verifies). Each set has a manifest.json that lists
# its repeats, seeds and benchmarks, as `run` writes it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 5000)
command -v /usr/bin/time >/dev/null || { echo "bench-scale: needs GNU time (ci/setup.sh installs it)" >&2; exit 3; }
if [ -z "${PYSTATS_GATE_BIN:-}" ]; then
  (cd "$root" && cargo build --release --quiet)
  target=${CARGO_TARGET_DIR:-$root/target}
  bin="$target/release/pystats-gate"
else
  bin=$PYSTATS_GATE_BIN
fi
fixture="$root/tests/fixtures/real-3.13.5"

make_sets() { # n dir
  python3 - "$1" "$2" "$fixture" <<'PY'
import json, os, sys
n, out, fixture = int(sys.argv[1]), sys.argv[2], sys.argv[3]
repeats = ["run-1", "run-2", "run-3"]
names = [f"b{i:04d}" for i in range(n)]
for side, src in (("base", "aa-base"), ("head", "aa-head")):
    for k, rep in enumerate(repeats, 1):
        os.makedirs(f"{out}/{side}/{rep}", exist_ok=True)
        lines = {}
        for bench in ("arith", "attrs"):
            with open(f"{fixture}/{src}/{rep}/{bench}.txt") as f:
                lines[bench] = [l.rsplit(":", 1) for l in f.read().splitlines()]
        for i, name in enumerate(names):
            kv = lines["arith" if i % 2 == 0 else "attrs"]
            if i % 2:
                kv = kv[40:] + kv[:40]
            factor = 1 + i % 7
            text = "".join(f"{key}: {int(v) * factor}\n" for key, v in kv)
            with open(f"{out}/{side}/{rep}/{name}.txt", "w") as f:
                f.write(text)
    manifest = {
        "schema_version": 1,
        "python_version": "3.13",
        "interpreter": "synthetic: ci/bench-scale.sh from tests/fixtures/real-3.13.5",
        "benchmarks": names,
        "total_repeats": len(repeats),
        "repeats": [{"name": r, "seed": k, "benchmarks": names} for k, r in enumerate(repeats, 1)],
        "failures": [],
    }
    with open(f"{out}/{side}/manifest.json", "w") as f:
        json.dump(manifest, f)
PY
}

# One run: prints "wall_s cpu_s rss_mib exit" (GNU time: elapsed, user + system CPU and
# maximum resident set size). CPU time is what to compare on a loaded machine.
measure() { # out cmd...
  local out=$1; shift
  local rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$out.time" "$@" >"$out" 2>"$out.err" || rc=$?
  read -r wall user sys rss <"$out.time"
  echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $((rss / 1024)) $rc"
}

echo "pystats-gate $("$bin" --version | awk '{print $2}'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load average $(cut -d' ' -f1 /proc/loadavg) at the start"
echo
echo "| benchmarks x repeats per side | dump files | command | wall (s) | CPU user+sys (s) | peak RSS (MiB) | exit |"
echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"
for n in "${sizes[@]}"; do
  data="$cache/bench-scale/$n"
  if [ ! -f "$data/.complete" ]; then
    rm -rf "$data"; mkdir -p "$data"
    echo "bench-scale: generating 2 x $n x 3 dumps into $data ..." >&2
    make_sets "$n" "$data"
    touch "$data/.complete"
  fi
  files=$(( $(find "$data/base" "$data/head" -name '*.txt' | wc -l) ))
  cat "$data"/base/run-1/*.txt >/dev/null # warm the page cache
  cat "$data"/head/run-1/*.txt >/dev/null
  runs=(
    "compare|$bin compare $data/base $data/head"
    "compare --format json|$bin compare --format json $data/base $data/head"
    "check BASE HEAD|$bin check $data/base $data/head"
    "summarize BASE HEAD|$bin summarize $data/base $data/head"
    "metrics --per-benchmark BASE|$bin metrics --per-benchmark $data/base"
  )
  for r in "${runs[@]}"; do
    label=${r%%|*}
    # shellcheck disable=SC2086 # the command is split on purpose (paths have no blanks)
    read -r wall cpu rss rc < <(measure "$data/out" ${r#*|})
    echo "| $n x 3 | $files | \`$label\` | $wall | $cpu | $rss | $rc |"
  done
done
