#!/usr/bin/env bash
# The action's gate step: runs `pystats-gate gate` with the action's inputs (GATE_* variables),
# records its exit code and the report paths as step outputs (never failing here: the Verdict
# step decides), and writes the PR comment payload (report.md, pr-number) that the
# `workflow_run` comment workflow posts.
set -euo pipefail
out=${GATE_OUT:-pystats-gate-out}
shard=${GATE_SHARD:-}
args=(gate --repo "${GATE_REPO:-.}" --base "$GATE_BASE" --head "$GATE_HEAD"
      --repeats "${GATE_REPEATS:-3}" --corpus "${GATE_CORPUS:-builtin}" --out "$out")
if [ -n "${GATE_RULES:-}" ]; then args+=(--rules "$GATE_RULES"); fi
if [ -n "$shard" ]; then args+=(--shard "$shard"); fi
code=0
pystats-gate "${args[@]}" || code=$?
mkdir -p "$out"
outputs=(
  "exit-code=$code" "out=$out" "shard-label=${shard//\//-of-}"
  "report-markdown=$out/report.md" "report-json=$out/report.json"
  "report-html=$out/report.html" "junit=$out/junit.xml"
)
# One comment per pull request, for a whole (unsharded) gate only.
if [ -z "$shard" ] && [ -n "${PR_NUMBER:-}" ]; then
  comment=${RUNNER_TEMP:-/tmp}/pystats-gate-comment
  mkdir -p "$comment"
  if [ -s "$out/report.md" ]; then
    cp "$out/report.md" "$comment/report.md"
  else
    printf '## pystats-gate: no report (exit code %s)\n\nThe gate stopped before comparing (build or run failure, or bad input): see the job log.\n' \
      "$code" >"$comment/report.md"
  fi
  printf '%s\n' "$PR_NUMBER" >"$comment/pr-number"
  outputs+=("comment-dir=$comment")
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s\n' "${outputs[@]}" >>"$GITHUB_OUTPUT"; fi
echo "pystats-gate: exit code $code"
