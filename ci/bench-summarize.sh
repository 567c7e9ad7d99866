#!/usr/bin/env bash
# Benchmark: `pystats-gate summarize BASE HEAD` vs the real summarize_stats.py on the same
# comparison, over >= 500 real dump files from an --enable-pystats CPython 3.13 build.
#
# Usage: ci/bench-summarize.sh [FILES_PER_SIDE (default 250)] [ROUNDS (default 11)]
# Env:   PYSTATS_GATE_PYTHON   --enable-pystats interpreter (default: pystats-gate builds the
#                              pristine 3.13 source itself, cached)
#        PYSTATS_GATE_CACHE    cache root (default ~/.cache/pystats-gate)
# Writes the measured markdown table to stdout; docs/bench-summarize.md holds a copy.
# The dumps are generated once into $CACHE/bench-summarize (not committed).
set -euo pipefail
per_side=${1:-250}
rounds=${2:-11}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}
src=$("$root/ci/fetch-cpython.sh" python3.13 trixie | tail -1)
(cd "$root" && cargo build --release -q)
py=${PYSTATS_GATE_PYTHON:-$("$root/target/release/pystats-gate" build --source "$src" --quiet)}
[ -x "$py" ] || { echo "bench-summarize: no --enable-pystats python at $py" >&2; exit 3; }
script="$src/Tools/scripts/summarize_stats.py"
data="$cache/bench-summarize/$per_side"

# Many short, different programs: each run is a whole process (-X pystats), one dump file.
gen_side() { # side seed_offset
  local off=$2 out="$data/$1"
  mkdir -p "$out"
  cat > "$data/prog.py" <<'PY'
import sys, json, re, collections
seed = int(sys.argv[1])
kind = seed % 5
n = 2000 + (seed * 37) % 3000
class P:
    def __init__(self, x): self.x = x
    def get(self): return self.x
if kind == 0:
    print(sum(P(i).get() % 7 for i in range(n)))
elif kind == 1:
    d = collections.defaultdict(list)
    for i in range(n): d[str(i % 97)].append(i)
    print(len(json.dumps(d)))
elif kind == 2:
    s = " ".join(str(i) for i in range(n))
    print(len(re.findall(r"1\d", s)))
elif kind == 3:
    t = 0.0
    for i in range(n): t += (i * 1.5) / (i + 1)
    print(int(t))
else:
    def f(a, b=2, *c, **k): return a + b + len(c) + len(k)
    print(sum(f(i, i, i, k=i) for i in range(n)))
PY
  # /tmp/py_stats is hard-coded in CPython and shared by the machine: use a private tmpfs.
  # The inner script takes its values as arguments: per_side, off, py, data, out.
  # shellcheck disable=SC2016 # expanded by the inner bash, not here
  unshare --mount --map-root-user bash -c '
    set -e
    per_side=$1 off=$2 py=$3 data=$4 out=$5
    mkdir -p /tmp/py_stats && mount -t tmpfs none /tmp/py_stats
    for i in $(seq 1 "$per_side"); do
      seed=$((i + off))
      PYTHONHASHSEED=$seed "$py" -X pystats "$data/prog.py" "$seed" >/dev/null
      for f in /tmp/py_stats/*.txt; do
        mv "$f" "$out/$(printf "dump-%04d" "$i").txt"
      done
    done' _ "$per_side" "$off" "$py" "$data" "$out"
}
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"; mkdir -p "$data"
  echo "generating $per_side real dumps per side into $data ..." >&2
  gen_side base 0
  gen_side head 100000
  touch "$data/.complete"
fi
nfiles=$(find "$data/base" "$data/head" -mindepth 1 -maxdepth 1 | wc -l)
bytes=$(du -sb "$data/base" "$data/head" | awk '{s+=$1} END {print s}')

(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/pystats-gate"

# Wall time in ms (date +%s%N, finer than GNU time's 10 ms) and peak RSS via GNU time;
# the two tools' runs are interleaved so both see the same machine load. Median of $rounds.
ref_cmd=("$py" "$script" "$data/base" "$data/head")
our_cmd=("$bin" summarize "$data/base" "$data/head")
run_once() { # outfile cmd... -> prints "wall_ms rss_kb cpu_ms"
  local out=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%M %U %S" -o "$data/time.out" "$@" > "$out" 2>/dev/null
  t1=$(date +%s%N)
  read -r rss u s < "$data/time.out"
  echo "$(( (t1 - t0) / 1000000 )) $rss $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')"
}
"${our_cmd[@]}" >/dev/null # warm the page cache
ref_walls=(); our_walls=(); ref_rss=0; our_rss=0; ref_cpu=0; our_cpu=0
for _ in $(seq 1 "$rounds"); do
  read -r w m c < <(run_once "$data/out-ref.md" "${ref_cmd[@]}")
  ref_walls+=("$w"); [ "$m" -gt "$ref_rss" ] && ref_rss=$m; ref_cpu=$((ref_cpu + c))
  read -r w m c < <(run_once "$data/out-ours.md" "${our_cmd[@]}")
  our_walls+=("$w"); [ "$m" -gt "$our_rss" ] && our_rss=$m; our_cpu=$((our_cpu + c))
done
# GNU time reports CPU in 10 ms steps: the mean over all rounds is finer.
ref_cpu=$((ref_cpu / rounds)); our_cpu=$((our_cpu / rounds))
median() { printf "%s\n" "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rw=$(median "${ref_walls[@]}"); ow=$(median "${our_walls[@]}")
rmin=$(printf "%s\n" "${ref_walls[@]}" | sort -n | head -1)
omin=$(printf "%s\n" "${our_walls[@]}" | sort -n | head -1)
# Same numbers? (date line and tie order aside: compare sorted report lines)
if diff <(grep -v "^Stats gathered" "$data/out-ref.md" | sort) \
        <(grep -v "^Stats gathered" "$data/out-ours.md" | sort) >/dev/null; then
  same="yes"
else
  same="NO"
fi
speedup=$(awk -v a="$rw" -v b="$ow" 'BEGIN { if (b == 0) b = 1; printf "%.0f", a / b }')
lines=$(cat "$data/base"/*.txt "$data/head"/*.txt | wc -l)
cat <<EOF
Comparative summary (\`summarize BASE HEAD\`) of $nfiles real dump files ($((bytes / 1024 / 1024)) MiB, $lines lines),
$(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the end, $rounds interleaved rounds:

| tool | median wall (ms) | best wall (ms) | mean CPU user+sys (ms) | peak RSS (MiB) |
| --- | ---: | ---: | ---: | ---: |
| summarize_stats.py (CPython 3.13.5 --enable-pystats build) | $rw | $rmin | $ref_cpu | $((ref_rss / 1024)) |
| pystats-gate summarize (release) | $ow | $omin | $our_cpu | $((our_rss / 1024)) |

Speed-up: median wall ${speedup}x, best wall $(awk -v a="$rmin" -v b="$omin" 'BEGIN { if (b == 0) b = 1; printf "%.0f", a / b }')x.
Same report lines (sorted, date aside): $same.
EOF
