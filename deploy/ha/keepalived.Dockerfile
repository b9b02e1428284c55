# keepalived from Debian 12, the version ha-test.sh runs. Build context: deploy/ha.
# keepalived is the container's main process, under tini (PID 1: forwards
# signals, reaps the health-check processes), so a restarted container (restart:
# unless-stopped) brings it back with no manual step. curl: the HAProxy check.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends keepalived curl tini \
 && rm -rf /var/lib/apt/lists/*
COPY keepalived.conf /etc/keepalived/keepalived.conf
ENTRYPOINT ["tini", "--", "keepalived", "--dont-fork", "--log-console", "--no-syslog", \
            "--vrrp", "-f", "/etc/keepalived/keepalived.conf"]
# Which LB this is: the @lb1 / @lb2 lines of keepalived.conf.
CMD ["--config-id", "lb1"]
