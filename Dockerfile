# One image, two processes: `gateway` (OAuth facade + MCP proxy) and `worker` (Kubernetes MCP tools).
#   docker build -t kube-mcp-gateway .
#   docker run kube-mcp-gateway gateway --config /etc/kmg/gateway.yaml
#   docker run kube-mcp-gateway worker --config /etc/kmg/worker.yaml
# Runs as a non-root user and writes nothing outside /tmp, so it works with a read-only root filesystem.
# No `# syntax=` line: the Dockerfile frontend built into BuildKit covers RUN --mount and COPY --chmod, and
# a syntax image would have to be pulled from a registry (offline and air-gapped builds could not start).

# The base image, pinned by digest so a rebuild gets the same bytes (Node 24 LTS, Debian bookworm slim).
# To move it: docker buildx imagetools inspect node:24-bookworm-slim, then pass or update the digest:
#   docker build --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# A registry behind a private CA or needing credentials: pass an npmrc as a build secret (never baked in):
#   docker build --secret id=npmrc,src=$HOME/.npmrc .

# ---- deps: production node_modules for shared, worker and gateway only (no test tooling) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY worker/package.json worker/
COPY gateway/package.json gateway/
COPY test/package.json test/
# The lock is complete for every platform, so npm ci installs exactly it (no fallback that could resolve anew).
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci --omit=dev --no-audit --no-fund --ignore-scripts -w shared -w worker -w gateway

# ---- build: compile TypeScript (the build tsconfigs leave tests and test helpers out) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY shared/package.json shared/
COPY worker/package.json worker/
COPY gateway/package.json gateway/
COPY test/package.json test/
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npmrc,target=/root/.npmrc \
    npm ci --no-audit --no-fund --ignore-scripts -w shared -w worker -w gateway --include-workspace-root
COPY shared/tsconfig.json shared/
COPY shared/src shared/src
COPY worker/tsconfig.json worker/
COPY worker/src worker/src
COPY gateway/tsconfig.json gateway/
COPY gateway/src gateway/src
RUN npx tsc -b shared worker gateway \
 && find shared/dist worker/dist gateway/dist \( -name '*.map' -o -name '*.tsbuildinfo' \) -delete

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
# No package manager at run time: nothing in the container can fetch and run code.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# Listen on all interfaces inside the container (the processes default to loopback elsewhere).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    TMPDIR=/tmp
WORKDIR /app
COPY --from=deps --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/shared/package.json shared/
COPY --from=build --chown=root:root /src/shared/dist shared/dist
COPY --from=build --chown=root:root /src/worker/package.json worker/
COPY --from=build --chown=root:root /src/worker/dist worker/dist
COPY --from=build --chown=root:root /src/gateway/package.json gateway/
COPY --from=build --chown=root:root /src/gateway/dist gateway/dist
COPY --chmod=0755 deploy/docker/kmg /usr/local/bin/kmg
COPY --chmod=0644 deploy/docker/healthcheck.mjs /app/healthcheck.mjs
# Files are owned by root and not writable by the runtime user: code cannot be altered at run time.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kmg"]
CMD ["gateway"]
