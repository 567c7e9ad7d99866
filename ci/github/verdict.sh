#!/usr/bin/env bash
# The last step of a gate: turns pystats-gate's exit code (env CODE) into the step's result.
# A missing, empty or non-numeric code means the gate never finished: that is an error
# (exit 3), never a pass, whatever FAIL says. SHARD set: a passing shard has no verdict yet.
# FAIL=false reports the verdict without failing the step (only for a code that exists).
# Writes `verdict=pass|regression|input-error|run-error|shard|error` to $GITHUB_OUTPUT.
set -euo pipefail
code=${CODE-}
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "verdict=$1" >>"$GITHUB_OUTPUT"; fi; }
no_verdict() {
  echo "::error title=pystats-gate::$1"
  output error
  exit 3
}
case "$code" in
  0) verdict=pass ;;
  1) verdict=regression ;;
  2) verdict=input-error ;;
  3) verdict=run-error ;;
  '') no_verdict "no exit code was recorded: the gate did not finish" ;;
  *) no_verdict "unexpected exit code '$code' (pystats-gate exits 0-3)" ;;
esac
if [ "$verdict" = pass ] && [ -n "${SHARD:-}" ]; then
  verdict=shard
fi
output "$verdict"
echo "pystats-gate: $verdict (exit code $code)"
if [ "$code" != 0 ] && [ "${FAIL:-true}" != false ]; then
  exit "$code"
fi
