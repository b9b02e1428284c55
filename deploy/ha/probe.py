#!/usr/bin/env python3
"""The client side of deploy/ha/ha-test.sh: what a user of the VIP sees.

  probe.py watch URL LOG        GET URL every 50 ms, each on a new connection with
                                a 2 s timeout, until SIGTERM; one line per request
                                in LOG: "<start ms> <end ms> ok|fail <X-Served-By or cause>"
  probe.py summary LOG          "<requests> <failed> <longest gap ms> <servers seen>":
                                the longest gap is the longest time between two
                                successful answers (about 50 ms when all is well)
  probe.py put BASE N MAP       append one value to each of N keys through the API,
                                read each back twice, check each key stays on one
                                server; saves key -> server in MAP
  probe.py check BASE MAP [DOWN]
                                read every key of MAP again: each must come from the
                                server that holds it, with its value; the keys of
                                server DOWN must answer 503 with a JSON error, for
                                reads and appends alike (never an empty list from
                                the other server)
Times are wall-clock milliseconds, to line up with the events ha-test.sh logs.
"""
import http.client
import json
import signal
import sys
import time
import urllib.parse

PERIOD = 0.05
# Long enough for one retransmitted SYN (after 1 s): a SYN lost while the VIP
# moves makes a slow answer, as a browser would see it, not a failed request.
WATCH_TIMEOUT = 2.0
# The API answers 503 for a down server after HAProxy's retry (about 1 s).
API_TIMEOUT = 5.0


def now_ms():
    return int(time.time() * 1000)


def request(base, method, path, timeout=API_TIMEOUT):
    """Returns (status, X-Served-By, body) of one request on a fresh connection."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
    try:
        conn.request(method, path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("X-Served-By", ""), resp.read()
    finally:
        conn.close()


def watch(url, log_path):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    parts = urllib.parse.urlsplit(url)
    with open(log_path, "a", buffering=1) as log:
        next_at = time.monotonic()
        while not stop:
            start = now_ms()
            try:
                status, served_by, body = request(url, "GET", parts.path or "/", WATCH_TIMEOUT)
                ok = status == 200 and body.startswith(b"Hello, World!")
                detail = served_by if ok else f"status-{status}"
            except (OSError, http.client.HTTPException) as e:
                ok, detail = False, type(e).__name__
            log.write(f"{start} {now_ms()} {'ok' if ok else 'fail'} {detail.replace(' ', '_')}\n")
            next_at += PERIOD
            time.sleep(max(0.0, next_at - time.monotonic()))


def summary(log_path):
    rows = [line.split(" ", 3) for line in open(log_path) if line.strip()]
    failed = sum(1 for r in rows if r[2] == "fail")
    ends = sorted(int(r[1]) for r in rows if r[2] == "ok")
    gap = max((b - a for a, b in zip(ends, ends[1:])), default=0)
    servers = sorted({r[3].strip() for r in rows if r[2] == "ok"})
    print(len(rows), failed, gap, ",".join(servers) or "-")


def storage_path(key, val=None):
    query = {"key": key} if val is None else {"key": key, "val": val}
    return "/api/v1/storage?" + urllib.parse.urlencode(query)


def read_key(base, key):
    status, served_by, body = request(base, "GET", storage_path(key))
    values = json.loads(body).get("values") if status == 200 else None
    return status, served_by, values, body


def put(base, count, map_path):
    owners = {}
    for i in range(count):
        key, val = f"ha-key-{i}", f"value {i}"
        status, owner, body = request(base, "POST", storage_path(key, val))
        if status // 100 != 2 or not owner:
            sys.exit(f"append {key}: status {status}, X-Served-By '{owner}': {body!r}")
        for _ in range(2):
            status, served_by, values, body = read_key(base, key)
            if status != 200 or values != [val] or served_by != owner:
                sys.exit(f"read {key}: status {status} from '{served_by}' (appended on "
                         f"'{owner}'): {body!r}")
        owners[key] = owner
    json.dump(owners, open(map_path, "w"))
    per_server = {s: list(owners.values()).count(s) for s in sorted(set(owners.values()))}
    print(f"{count} keys, each read back twice from the server that took it: {per_server}")
    if len(per_server) < 2:
        sys.exit("every key hashed to one server: the API is not spread over both")


def check(base, map_path, down=None):
    owners = json.load(open(map_path))
    refused = served = 0
    for key, owner in owners.items():
        val = f"value {key.rsplit('-', 1)[1]}"
        status, served_by, values, body = read_key(base, key)
        if owner == down:
            append_status, _, append_body = request(base, "POST", storage_path(key, "lost?"))
            for what, st, b in (("read", status, body), ("append", append_status, append_body)):
                try:
                    error = json.loads(b).get("error")
                except ValueError:
                    error = None
                if st != 503 or not error:
                    sys.exit(f"{what} {key} (its server '{owner}' is down): expected 503 with "
                             f"a JSON error, got {st}: {b!r}")
            refused += 1
        else:
            if status != 200 or values != [val] or served_by != owner:
                sys.exit(f"read {key}: expected [{val!r}] from '{owner}', got status {status} "
                         f"from '{served_by}': {body!r}")
            served += 1
    if down:
        print(f"its {refused} keys: 503 + JSON error (read, append); {served} others: their values")
    else:
        print(f"{served} keys: their values, from their own server")


def main(argv):
    commands = {"watch": (watch, 2), "summary": (summary, 1), "put": (put, 3),
                "check": (check, 2)}
    if len(argv) < 2 or argv[1] not in commands:
        sys.exit(__doc__)
    fn, nargs = commands[argv[1]]
    args = argv[2:]
    if not nargs <= len(args) <= nargs + (fn is check):
        sys.exit(__doc__)
    if fn is put:
        args[1] = int(args[1])
    fn(*args)


if __name__ == "__main__":
    main(sys.argv)
