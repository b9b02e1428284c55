#!/usr/bin/env python3
"""The client side of deploy/ha/ha-test.sh: what a user of the VIP sees.

  probe.py watch URL LOG        GET URL every 50 ms, each on a new connection with
                                a 2 s timeout, until SIGTERM; one line per request
                                in LOG: "<start ms> <end ms> ok|fail <X-Served-By or cause>"
  probe.py summary LOG          "<requests> <failed> <longest gap ms> <servers seen>":
                                the longest gap is the longest time between two
                                successful answers (about 50 ms when all is well)
  probe.py put BASE N MAP       append one value to each of N keys through the API
                                (?key=&val=, form body, /api/v1/keys/K in turn),
                                read each back by ?key= and by /api/v1/keys/K, twice,
                                check each key stays on one server, and that a form
                                body hiding its key past HAProxy's buffer is refused
                                (400); saves key -> server in MAP
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
# API requests: answered at once, even for a down server (503); this only
# bounds a hung one.
API_TIMEOUT = 5.0


def now_ms():
    return int(time.time() * 1000)


def request(base, method, path, timeout=API_TIMEOUT, body=None, content_type=None):
    """Returns (status, X-Served-By, body) of one request on a fresh connection."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
    headers = {"Connection": "close"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        conn.request(method, path, body=body, headers=headers)
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


# Keys with a space, a plus, a slash and non-ASCII text: HAProxy must decode
# each request form as kvd does to send a key to one server.
def key_of(i):
    return f"ha key {i}+ü/é"


def value_of(key):
    return "value " + key.split(" ")[2].split("+")[0]


def append(base, key, val, form):
    """Appends with one of the API's three request forms."""
    if form == 0:
        query = urllib.parse.urlencode({"key": key, "val": val})
        return request(base, "POST", "/api/v1/storage?" + query)
    if form == 1:
        return request(base, "POST", "/api/v1/storage",
                       body=urllib.parse.urlencode({"key": key, "val": val}),
                       content_type="application/x-www-form-urlencoded")
    return request(base, "POST", "/api/v1/keys/" + urllib.parse.quote(key, safe=""),
                   body=val.encode())


def reads(base, key):
    """Reads key by ?key= and by /api/v1/keys/K: [(form, status, server, values, body)]."""
    out = []
    for form, path in (("?key=", "/api/v1/storage?" + urllib.parse.urlencode({"key": key})),
                       ("/keys/", "/api/v1/keys/" + urllib.parse.quote(key, safe=""))):
        status, served_by, body = request(base, "GET", path)
        values = json.loads(body).get("values") if status == 200 else None
        out.append((form, status, served_by, values, body))
    return out


def put(base, count, map_path):
    owners = {}
    for i in range(count):
        key = key_of(i)
        val = value_of(key)
        status, owner, body = append(base, key, val, i % 3)
        if status // 100 != 2 or not owner:
            sys.exit(f"append {key!r}: status {status}, X-Served-By '{owner}': {body!r}")
        for form, status, served_by, values, body in reads(base, key) + reads(base, key):
            if status != 200 or values != [val] or served_by != owner:
                sys.exit(f"read {key!r} by {form}: status {status} from '{served_by}' (appended "
                         f"on '{owner}'): {body!r}")
        owners[key] = owner
    # A form body whose key HAProxy cannot see (after a value past its buffer)
    # must be refused, not sent to whichever server.
    status, _, body = request(base, "POST", "/api/v1/storage",
                              body=urllib.parse.urlencode({"val": "x" * 20000, "key": "ha late"}),
                              content_type="application/x-www-form-urlencoded")
    if status != 400 or not is_json_error(body):
        sys.exit(f"append with the key after a 20 kB value: expected 400, got {status}: {body!r}")
    json.dump(owners, open(map_path, "w"))
    per_server = {s: list(owners.values()).count(s) for s in sorted(set(owners.values()))}
    print(f"{count} keys appended in the 3 forms, each read back 4 times (2 forms) from the "
          f"server that took it: {per_server}")
    if len(per_server) < 2:
        sys.exit("every key hashed to one server: the API is not spread over both")


def is_json_error(body):
    try:
        return bool(json.loads(body).get("error"))
    except ValueError:
        return False


def check(base, map_path, down=None):
    owners = json.load(open(map_path))
    refused = served = 0
    for key, owner in owners.items():
        val = value_of(key)
        for form, status, served_by, values, body in reads(base, key):
            if owner == down:
                if status != 503 or not is_json_error(body):
                    sys.exit(f"read {key!r} by {form} (its server '{owner}' is down): expected "
                             f"503 with a JSON error, got {status}: {body!r}")
            elif status != 200 or values != [val] or served_by != owner:
                sys.exit(f"read {key!r} by {form}: expected [{val!r}] from '{owner}', got "
                         f"status {status} from '{served_by}': {body!r}")
        if owner == down:
            status, _, body = append(base, key, "lost?", 0)
            if status != 503 or not is_json_error(body):
                sys.exit(f"append {key!r} (its server '{owner}' is down): expected 503 with a "
                         f"JSON error, got {status}: {body!r}")
            refused += 1
        else:
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
