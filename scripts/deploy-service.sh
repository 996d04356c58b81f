#!/usr/bin/env bash
# The production folder of one callout image: the service's package with its production
# dependencies only (`pnpm deploy --prod`: no dev tools, no other service, no workspace root),
# plus the CLI's compiled entry point (`serve` loads only the service it is asked for).
#
# Usage: scripts/deploy-service.sh SERVICE OUT
#   SERVICE: body-router | guardrail | semantic-cache | endpoint-picker | echo | sim
#   Run after `pnpm build`; OUT is replaced. The image runs OUT/entrypoint.sh (scripts/entrypoint.sh):
#   `node OUT/cli/dist/main.js serve SERVICE` without arguments, see the Dockerfile.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
service="${1:?usage: deploy-service.sh SERVICE OUT}"
out="${2:?usage: deploy-service.sh SERVICE OUT}"
case "$service" in
  body-router | guardrail | semantic-cache | endpoint-picker | echo) package="@llm-callouts/$service" ;;
  sim) package="@llm-callouts/model-server-sim" ;;
  *) echo "deploy-service.sh: unknown service $service" >&2; exit 2 ;;
esac
[[ -f "$repo/packages/cli/dist/main.js" ]] || { echo "deploy-service.sh: run pnpm build first" >&2; exit 1; }
rm -rf "$out"
cd "$repo"
# Workspace packages are copied into the folder (injected), not linked back to the repository.
pnpm --filter "$package" --config.inject-workspace-packages=true deploy --prod "$out" >/dev/null
# The model runtimes (guardrail, semantic cache), slimmed to what this platform loads:
# onnxruntime-node ships every platform's binaries (about 290 MB; one is about 45 MB), and
# @huggingface/transformers' Node build bundles the onnxruntime-web code it uses, so that
# package's own dist (about 136 MB of wasm and browser bundles) is never read.
platform="$(node -p process.platform)"
arch="$(node -p process.arch)"
shopt -s nullglob
for bin in "$out"/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v*; do
  for dir in "$bin"/*/; do [[ "$(basename "$dir")" == "$platform" ]] || rm -rf "$dir"; done
  for dir in "$bin/$platform"/*/; do [[ "$(basename "$dir")" == "$arch" ]] || rm -rf "$dir"; done
done
rm -rf "$out"/node_modules/.pnpm/onnxruntime-web@*/node_modules/onnxruntime-web/dist
shopt -u nullglob
mkdir -p "$out/cli" "$out/node_modules/@llm-callouts"
# The CLI (with its package.json: ESM, version) imports the service by name: the folder's root.
cp -R packages/cli/dist packages/cli/package.json "$out/cli/"
install -m 0755 scripts/entrypoint.sh "$out/entrypoint.sh"
ln -s ../.. "$out/node_modules/${package}"
echo "$out"
