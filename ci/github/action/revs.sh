#!/usr/bin/env bash
# The action's revision step: resolves the base and head to commits (GATE_REPO, GATE_BASE,
# GATE_HEAD; an empty base means the merge base of the PR's target branch and the head) and
# writes `base=` and `head=` to $GITHUB_OUTPUT (the base commit also keys the build cache).
set -euo pipefail
repo=${GATE_REPO:-.}
head=$(git -C "$repo" rev-parse --verify "${GATE_HEAD:-HEAD}^{commit}")
if [ -n "${GATE_BASE:-}" ]; then
  base=$(git -C "$repo" rev-parse --verify "$GATE_BASE^{commit}")
elif [ -n "${GITHUB_BASE_REF:-}" ]; then
  # actions/checkout fetched the PR's merge commit; fetch-depth 0 brings the target branch.
  git -C "$repo" rev-parse --verify --quiet "origin/$GITHUB_BASE_REF" >/dev/null ||
    git -C "$repo" fetch --quiet --no-tags origin "$GITHUB_BASE_REF:refs/remotes/origin/$GITHUB_BASE_REF"
  base=$(git -C "$repo" merge-base "origin/$GITHUB_BASE_REF" "$head")
else
  echo "::error title=pystats-gate::no base revision: set the action's \`base\` input (not a pull request)"
  exit 2
fi
echo "pystats-gate: base $base, head $head"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'base=%s\nhead=%s\n' "$base" "$head" >>"$GITHUB_OUTPUT"
fi
