# ecomwh as a container image, for Airflow's KubernetesPodOperator or DockerOperator:
#   docker build -t ecomwh .                              # the embedded engine
#   docker build -t ecomwh --build-arg FEATURES=cluster .  # with Ballista (`ecomwh cluster`)
#   docker run --rm -v "$PWD/warehouse:/data" ecomwh --warehouse file:///data demo
# The image holds the release binary only (SQL and contracts are compiled in), runs as a
# non-root user, and reads secrets (AWS_*, API keys) from the environment it is given.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS build
ARG FEATURES=""
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY jobs jobs
COPY sql sql
COPY schemas schemas
COPY examples examples
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin ecomwh ${FEATURES:+--features "$FEATURES"} \
    && install -m 0755 target/release/ecomwh /usr/local/bin/ecomwh

FROM debian:bookworm-slim
# CA roots for HTTPS (object stores, email tools); time zones are compiled into the binary.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/ecomwh ecomwh
COPY --from=build /usr/local/bin/ecomwh /usr/local/bin/ecomwh
USER 10001:10001
WORKDIR /home/ecomwh
ENTRYPOINT ["ecomwh"]
CMD ["--help"]
