#!/bin/sh
# Simulation benchmark of the gate's false-failure rate, false-pass rate, inconclusive rate
# and power under six noise models (normal, heavy-tailed, two seed modes, mode-probability
# shift, correlated metrics, between-build drift), with out-of-sample noise files.
# Prints the markdown table that docs/gate.md ("Measured error rates") shows.
# Usage: ci/gate-sim.sh [TRIALS]   (default 100; about 85 ms per gate run, 72 rows: 200
# trials take about 20 minutes of one idle core)
# SIM_ONLY="MODEL/DESIGN/SHIFT" prefix (e.g. "Modes/", "Normal/paired, 3") runs some rows;
# several processes with one model each shard a run (concatenate their tables in order).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gate_sim
exec target/release/examples/gate_sim tests/fixtures/gate/whole-process-aa-3.13.5 "${1:-100}"
