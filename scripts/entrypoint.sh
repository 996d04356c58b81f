#!/bin/sh
# The callout image's entrypoint (the Dockerfile copies it to /app/entrypoint.sh).
#   no arguments:            serve $CALLOUTS_SERVICE (or run the simulator for SERVICE=sim)
#   flags, endpoint picker:  `callouts epp <flags>`: GIE's and llm-d-router's charts give their EPP
#                            container only EPP flags (--pool-name ... --config-file ...), so
#                            swapping the image in their chart starts this picker unchanged
#   anything else:           the callouts CLI, e.g. `serve guardrail --config /etc/callouts/config.yaml`
# exec keeps node as PID 1 so SIGTERM reaches it and drains. CALLOUTS_CLI overrides the CLI path (tests).
set -eu
cli="${CALLOUTS_CLI:-/app/cli/dist/main.js}"
service="${CALLOUTS_SERVICE:-}"
if [ $# -eq 0 ]; then
  if [ "$service" = sim ]; then set -- sim --host 0.0.0.0; else set -- serve "$service"; fi
elif [ "$service" = endpoint-picker ] && [ "${1#-}" != "$1" ]; then
  set -- epp "$@"
fi
exec node "$cli" "$@"
