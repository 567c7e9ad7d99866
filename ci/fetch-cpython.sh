#!/usr/bin/env bash
# Fetch pristine CPython source from Debian's source package, using the apt
# mirror this machine is already configured for (never a hard-coded host).
# Usage: ci/fetch-cpython.sh [PACKAGE] [SUITE]   (defaults: python3.13 trixie)
# Prints the path of the extracted source tree on stdout (last line).
set -euo pipefail
pkg=${1:-python3.13}
suite=${2:-trixie}
cache=${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}
dest="$cache/src/$pkg"
if [ -f "$dest/.complete" ]; then
  cat "$dest/.complete"
  exit 0
fi
mkdir -p "$dest"
apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"

# Derive URI and keyring from the first Debian "deb" stanza of the system config.
src=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  if grep -q '^Suites:.*\b\(bookworm\|trixie\|sid\|bullseye\)\b' "$f" && ! grep -q 'security' <(grep '^Suites:' "$f" | head -1); then
    src=$f; break
  fi
done
uri=""; keyring=""
if [ -n "$src" ]; then
  uri=$(awk '/^URIs:/{print $2; exit}' "$src")
  keyring=$(awk '/^Signed-By:/{print $2; exit}' "$src")
elif [ -f /etc/apt/sources.list ]; then
  line=$(grep -E '^deb ' /etc/apt/sources.list | grep -v security | head -1)
  uri=$(echo "$line" | awk '{for(i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i; exit}}')
fi
if [ -z "$uri" ]; then
  echo "fetch-cpython: could not derive a Debian mirror from /etc/apt" >&2
  exit 3
fi
keyring=${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}
cat > "$apt_dir/sources.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: $keyring
SRC
opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.sources" -o "Dir::Etc::SourceParts=/dev/null"
      -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
      -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
apt-get "${opts[@]}" update >&2
work="$cache/src/.download-$pkg"
rm -rf "$work"; mkdir -p "$work"
(cd "$work" && apt-get "${opts[@]}" source --download-only "$pkg" >&2)
origs=("$work"/*.orig.tar.*)
orig=${origs[0]}
tmp="$dest.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
tar -xf "$orig" -C "$tmp"
tops=("$tmp"/*)
rm -rf "$dest"; mv "${tops[0]}" "$dest"; rmdir "$tmp"
cp "$orig" "$cache/src/" 2>/dev/null || true
rm -rf "$work"
echo "$dest" > "$dest/.complete"
echo "$dest"
