#!/usr/bin/env bash
# Lint the committed contract (openapi/openapi.json) with Redocly CLI's
# `recommended` rules, at the version pinned in tests/contract/package.json
# (installed with `npm ci`). Fails on any error; prints the warning count.
#
#   tests/contract/run-redocly.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
spec="${KH_OPENAPI_SPEC:-$here/../../openapi/openapi.json}"
cd "$here"
npm ci --no-audit --no-fund
# No telemetry and no update check: the stage needs only the npm registry.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

rc=0
out="$(node_modules/.bin/redocly lint "$spec" --extends recommended --format stylish 2>&1)" || rc=$?
printf '%s\n' "$out"
errors="$(grep -cE '^ *[0-9]+:[0-9]+ +error ' <<<"$out" || true)"
warnings="$(grep -cE '^ *[0-9]+:[0-9]+ +warning ' <<<"$out" || true)"
echo "Redocly lint ($(node_modules/.bin/redocly --version)): $errors errors, $warnings warnings"
if [[ $rc -ne 0 || $errors -ne 0 ]]; then
    echo "Redocly lint FAILED (exit code $rc)" >&2
    exit 1
fi
