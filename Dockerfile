# syntax=docker/dockerfile:1
#
# Halcytone: one image for the API (`serve`, the default), the worker and both mocks
#   docker build -t halcytone:latest .
#   docker run --rm -p 8000:8000 -e API_KEY=... halcytone:latest                      # API + worker
#   docker run --rm -p 8001:8001 halcytone:latest mock crm --host 0.0.0.0 --port 8001  # mock CRM
# See deploy/README.md for the compose files and Kubernetes manifests.

# --- build ------------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src

# Only what the build reads: the workspace, its lock file, the crates (with their migrations),
# and templates/ + samples/, which the binary embeds with include_str!.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY templates ./templates
COPY samples ./samples

# The cache mounts keep the crate registry and target/ between builds (BuildKit); the binary
# is copied out of target/ in the same step because a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release -p halcytone --locked \
    && install -m 0755 target/release/halcytone /usr/local/bin/halcytone

# --- run --------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# ca-certificates for TLS to live upstreams; curl for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid (10001), matched by runAsUser in deploy/kubernetes.
RUN groupadd --system --gid 10001 halcytone \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin halcytone

WORKDIR /app
# data/: SQLite databases (the API's default DATABASE_URL=sqlite://data/halcytone.db, the
# mocks' capture stores); logs/: LOG_DIR, JSON logs in logs/app.log. Both owned by the
# service user, so fresh named volumes mounted here inherit that ownership.
RUN mkdir -p /app/data /app/logs && chown -R 10001:10001 /app

COPY --from=builder /usr/local/bin/halcytone /usr/local/bin/halcytone

# Listen on every interface inside the container (the binary's default is 127.0.0.1).
ENV HOST=0.0.0.0 \
    PORT=8000 \
    MOCK_HOST=0.0.0.0 \
    LOG_DIR=/app/logs \
    HALCYTONE_DATA_DIR=/app/data

USER 10001:10001

# 8000 API, 8001 mock CRM, 8002 mock Platform.
EXPOSE 8000 8001 8002

# Shell form so ${PORT} is read at run time. The mocks do not read PORT: the compose files
# and Kubernetes manifests give them their own checks on 8001 / 8002.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT:-8000}/health" > /dev/null || exit 1

ENTRYPOINT ["/usr/local/bin/halcytone"]
CMD ["serve"]
