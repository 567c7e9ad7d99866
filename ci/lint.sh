#!/usr/bin/env bash
# Lints the CI files and the crate's shape (rust-version, function length, module layering:
# last lines). CI files: every shell script of the repository with shellcheck, and the GitHub
# workflows (ci/github/*.yml) plus action.yml with actionlint (which also shellchecks their
# `run:` blocks). actionlint only checks an action's metadata where a workflow uses it as a
# local action, so the workflows are linted in a scratch project where `action.yml` sits at
# the root and `uses: pystats-gate/pystats-gate@REF` reads `uses: ./`: every input a
# workflow passes and every output it reads is then checked against action.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(bash ci/tools.sh)

mapfile -t scripts < <(git ls-files -z --cached --others --exclude-standard | xargs -0 grep -lIE '^#!.*\b(ba)?sh\b' --)
shellcheck "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/.github/workflows"
cp action.yml "$scratch/"
for wf in ci/github/*.yml; do
  sed -E 's#uses: pystats-gate/pystats-gate@[^[:space:]]+#uses: ./#' "$wf" \
    >"$scratch/.github/workflows/$(basename "$wf")"
done
git -C "$scratch" init --quiet
# Findings name the scratch copy: same file name and line as under ci/github/.
(cd "$scratch" && "$tools/actionlint" -shellcheck "$(command -v shellcheck)")
echo "actionlint: action.yml and $(find "$scratch/.github/workflows" -name '*.yml' | wc -l) workflows clean"

# The crate's shape: declared minimum Rust version, function length, module layering.
bash ci/msrv.sh
python3 ci/fn-lengths.py --limit 80
echo "fn-lengths: every function is at most 80 lines"
python3 ci/module-deps.py
echo "module-deps: no import cycles, stages import only downwards"
