#!/usr/bin/env bash
# The last step of a gate: turns pystats-gate's exit code (env CODE) into the step's result.
# A missing, empty or non-numeric code means the gate never finished: that is an error
# (exit 3), never a pass, whatever FAIL says. SHARD set: a passing shard has no verdict yet.
# FAIL=false reports the verdict without failing the step (only for a code that exists).
# Writes `verdict=pass|regression|input-error|run-error|shard|error` to $GITHUB_OUTPUT.
set -euo pipefail
code=${CODE-}
case "$code" in
  0) verdict=pass ;;
  1) verdict=regression ;;
  2) verdict=input-error ;;
  3) verdict=run-error ;;
  *)
    echo "::error title=pystats-gate::no usable exit code was recorded (got '$code'): the gate did not finish"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "verdict=error" >>"$GITHUB_OUTPUT"; fi
    exit 3
    ;;
esac
if [ "$verdict" = pass ] && [ -n "${SHARD:-}" ]; then
  verdict=shard
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "verdict=$verdict" >>"$GITHUB_OUTPUT"; fi
echo "pystats-gate: $verdict (exit code $code)"
if [ "$code" != 0 ] && [ "${FAIL:-true}" != false ]; then
  exit "$code"
fi
