#!/usr/bin/env python3
"""Generate an embedded metadata table (src/stats/metadata/cpython-X.Y.json).

The table holds what summarize_stats.py needs: the specialized instruction names,
SPEC_FAIL_* kinds (Python/specialize.c) and EVAL_CALL_* kinds (pystats.h), plus, for
3.12 whose dumps print numeric opcode ids, the full opcode-number -> name list.

Sources (any mix):
  --live                 run this script under the target interpreter: reads `opcode`/`dis`
  --specialized FILE     one specialized instruction name per line
  --opcode-metadata FILE a Lib/_opcode_metadata.py (or an excerpt) with `_specialized_opmap`
  --src DIR              a CPython tree: Lib/_opcode_metadata.py, Python/specialize.c,
                         Include/cpython/pystats.h (or Include/pystats.h)
  --defines-c FILE       a file with the `#define SPEC_FAIL_*` lines
  --pystats-h FILE       a file with the `#define EVAL_CALL_*` lines
  --defines-json FILE    take `_defines` from an existing table (when specialize.c is missing)
  --stats-defines-json FILE
                         take `_stats_defines` from an existing table (when pystats.h is missing)
  --provenance TEXT      where the data came from (kept in the table)
"""
import argparse
import collections
import json
import re
import sys
from pathlib import Path


def defines(text, prefix):
    out = collections.defaultdict(list)
    start = "#define " + prefix + "_"
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(start):
            parts = line[len(start):].split()
            if len(parts) == 2 and parts[1].isdigit():
                out[int(parts[1])].append(parts[0])
    return {k: out[k] for k in sorted(out)}


def specialized_from_metadata_py(text):
    body = re.search(r"_specialized_opmap = \{(.*?)\}", text, re.S).group(1)
    return [n for n in re.findall(r"'([A-Z0-9_]+)'", body) if "__" not in n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("version")
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--specialized")
    ap.add_argument("--opcode-metadata")
    ap.add_argument("--src")
    ap.add_argument("--defines-c")
    ap.add_argument("--pystats-h")
    ap.add_argument("--defines-json")
    ap.add_argument("--stats-defines-json")
    ap.add_argument("--provenance", default="")
    a = ap.parse_args()
    table = {"version": a.version, "provenance": a.provenance}
    spec, spec_fail, eval_call, opnames = None, None, None, []
    if a.live:
        import dis
        import opcode
        if hasattr(opcode, "_specialized_opmap"):
            spec = [op for op in opcode._specialized_opmap if "__" not in op]
        else:  # 3.12
            spec = list(opcode._specialized_instructions)
        if hasattr(dis, "_all_opname"):  # 3.12: numeric ids in dumps
            opnames = [n if not n.startswith("<") else "" for n in dis._all_opname]
    if a.src:
        src = Path(a.src)
        meta = src / "Lib/_opcode_metadata.py"
        if meta.exists():
            spec = specialized_from_metadata_py(meta.read_text())
        if (src / "Python/specialize.c").exists():
            spec_fail = defines((src / "Python/specialize.c").read_text(), "SPEC_FAIL")
        for h in ("Include/cpython/pystats.h", "Include/pystats.h"):
            if (src / h).exists():
                eval_call = defines((src / h).read_text(), "EVAL_CALL")
                break
    if a.specialized:
        spec = [l.strip() for l in Path(a.specialized).read_text().splitlines() if l.strip()]
    if a.opcode_metadata:
        spec = specialized_from_metadata_py(Path(a.opcode_metadata).read_text())
    if a.defines_c:
        spec_fail = defines(Path(a.defines_c).read_text(), "SPEC_FAIL")
    if a.pystats_h:
        eval_call = defines(Path(a.pystats_h).read_text(), "EVAL_CALL")
    if a.defines_json:
        spec_fail = {int(k): v for k, v in json.loads(Path(a.defines_json).read_text())["_defines"].items()}
    if a.stats_defines_json:
        table_json = json.loads(Path(a.stats_defines_json).read_text())["_stats_defines"]
        eval_call = {int(k): v for k, v in table_json.items()}
    if spec is None or spec_fail is None or eval_call is None:
        sys.exit("gen-metadata: need specialized names, SPEC_FAIL and EVAL_CALL defines")
    table["_specialized_instructions"] = spec
    table["_stats_defines"] = eval_call
    table["_defines"] = spec_fail
    if opnames:
        table["opnames"] = opnames
    json.dump(table, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
