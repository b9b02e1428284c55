# kvd, built from this repository. Build context: the repository root
# (docker-compose.yml sets it); kvd.Dockerfile.dockerignore keeps it small.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends meson ninja-build g++ pkg-config \
      libboost-dev rapidjson-dev libcli11-dev libgtest-dev libgmock-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release && meson compile -C /build kvd kvctl

FROM debian:12-slim
COPY --from=build /build/daemon/kvd /build/client/kvctl /usr/local/bin/
# kvd refuses a socket directory that anyone may write to: these are root's, 0755.
RUN mkdir -p /var/lib/kvd /run/kvd
VOLUME /var/lib/kvd
EXPOSE 8080
# kvd stops cleanly on SIGTERM (Docker's stop signal), folding its journal.
ENTRYPOINT ["kvd", "--data", "/var/lib/kvd/storage.data", "--socket", "/run/kvd/kvd.sock"]
CMD ["--http", "0.0.0.0:8080"]
