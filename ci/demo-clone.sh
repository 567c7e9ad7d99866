#!/usr/bin/env bash
# Prints the path of a private clone of the demo repository (pristine CPython 3.13 in git,
# `base` = the unpatched source), OUT/cpython, cloning it when missing; the demo repository
# itself is made by `pystats-gate demo` when missing. A private clone has its own persistent
# build worktree, so a benchmark's builds never wait for or disturb another user's.
# Usage: ci/demo-clone.sh PYSTATS_GATE_BINARY OUT_DIR   (used by ci/bench-mutants.sh and
# ci/handwritten.sh)
set -euo pipefail
bin=${1:?usage: ci/demo-clone.sh BINARY OUT_DIR}
out=${2:?usage: ci/demo-clone.sh BINARY OUT_DIR}
demo_repo() {
  local d
  for d in "${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}"/demo/cpython-*; do
    [ -d "$d/.git" ] && { echo "$d"; return; }
  done
}
demo=$(demo_repo)
if [ -z "$demo" ]; then
  "$bin" demo --quiet --head comment --repeats 1 --out "$out/warm" >/dev/null || true
  demo=$(demo_repo)
fi
repo="$out/cpython"
[ -d "$repo/.git" ] || git clone -q "$demo" "$repo" >&2
echo "$repo"
