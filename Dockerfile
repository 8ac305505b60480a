# syntax=docker/dockerfile:1.18
#
# Keyholder: a release build of the `keyholder` binary on Debian bookworm.
#
#   docker build -t keyholder .
#   docker run --rm -p 8080:8080 -v keyholder-data:/var/lib/keyholder keyholder
#
# Without KEYHOLDER_DATABASE_URL the server keeps a SQLite database (and a
# generated JWT secret) in /var/lib/keyholder/data; see docker-compose.yml for
# PostgreSQL and a mail catcher.

# Every base image is pinned to an exact tag (tests/docker/check-compose.sh
# checks it in CI): bump them on purpose. Rust 1.95 is the oldest toolchain
# that builds the locked dependencies (parking_lot 0.13, through r2d2's
# scheduled-thread-pool, needs it), newer than the workspace's rust-version.

# ---------------------------------------------------------------------------
FROM rust:1.95.0-bookworm AS builder

# libpq is built from source (pq-sys "bundled", i.e. pq-src with OpenSSL)
# against the system OpenSSL, found through pkg-config: openssl-sys is not
# vendored. SQLite is bundled too (compiled from C by libsqlite3-sys).
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The cache mounts keep the registry and the target directory between builds;
# the binary is copied out of the cached target directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release -p keyholder-api --locked \
    && install -D -m 0755 target/release/keyholder /out/keyholder

# ---------------------------------------------------------------------------
FROM debian:bookworm-20260918-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 keyholder \
    && useradd --system --uid 10001 --gid keyholder --home-dir /var/lib/keyholder \
       --shell /usr/sbin/nologin keyholder \
    && install -d -o keyholder -g keyholder -m 0750 /var/lib/keyholder /var/lib/keyholder/data \
       /var/lib/keyholder/data/files

COPY --from=builder /out/keyholder /usr/local/bin/keyholder

ENV KEYHOLDER_BIND=0.0.0.0:8080 \
    KEYHOLDER_LOG_FORMAT=json \
    RUST_LOG=info

USER keyholder:keyholder
WORKDIR /var/lib/keyholder
VOLUME ["/var/lib/keyholder"]
EXPOSE 8080

# No curl in the image: bash's /dev/tcp asks /health/ready (200 once the
# database answers). It assumes the default port 8080.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["/usr/local/bin/keyholder"]
CMD ["serve"]
