# Linux image of the checkpoint agent.
#   docker build -t private-checkpoint .
#   docker run --init --shm-size=1g -e CHECKPOINT_CONTROL_PLANE=https://cp.example.internal \
#     -e CHECKPOINT_TOKEN=… private-checkpoint
# Runs as a non-root user so Chromium keeps its sandbox (as root the agent refuses to start unless
# CHECKPOINT_ALLOW_NO_SANDBOX=1).
# Written carefully but not built on the project's machines (no Docker engine there); its entrypoint is the
# same `checkpoint agent` command the tests run.
FROM node:24-bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive \
    NODE_ENV=production \
    CHROME_PATH=/usr/bin/chromium \
    CHECKPOINT_DATA_DIR=/var/lib/checkpoint

# Chromium and its headless shell (about 2.8× the throughput in headless runs), fonts for stable
# screenshots, tini as PID 1 to reap zombie renderers and forward SIGTERM for a graceful drain, certutil
# (libnss3-tools) to make the browsers trust CHECKPOINT_CA_FILE.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium chromium-headless-shell tini ca-certificates libnss3-tools \
      fonts-dejavu-core fonts-liberation fonts-noto-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency pins Node 24 for checkouts; the image already has Node 24.
RUN npm ci --omit=dev --ignore-scripts=false --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY engine ./engine
COPY cli ./cli
COPY recorder ./recorder
COPY scripts ./scripts
COPY control-plane ./control-plane
COPY test/bench ./test/bench

RUN groupadd --system --gid 10001 checkpoint \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/checkpoint checkpoint \
 && mkdir -p /var/lib/checkpoint && chown checkpoint:checkpoint /var/lib/checkpoint
USER checkpoint
VOLUME ["/var/lib/checkpoint"]
EXPOSE 9464

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["tini", "--", "node", "cli/main.ts", "agent"]
