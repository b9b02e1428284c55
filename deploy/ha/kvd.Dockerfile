# kvd, built from this repository, with its cluster mode (libraft). Build
# context: the repository root (the Compose files set it);
# kvd.Dockerfile.dockerignore keeps it small.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends meson ninja-build g++ pkg-config \
      libboost-dev rapidjson-dev libcli11-dev libraft-dev libuv1-dev liblz4-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release -Dcluster=enabled -Dtests=false \
 && meson compile -C /build kvd kvctl

FROM debian:12-slim
# The Raft library and what it needs (libuv, liblz4) for kvd --node/--peers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libraft2 libuv1 liblz4-1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/daemon/kvd /build/client/kvctl /usr/local/bin/
# kvd refuses a socket directory that anyone may write to: these are root's, 0755.
RUN mkdir -p /var/lib/kvd /run/kvd
# The data file, and in cluster mode the Raft log beside it (storage.data.raft).
VOLUME /var/lib/kvd
EXPOSE 8080
# kvd stops cleanly on SIGTERM (Docker's stop signal), folding its journal; in
# cluster mode a leader hands its leadership over first.
ENTRYPOINT ["kvd", "--data", "/var/lib/kvd/storage.data", "--socket", "/run/kvd/kvd.sock"]
CMD ["--http", "0.0.0.0:8080"]
