# The Event Gateway's container image (docs/install.md#container-image):
#
#   docker build -t event-gateway .
#   docker run -p 4000:4000 -p 4001:4001 event-gateway -dev
#
# Built on Debian bookworm as the Debian package (cmake/install.cmake), which the runtime stage
# installs on bookworm-slim: the image holds the package's files and exactly the runtime libraries its
# package declares (found by dpkg-shlibdeps), plus curl for the health check. The gateway runs as an
# unprivileged user; the embedded store (-dev), the spool and the dead letters live on the volume /data.
# Every flag can also be set by its variable, EVENT_GATEWAY_<FLAG>; a flag given wins over it.
#
# CI cannot run a container engine: tests/package/check_image.py runs this file's runtime stage, as
# written, in a minimal bookworm root instead (docs/install.md says what that does and does not check).

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEG_WITH_GRPC=ON -DEG_BUILD_TESTS=OFF \
      -DEG_BUILD_BENCH=OFF -DEG_SANITIZE=OFF -DEG_FUZZ=OFF \
 && cmake --build /build \
 && cd /build && cpack -G DEB && mkdir /package && mv event-gateway_*.deb /package/

FROM debian:bookworm-slim AS runtime
COPY --from=build /package/ /tmp/package/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/package/event-gateway_*.deb curl \
 && rm -rf /var/lib/apt/lists/* /tmp/package \
 && useradd --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin event-gateway \
 && install -d -o event-gateway -g event-gateway -m 0700 /data
ENV EVENT_GATEWAY_EMBED_DATA_DIR=/data \
    EVENT_GATEWAY_SPOOL_DIR=/data/spool
VOLUME /data
WORKDIR /data
USER 10001:10001
EXPOSE 4000 4001
# /readyz: the gateway serves (it is not draining, and every plugin runs). Its port follows
# EVENT_GATEWAY_CONFIG_PORT; a port or TLS set by a flag instead needs a HEALTHCHECK of its own.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${EVENT_GATEWAY_CONFIG_PORT:-4001}/readyz" || exit 1
ENTRYPOINT ["/usr/bin/event-gateway"]
