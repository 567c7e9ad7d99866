#!/usr/bin/env bash
# Creates or updates ONE pystats-gate comment on a pull request (found by a hidden marker),
# instead of piling up a new comment per push. Needs `gh` and GH_TOKEN.
# Usage: pr-comment.sh OWNER/REPO PR_NUMBER REPORT.md
set -euo pipefail
repo=$1; pr=$2; report=$3
marker='<!-- pystats-gate-report -->'
body=$(printf '%s\n%s\n' "$marker" "$(cat "$report")")
id=$(gh api "repos/$repo/issues/$pr/comments" --paginate \
      --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n1)
if [ -n "$id" ]; then
  gh api -X PATCH "repos/$repo/issues/comments/$id" -f body="$body" >/dev/null
else
  gh api -X POST "repos/$repo/issues/$pr/comments" -f body="$body" >/dev/null
fi
