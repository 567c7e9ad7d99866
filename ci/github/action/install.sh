#!/usr/bin/env bash
# The action's install step: puts a `pystats-gate` on PATH for the following steps.
# Usage: install.sh auto|wheel|cargo|REQUIREMENT
#   auto   one already on PATH (a cache or the runner image), else `wheel`
#   wheel  pip-install a wheel built (by maturin) from the action's own source
#   cargo  cargo install from the action's own source
#   other  a pip requirement or a wheel file, e.g. `pystats-gate==0.1.0` or `dist/x.whl`
set -euo pipefail
how=${1:-auto}
src=${GITHUB_ACTION_PATH:?run as a step of the pystats-gate action}
tmp=${RUNNER_TEMP:-/tmp}
if [ "$how" = auto ]; then
  if command -v pystats-gate >/dev/null; then
    pystats-gate --version
    exit 0
  fi
  how=wheel
fi
case "$how" in
  cargo)
    cargo install --locked --quiet --path "$src" --root "$tmp/pystats-gate-cargo"
    bin=$tmp/pystats-gate-cargo/bin
    ;;
  *)
    # A virtualenv: the runner's system Python refuses `pip install` (PEP 668).
    python3 -m venv "$tmp/pystats-gate-venv"
    spec=$how
    if [ "$how" = wheel ]; then spec=$src; fi
    "$tmp/pystats-gate-venv/bin/pip" install --quiet "$spec"
    bin=$tmp/pystats-gate-venv/bin
    ;;
esac
if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin" >>"$GITHUB_PATH"; fi
"$bin/pystats-gate" --version
