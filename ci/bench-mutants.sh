#!/usr/bin/env bash
# Benchmark of `pystats-gate mutants` (documented in docs/mutants.md; not a test).
#
# Runs every mutant of CPython 3.13.5's Python/specialize.c (or a shard of them) on a private
# clone of the demo repository and prints wall time, CPU time, mutants per minute and the
# score; the full run also checks that every generated mutant compiles (a "not built" count
# above zero is reported). With SHARDS=N it runs the N shards one after another, each in its
# own --out, then merges them: the wall time of one shard is what N CI runners would take.
#
# Usage: ci/bench-mutants.sh [OUT_DIR]   (env: SHARDS=N, ONLY=glob, PYSTATS_GATE=binary)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
shards=${SHARDS:-1}
bin=${PYSTATS_GATE:-target/release/pystats-gate}
[ -n "${PYSTATS_GATE:-}" ] || cargo build --release --quiet
repo=$(ci/demo-clone.sh "$bin" "$out")
only=()
[ -n "${ONLY:-}" ] && only=(--only "$ONLY")
dirs=()
for k in $(seq 1 "$shards"); do
  d="$out/shard-$k"
  dirs+=(--merge "$d")
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$out/time-$k" \
    "$bin" mutants --repo "$repo" --rev base --out "$d" --quiet --shard "$k/$shards" "${only[@]}" \
    > "$out/report-$k.txt"
  end=$(date +%s.%N)
  read -r user sys < "$out/time-$k"
  echo "shard $k/$shards: wall $(echo "$end - $start" | bc) s, CPU (children) $(echo "$user + $sys" | bc) s"
  head -1 "$out/report-$k.txt"
done
"$bin" mutants "${dirs[@]}" --out "$out/merged" --quiet | head -20
python3 - "$out/merged/mutants-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overall"]
n = o["total"] - o["equivalent"]
secs = r["build_seconds"] + r["run_seconds"]
print(f"{o['total']} mutants, {o['not_built']} not built, build {r['build_seconds']:.0f} s + run {r['run_seconds']:.0f} s"
      f" = {secs/60:.1f} min sequential, {n * 60 / secs:.2f} mutants/minute")
PY
