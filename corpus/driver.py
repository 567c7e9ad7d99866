"""pystats-gate corpus driver: runs one benchmark with stats collection on around its workload only.

Usage: python driver.py BENCH_FILE DUMP_OUT [ARG...]

Interpreter start-up, imports and the benchmark's setup() run with stats off; the stats
are cleared, switched on for workload() only, switched off and dumped. The dump CPython
writes into /tmp/py_stats/ is copied to DUMP_OUT. The runner gives each run a private
/tmp/py_stats (mount namespace); without one it runs us serially and we insist that exactly
one new file appeared during our own dump call.
"""
import importlib.util
import os
import sys

STATS_DIR = "/tmp/py_stats"
EXIT_NO_DUMP = 17
EXIT_AMBIGUOUS_DUMP = 18


def load(path):
    spec = importlib.util.spec_from_file_location("pystats_gate_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    if not hasattr(sys, "_stats_on"):
        sys.stderr.write("driver: this interpreter was not built with --enable-pystats\n")
        return 2
    bench_file, dump_out, *args = sys.argv[1:]
    bench = load(bench_file)
    ctx = bench.setup(args) if hasattr(bench, "setup") else args
    sys._stats_clear()
    sys._stats_on()
    result = bench.workload(ctx)
    sys._stats_off()
    before = set(os.listdir(STATS_DIR))
    sys._stats_dump()
    new = sorted(set(os.listdir(STATS_DIR)) - before)
    if not new:
        sys.stderr.write(f"driver: no dump appeared in {STATS_DIR}\n")
        return EXIT_NO_DUMP
    if len(new) > 1:
        sys.stderr.write(f"driver: {len(new)} dumps appeared in {STATS_DIR} during our dump: {new}\n")
        return EXIT_AMBIGUOUS_DUMP
    src = os.path.join(STATS_DIR, new[0])
    with open(src, "rb") as f:
        data = f.read()
    tmp = dump_out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dump_out)
    os.unlink(src)
    print(f"checksum {result!r}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip finalization: it would dump again (or count exit-time work) into /tmp/py_stats.
    os._exit(code)
