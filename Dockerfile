# syntax=docker/dockerfile:1
# One image per callout: docker build --build-arg SERVICE=guardrail -t llm-callouts/guardrail .
# SERVICE: body-router | guardrail | semantic-cache | endpoint-picker | echo | sim (simulated vLLM).
# The runtime holds only that service's production folder (scripts/deploy-service.sh: pnpm deploy
# --prod plus the CLI entry); test/deploy/images.test.ts builds the same folders and checks their
# contents and size. Not built here: the development environment has no Docker engine.

# Node 24: the Active LTS line (Node 20 is past end of life).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: the whole workspace, then one service's production folder ---------------------------
FROM ${NODE_IMAGE} AS build
ARG SERVICE=body-router
ENV CI=true PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN corepack enable
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && bash scripts/deploy-service.sh "$SERVICE" /app

# --- runtime: non-root, that folder only -------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=body-router
ENV NODE_ENV=production \
    CALLOUTS_SERVICE=${SERVICE}
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
# 8080 h2c gRPC, 8443 TLS gRPC, 8081 admin (/healthz /readyz /metrics)
EXPOSE 8080 8081 8443
# scripts/entrypoint.sh: no arguments serve $CALLOUTS_SERVICE (or run the simulator); flags given to
# the endpoint-picker image are GIE / llm-d EPP flags (`callouts epp`, what their Helm charts pass);
# other arguments go to the callouts CLI, e.g. `serve guardrail --config /etc/callouts/config.yaml`.
ENTRYPOINT ["/app/entrypoint.sh"]
