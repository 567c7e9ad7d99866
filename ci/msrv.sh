#!/usr/bin/env bash
# Checks the declared minimum Rust version (`rust-version` in Cargo.toml):
#  1. no locked dependency declares a newer rust-version than ours;
#  2. clippy's incompatible_msrv lint: our code calls no std API stabilized after it;
#  3. if that exact toolchain is installed (rustup), the crate and its tests compile with it.
set -euo pipefail
cd "$(dirname "$0")/.."
ours=$(cargo metadata --format-version 1 --no-deps --quiet |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["rust_version"] or "")')
if [ -z "$ours" ]; then echo "Cargo.toml declares no rust-version" >&2; exit 1; fi
cargo metadata --format-version 1 --quiet | python3 -c '
import json, sys
ours = sys.argv[1]
key = lambda v: tuple(int(x) for x in v.split("."))  + (0,) * (3 - len(v.split(".")))
newer = ["%s %s needs %s" % (p["name"], p["version"], p["rust_version"])
         for p in json.load(sys.stdin)["packages"]
         if p["rust_version"] and key(p["rust_version"]) > key(ours)]
if newer:
    sys.exit("dependencies newer than rust-version " + ours + ":\n  " + "\n  ".join(newer))
' "$ours"
cargo clippy --all-targets --quiet -- -A clippy::all -D clippy::incompatible_msrv
if command -v rustup >/dev/null && rustup run "$ours" rustc --version >/dev/null 2>&1; then
  cargo "+$ours" check --all-targets --quiet
  echo "msrv: builds with Rust $ours"
else
  echo "msrv: Rust $ours toolchain not installed; checked dependencies and std API use against it"
fi
echo "msrv: rust-version $ours holds"
