# syntax=docker/dockerfile:1
#
# One image per service, chosen by the SERVICE build argument:
#   docker build --build-arg SERVICE=wallet -t pay-platform/wallet .
# SERVICE is one of: wallet, payment-orchestration, history-projection, ad-signal-aggregation,
# pay-hub (the web app's server; `npm run build` also builds its pages into dist/apps/pay-hub/web).
#
# Stages: `prod-deps` installs the production dependencies only, `build` installs everything
# and compiles (tsc + tsc-alias into dist/), `runtime` takes the first's node_modules and the
# second's dist/, and runs as the unprivileged `node` user.
#
# The image holds all of dist/ (a few hundred KB of JS), not only its own service: the
# operational tools run from the same image, e.g. the Kubernetes migration Job runs
# `node dist/tools/migrate.js --service wallet`, which imports every service's migrations
# (through each app's public entry, src/tools.ts). simulators/ (test support) is left out.

# Node 24 LTS, the same release the `node` devDependency pins for npm scripts (package-lock).
ARG NODE_IMAGE=node:24.21.0-trixie-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Production dependencies only. The `node` devDependency (a Node binary for npm scripts) is
# not among them: the image's own Node 24 runs the service.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev

FROM base AS build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
COPY tools ./tools
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
# Every service listens on the same port inside its container; publish it where you like.
ARG PORT=3000
RUN test -n "${SERVICE}" || { \
      echo 'Set the service: --build-arg SERVICE=<wallet|payment-orchestration|history-projection|ad-signal-aggregation|pay-hub>' >&2; \
      exit 1; \
    }
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    SERVICE=${SERVICE} \
    HOST=0.0.0.0 \
    PORT=${PORT}
WORKDIR /app
# Owned by root, readable by all: the service cannot modify its own code.
COPY package.json ./
# Files read at run time (config/rollout.json is ROLLOUT_CONFIG_PATH's default).
COPY config ./config
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN test -f "dist/apps/${SERVICE}/src/main.js" || { \
      echo "No dist/apps/${SERVICE}/src/main.js: SERVICE=${SERVICE} is not an app in apps/" >&2; \
      exit 1; \
    }

# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE ${PORT}
# Kubernetes probes /health/live and /health/ready; no Docker HEALTHCHECK here.
STOPSIGNAL SIGTERM
# exec: node replaces the shell as PID 1, so it receives SIGTERM and shuts down cleanly.
CMD ["/bin/sh", "-c", "exec node \"dist/apps/${SERVICE}/src/main.js\""]
