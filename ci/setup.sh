#!/usr/bin/env bash
# Installs what pystats-gate needs on a Debian machine (build deps for CPython, ccache,
# chromium for the HTML report test) and fetches the CPython 3.13 source into the cache.
# For the tests it also installs tmux (the terminal test), shellcheck, GNU time
# (ci/bench-scale.sh), python3-venv and, in the cache, the tools virtualenv with maturin
# (the wheel test) and actionlint (ci/tools.sh).
# `--build-deps-only`: only what building CPython needs (the GitHub Action uses this).
set -euo pipefail
build_deps_only=false
if [ "${1:-}" = --build-deps-only ]; then build_deps_only=true; fi
need=()
wanted=(gcc make pkg-config libffi-dev zlib1g-dev libssl-dev libbz2-dev liblzma-dev
        libsqlite3-dev libreadline-dev libexpat1-dev ccache util-linux git xz-utils dpkg-dev)
if ! $build_deps_only; then
  # GNU time (/usr/bin/time): ci/bench-scale.sh reads wall, CPU time and peak RSS from it.
  wanted+=(tmux shellcheck time)
  # The tools venv and the wheel test need `python3 -m venv` with pip.
  python3 -c 'import venv, ensurepip' 2>/dev/null || wanted+=(python3-venv)
  if [ "${PYSTATS_GATE_NO_CHROMIUM:-}" != 1 ]; then wanted+=(chromium); fi
fi
for p in "${wanted[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if $build_deps_only; then exit 0; fi
"$(dirname "$0")/fetch-cpython.sh" python3.13 trixie >/dev/null
bash "$(dirname "$0")/tools.sh" >/dev/null
