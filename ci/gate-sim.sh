#!/bin/sh
# Simulation benchmark of the gate's false-alarm rate and power on resampled real noise.
# Prints the markdown table that docs/gate.md ("Measured error rates") shows.
# Usage: ci/gate-sim.sh [TRIALS]   (default 100; about 7 minutes on 2 shared cores)
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet --example gate_sim
exec target/release/examples/gate_sim tests/fixtures/gate/whole-process-aa-3.13.5 "${1:-100}"
