#!/bin/sh
# Simulation benchmark of the gate's false-alarm rate and power on resampled real noise.
# Prints the markdown table that docs/gate.md ("Measured error rates") shows.
# Usage: ci/gate-sim.sh [TRIALS]   (default 100; about 10 minutes on 2 shared cores)
# Two tables: fixed repeats (3 designs x 3 repeat counts x 4 shifts), then --repeats auto.
# SIM_ONLY="DESIGN-PREFIX/N/SHIFT" (e.g. "paired/3/1", "auto/2") runs one row.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gate_sim
exec target/release/examples/gate_sim tests/fixtures/gate/whole-process-aa-3.13.5 "${1:-100}"
