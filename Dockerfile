# syntax=docker/dockerfile:1
# One image per callout: docker build --build-arg SERVICE=guardrail -t llm-callouts/guardrail .
# SERVICE: body-router | guardrail | semantic-cache | endpoint-picker | echo | sim (simulated vLLM).
# Untested here: the development environment has no Docker engine (see deploy/README.md).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: the whole workspace, then production dependencies only --------------------------
FROM ${NODE_IMAGE} AS build
ENV CI=true PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN corepack enable
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && pnpm install --frozen-lockfile --prod

# --- runtime: non-root, no build tools ---------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=body-router
ENV NODE_ENV=production \
    CALLOUTS_SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build /src/package.json /src/pnpm-workspace.yaml ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/proto ./proto
COPY --from=build /src/packages ./packages
USER 10001:10001
# 8080 h2c gRPC, 8443 TLS gRPC, 8081 admin (/healthz /readyz /metrics)
EXPOSE 8080 8081 8443
# No arguments: serve $CALLOUTS_SERVICE (or run the simulator); with arguments: the callouts CLI,
# e.g. `serve guardrail --config /etc/callouts/config.yaml`. exec keeps node as PID 1 so SIGTERM
# reaches it and drains.
ENTRYPOINT ["/bin/sh", "-c", "if [ $# -eq 0 ]; then if [ \"$CALLOUTS_SERVICE\" = sim ]; then set -- sim --host 0.0.0.0; else set -- serve \"$CALLOUTS_SERVICE\"; fi; fi; exec node /app/packages/cli/dist/main.js \"$@\"", "callouts"]
