#!/bin/sh
# Simulation benchmark of the gate's false-failure rate, false-pass rate, inconclusive rate
# and power under six noise models (normal, heavy-tailed, two seed modes, mode-probability
# shift, correlated metrics, between-build drift), with out-of-sample noise files and
# `--repeats auto`. Prints the markdown table that docs/gate.md ("Measured error rates")
# shows. The trial loop runs in-process (examples/gate_sim.rs): each pool dump's metric
# tables are computed once, each trial calls the gate's decision code on derived tables,
# trials in parallel over all cores (RAYON_NUM_THREADS limits them).
# Usage: ci/gate-sim.sh [TRIALS]   (default 100; 2000 trials, 120 rows: about 30 CPU minutes)
# SIM_ONLY="MODEL/DESIGN/SHIFT" prefix (e.g. "Modes/", "Normal/paired, 3") runs some rows.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gate_sim
exec "${CARGO_TARGET_DIR:-target}/release/examples/gate_sim" tests/fixtures/gate/whole-process-aa-3.13.5 "${1:-100}"
