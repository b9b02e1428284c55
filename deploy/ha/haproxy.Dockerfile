# HAProxy from Debian 12, the version ha-test.sh runs. Build context: deploy/ha.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
# haproxy.cfg (the sharded pair) unless the Compose file says otherwise
# (docker-compose-cluster.yml: haproxy-cluster.cfg).
ARG config=haproxy.cfg
COPY ${config} /etc/haproxy/haproxy.cfg
# SIGUSR1: finish the requests in flight, then stop.
STOPSIGNAL SIGUSR1
# Master-worker mode in the foreground: the master is PID 1, reaps its workers
# and reloads on SIGUSR2.
ENTRYPOINT ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
