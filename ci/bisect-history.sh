#!/usr/bin/env bash
# Make the synthetic CPython history that the bisect real-build test searches.
# Usage: ci/bisect-history.sh [SOURCE]   (default SOURCE: the pristine 3.13 tree that
# ci/fetch-cpython.sh provides). Prints the repository path on stdout (last line).
#
# Commit 0 is the pristine source (the good end). Then, in order:
#   1 comment-only .c   2 comment-only .py   3 unrelated C change   4 comment-only in
#   Python/specialize.c   5 BROKEN BUILD (syntax error)   6 fixes the build   7 THE REGRESSION
#   (int + int no longer specializes in Python/specialize.c)   8-10 comment-only changes.
# Subjects start with "broken:" and "regression:" so tests can find those two commits.
# Author/committer dates are fixed, so the hashes are stable and cached builds stay valid.
set -euo pipefail
version=3
cache=${PYSTATS_GATE_CACHE:-$HOME/.cache/pystats-gate}
src=${1:-$cache/src/python3.13}
dest="$cache/bisect-fixture/cpython-3.13-history"
marker="$dest/.git/pystats-gate-fixture"
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$version" ]; then
  echo "$dest"
  exit 0
fi
# Tests run in parallel: one creator at a time, the others wait and reuse its result.
mkdir -p "$(dirname "$dest")"
exec 9>"$(dirname "$dest")/.lock"
flock 9
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$version" ]; then
  echo "$dest"
  exit 0
fi
if [ ! -f "$src/Python/specialize.c" ]; then
  echo "error: no CPython source at $src (run ci/fetch-cpython.sh)" >&2
  exit 2
fi
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
# The pristine tree, minus the fetch script's own marker.
tar -C "$src" --exclude=./.complete -cf - . | tar -C "$tmp" -xf -

export GIT_AUTHOR_NAME="Bisect Fixture" GIT_AUTHOR_EMAIL="fixture@pystats-gate.invalid"
export GIT_COMMITTER_NAME="Bisect Fixture" GIT_COMMITTER_EMAIL="fixture@pystats-gate.invalid"
n=0
commit() {
  GIT_AUTHOR_DATE="$(date -u -d "2024-01-01 12:00:00 UTC + $n minutes" '+%Y-%m-%dT%H:%M:%S+00:00')"
  export GIT_AUTHOR_DATE GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
  git -C "$tmp" add -A
  git -C "$tmp" -c commit.gpgsign=false commit -q --no-verify -m "$1"
  n=$((n + 1))
}
c_comment() { printf '\n/* bisect fixture: comment-only change %s */\n' "$2" >>"$tmp/$1"; }
py_comment() { printf '\n# bisect fixture: comment-only change %s\n' "$2" >>"$tmp/$1"; }

git -C "$tmp" init -q -b main
git -C "$tmp" config core.autocrlf false
git -C "$tmp" config gc.auto 0
commit "base: pristine CPython 3.13 source"

c_comment Objects/listobject.c 1
commit "listobject.c: comment only"

py_comment Lib/colorsys.py 2
commit "colorsys.py: comment only"

sed -i 's/"range() arg 3 must not be zero"/"range() arg 3 (step) must not be zero"/' "$tmp/Objects/rangeobject.c"
grep -q 'arg 3 (step) must not be zero' "$tmp/Objects/rangeobject.c"
commit "rangeobject.c: clearer zero-step message (unrelated C change)"

c_comment Python/specialize.c 4
commit "specialize.c: comment only"

printf '\nthis line is not C and breaks the build;\n' >>"$tmp/Objects/floatobject.c"
commit "broken: floatobject.c half-finished edit (does not compile)"

sed -i '/^this line is not C and breaks the build;$/d' "$tmp/Objects/floatobject.c"
c_comment Objects/floatobject.c 6
commit "floatobject.c: finish the edit (builds again)"

# int + int stops specializing: BINARY_OP_ADD_INT is never chosen, the site stays adaptive.
sed -i 's|^\( *\)instr->op.code = BINARY_OP_ADD_INT;|\1break;  /* int + int: left unspecialized */|' "$tmp/Python/specialize.c"
grep -q 'int + int: left unspecialized' "$tmp/Python/specialize.c"
commit "regression: specialize.c stops specializing int addition"

py_comment Lib/colorsys.py 8
commit "colorsys.py: another comment"

c_comment Objects/listobject.c 9
commit "listobject.c: another comment"

c_comment Objects/rangeobject.c 10
commit "rangeobject.c: comment only"

echo "$version" >"$tmp/.git/pystats-gate-fixture"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"
