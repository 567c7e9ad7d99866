#!/usr/bin/env bash
# Installs what pystats-gate needs on a Debian machine (build deps for CPython, ccache,
# chromium for the HTML report test) and fetches the CPython 3.13 source into the cache.
set -euo pipefail
need=()
for p in gcc make pkg-config libffi-dev zlib1g-dev libssl-dev libbz2-dev liblzma-dev \
         libsqlite3-dev libreadline-dev libexpat1-dev ccache util-linux git xz-utils dpkg-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${PYSTATS_GATE_NO_CHROMIUM:-}" != 1 ]; then
  dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
"$(dirname "$0")/fetch-cpython.sh" python3.13 trixie >/dev/null
