#!/usr/bin/env bash
# Benchmark: does `pystats-gate gate` (built-in corpus, default rules) catch hand-written
# specializer regressions? (documented in docs/mutants.md, "Hand-written changes"; not a test)
#
# Each ci/handwritten/NN-name.patch is a small hand-written change to pristine CPython 3.13.5
# (Python/specialize.c, Python/bytecodes.c with its generated files regenerated, or a header)
# that changes what the specializer does. For each one the script commits the patch on its
# own branch of a private clone of the demo repository (whose `base` is pristine 3.13.5), runs
# `gate --base base --head hw/NN-name` and prints one table row: exit code, verdict, the rules
# that failed and the families or metrics they named. Exit 0 is a miss (40 and 64 are changes
# no counter can see: docs/mutants.md says why).
#
# Usage: ci/handwritten.sh [OUT_DIR] [GLOB]   (env: PYSTATS_GATE=binary, REPEATS=N, RULES=file)
#   GLOB selects patches by name (default '*'). Patches are applied in order; the build
#   worktree is shared, so header and bytecodes.c patches (numbered last) cost a rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$(mktemp -d)}
glob=${2:-*}
bin=${PYSTATS_GATE:-$root/target/release/pystats-gate}
[ -n "${PYSTATS_GATE:-}" ] || cargo build --release --quiet
mkdir -p "$out"
repo=$(ci/demo-clone.sh "$bin" "$out")
extra=()
[ -n "${REPEATS:-}" ] && extra+=(--repeats "$REPEATS")
[ -n "${RULES:-}" ] && extra+=(--rules "$RULES")
printf '| change | exit | verdict | wrong results; failed rules: what they named |\n|---|---|---|---|\n'
for patch in "$root"/ci/handwritten/$glob.patch; do
  name=$(basename "$patch" .patch)
  branch="hw/$name"
  if ! git -C "$repo" rev-parse -q --verify "$branch" >/dev/null; then
    git -C "$repo" checkout -q -B "$branch" base
    git -C "$repo" apply "$patch"
    git -C "$repo" -c user.name=hw -c user.email=hw@localhost commit -q -am "hand-written change $name"
    git -C "$repo" checkout -q base
  fi
  rc=0
  "$bin" gate --repo "$repo" --base base --head "$branch" --out "$out/$name" --quiet "${extra[@]}" \
    > "$out/$name.log" 2>&1 || rc=$?
  python3 - "$name" "$rc" "$out/$name/report.json" <<'PY'
import json, os, sys
name, rc, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if rc == 3 or not os.path.exists(path):
    print(f"| {name} | {rc} | build/run failure | (see the log) |")
    sys.exit()
r = json.load(open(path))
named = {}
for o in r["outcomes"]:
    if o["status"] == "regression" and o["severity"] == "fail":
        m = o["metric"].split(".")
        what = m[1] if m[0] == "family" else o["metric"]
        where = f"{what} ({o['benchmark']})" if o.get("benchmark") else what
        named.setdefault(o["rule"], [])
        if where not in named[o["rule"]]:
            named[o["rule"]].append(where)
cells = "; ".join(f"{rule}: {', '.join(w[:3])}{' +%d' % (len(w) - 3) if len(w) > 3 else ''}" for rule, w in named.items())
wrong = [d["benchmark"] for d in r.get("results", {}).get("differ", [])]
if wrong:
    cells = "; ".join(c for c in [f"WRONG RESULT: {', '.join(wrong)}", cells] if c)
print(f"| {name} | {rc} | {r['verdict']} | {cells or '-'} |")
PY
done
