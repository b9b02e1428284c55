#!/usr/bin/env bash
# GET /metrics as Prometheus reads it: a kvd of its own serves some requests
# (errors among them), then its scrape must pass `promtool check metrics`
# (Debian package prometheus) and parse with prometheus_client's parser
# (python3-prometheus-client), with the families and types kvd documents. A
# single-node cluster's scrape (its Raft families) is checked the same way
# when kvd has cluster mode. Exit 77 (skipped) without either tool.
# Env: KVD_BIN, KVCTL_BIN.
set -euo pipefail

if ! command -v promtool >/dev/null; then
  echo "promtool not found (Debian: apt-get install prometheus); skipping"
  exit 77
fi
# The distribution's python3 has the distribution's module, whatever python3
# comes first on PATH (pyenv, a virtualenv).
python=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then python=$p; break; fi
done
if [ -z "$python" ]; then
  echo "prometheus_client not found (Debian: python3-prometheus-client); skipping"
  exit 77
fi
command -v curl >/dev/null || { echo "curl not found; skipping"; exit 77; }

dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

# Starts kvd with "$@" on $dir; sets pid and port (read from its log).
start() {
  "$KVD_BIN" --data "$dir/storage.data" --socket "$dir/kvd.sock" --http 127.0.0.1:0 "$@" \
    2>"$dir/kvd.log" &
  pid=$!
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's|.*HTTP API on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$dir/kvd.log")
    [ -n "$port" ] && "$KVCTL_BIN" --socket "$dir/kvd.sock" ping >/dev/null 2>&1 && return
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "kvd did not start:" >&2
  cat "$dir/kvd.log" >&2
  exit 1
}

stop() {
  kill -TERM "$pid"
  wait "$pid"
  pid=
}

# Scrapes /metrics into $dir/metrics and checks it with both tools;
# "$@": families that must be there.
check() {
  curl -sS -D "$dir/headers" -o "$dir/metrics" "http://127.0.0.1:$port/metrics"
  if ! grep -qi '^content-type: text/plain; version=0\.0\.4; charset=utf-8' "$dir/headers"; then
    echo "wrong Content-Type:" >&2
    cat "$dir/headers" >&2
    exit 1
  fi
  if ! promtool check metrics <"$dir/metrics"; then
    echo "promtool check metrics failed on:" >&2
    cat "$dir/metrics" >&2
    exit 1
  fi
  "$python" - "$dir/metrics" "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
families = {f.name: f for f in text_string_to_metric_families(text)}
# The parser names a counter without its _total.
wanted = {
    "kvd_requests": "counter",
    "kvd_request_errors": "counter",
    "kvd_http_requests": "counter",
    "kvd_connections": "gauge",
    "kvd_keys": "gauge",
    "kvd_values": "gauge",
    "kvd_revision": "gauge",
    "kvd_journal_bytes": "gauge",
    "kvd_commits": "counter",
    "kvd_compactions": "counter",
    "kvd_start_time_seconds": "gauge",
}
for name in sys.argv[2:]:
    wanted[name] = families[name].type if name in families else "present"
problems = []
for name, kind in wanted.items():
    if name not in families:
        problems.append(f"no family {name}")
    elif families[name].type != kind:
        problems.append(f"{name} is a {families[name].type}, not a {kind}")
for name in families:
    if not name.startswith("kvd_"):
        problems.append(f"{name} is not prefixed kvd_")
if "kvd_commit_duration_seconds" in families:
    h = families["kvd_commit_duration_seconds"]
    buckets = [s for s in h.samples if s.name.endswith("_bucket")]
    count = [s.value for s in h.samples if s.name.endswith("_count")]
    if h.type != "histogram" or not buckets or buckets[-1].labels["le"] != "+Inf":
        problems.append("kvd_commit_duration_seconds: not a histogram ending with +Inf")
    elif [b.value for b in buckets] != sorted(b.value for b in buckets):
        problems.append("kvd_commit_duration_seconds: buckets not cumulative")
    elif count != [buckets[-1].value]:
        problems.append("kvd_commit_duration_seconds: _count is not the +Inf bucket")
errors = [s for s in families["kvd_request_errors"].samples if s.name.endswith("_total")]
if not errors:
    problems.append("kvd_request_errors_total has no sample, though errors were provoked")
if problems:
    print("\n".join(problems), file=sys.stderr)
    print(text, file=sys.stderr)
    sys.exit(1)
print(f"{len(families)} families parsed")
PY
}

# Requests of several kinds, over both transports; errors among them (an
# unknown op, a line that is not JSON, a key over the limit).
traffic() {
  kvctl=("$KVCTL_BIN" --socket "$dir/kvd.sock")
  "${kvctl[@]}" --key 'a "quoted" key' --val 'x'
  "${kvctl[@]}" --key k --val y >/dev/null
  "${kvctl[@]}" --key k >/dev/null
  "${kvctl[@]}" keys >/dev/null
  "${kvctl[@]}" stats >/dev/null
  "${kvctl[@]}" --key "$(printf 'k%.0s' $(seq 40))" --val z 2>/dev/null || true
  "$python" - "$dir/kvd.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"nope"}\n{"op": "get", "key": "\\\\\\"\n')
f = s.makefile("rb")
f.readline(); f.readline()
PY
  curl -sS -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/storage?key=h&val=1"
  curl -sS -o /dev/null "http://127.0.0.1:$port/api/v1/keys/h"
  curl -sS -o /dev/null "http://127.0.0.1:$port/no/such/route"
}

start --max-key-size 16
traffic
check kvd_commit_duration_seconds
stop

if "$KVD_BIN" --help 2>&1 | grep -q -- '--peers'; then
  rm -rf "$dir"/*
  raft_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  start --max-key-size 16 --node 1 --peers "1=127.0.0.1:$raft_port"
  # A single voter elects itself; writes wait for that.
  for _ in $(seq 100); do
    "$KVCTL_BIN" --socket "$dir/kvd.sock" --key c --val 1 2>/dev/null && break
    sleep 0.1
  done
  traffic
  check kvd_raft_leader kvd_raft_term kvd_raft_applied_index
  stop
fi
echo "ok"
