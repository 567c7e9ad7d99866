#!/usr/bin/env bash
# Which specialized instructions the corpus executes, and how much of its family each one is.
# Usage: ci/corpus-coverage.sh SET [MIN_SHARE]   (SET: a stats set from `pystats-gate run`)
# For every specialized form of every family: its share of the family's executions over the
# whole corpus, and its best share within one benchmark. Forms below MIN_SHARE (default 0.04,
# twice the form-share rules' 2-point limit, so losing half of a form's sites still fails a
# rule) in both are flagged "WEAK" (a change losing them could hide under the rules' limits);
# never-executed forms "MISSING". Exit 1 if any form is missing or weak.
set -euo pipefail
set_dir=${1:?usage: ci/corpus-coverage.sh SET [MIN_SHARE]}
min=${2:-0.04}
bin=${PYSTATS_GATE:-pystats-gate}
"$bin" metrics "$set_dir" --per-benchmark --format json --filter '*form_share*' > "${TMPDIR:-/tmp}/coverage.$$.json"
python3 - "${TMPDIR:-/tmp}/coverage.$$.json" "$min" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["metrics"]
minimum = float(sys.argv[2])
forms = {}
for name, m in data.items():
    value = sum(m["values"]) / len(m["values"])
    if name.startswith("bench."):
        bench, rest = name[len("bench."):].split(".", 1)
    else:
        bench, rest = None, name
    _, family, _, form = rest.split(".", 3)
    f = forms.setdefault((family, form), {"all": 0.0, "best": 0.0, "bench": "-"})
    if bench is None:
        f["all"] = value
    elif value > f["best"]:
        f["best"], f["bench"] = value, bench
bad = 0
print(f"{'family':<16} {'form':<42} {'corpus':>7} {'best bench':>10}  bench")
for (family, form), f in sorted(forms.items()):
    flag = ""
    if f["best"] == 0.0:
        flag, bad = "MISSING", bad + 1
    elif f["all"] < minimum and f["best"] < minimum:
        flag, bad = "WEAK", bad + 1
    print(f"{family:<16} {form:<42} {f['all']*100:6.2f}% {f['best']*100:9.2f}%  {f['bench']} {flag}")
print(f"{len(forms)} forms, {bad} missing or weak")
sys.exit(1 if bad else 0)
PY
rc=$?
rm -f "${TMPDIR:-/tmp}/coverage.$$.json"
exit $rc
