#!/usr/bin/env python3
"""The client side of deploy/ha/cluster-test.sh: users of the VIP of kvd's
replicated cluster, and the checks of what they were told against what the
nodes hold.

  cluster-client.py run BASE LOG [CLIENTS]
        CLIENTS (default 8) clients, each a thread with one keep-alive HTTP
        connection to BASE (http://VIP), append one value after another until
        SIGTERM, then finish the request they are in and stop. Client i appends
        "c<i>-<seq>" alternately to its own key "k<i>" and to the key "hot"
        that all share, with client=<its random id>&seq=<seq>; every fifth
        request it also reads the key it just appended to and checks that its
        own values there are exactly those acknowledged so far, in order (a
        read sees every write acknowledged before it began). One JSON line per
        request in LOG.
  cluster-client.py check LOG EVENTS DUMP DUMP DUMP [DATA DATA DATA]
        Prints a table of requests, retries, failures and latencies per phase
        (EVENTS holds "<ms> <phase name>" lines, the start of each phase).
        DUMP: what a node served after the clients stopped, a line per key,
        "<key><TAB><kvctl get KEY --json>" (linearizable reads: each node
        answers with every acknowledged write applied). Checks, on every node:
        every acknowledged append present exactly once, per client in order, no
        value that was never sent (and one not acknowledged at most once), the
        nodes equal; that every request was acknowledged and every read was
        right; and that each DATA (a node's storage.data after a clean stop)
        holds what the nodes served. Exit 1 on any problem.

What the clients retry, and why: a user of this API who numbers their writes
(client/seq) may send a write again until it is answered, because kvd applies
it at most once. So a request is sent again, the same (same client and seq),
after a 503 (kvd's "unavailable": no leader known, as during an election or on
the minority side of a partition; or HAProxy's: no node up), a 502 or 504 (a
node failed while HAProxy waited for it), a lost or refused connection and a
timed-out answer (the VIP moving, a load balancer or node dying with the
request in flight), every RETRY_PAUSE, for RETRY_BUDGET seconds; a read, which
changes nothing, the same. Any other status is an answer: 200 is success,
anything else a failed request. A request not answered within its budget is a
failed request too.
"""
import http.client
import json
import random
import signal
import sys
import threading
import time
import urllib.parse

RETRY_BUDGET = 10.0   # seconds a request may take, retries included
RETRY_PAUSE = 0.05    # between two attempts
# One attempt's answer. A request that a load balancer took just before it died,
# or just before it gave the VIP away, is never answered, and nothing tells the
# client (its connection sees no reset): only this timeout ends the wait.
# Answers take milliseconds (up to about a second on a loaded machine).
ATTEMPT_TIMEOUT = 2.0
PAUSE = 0.01          # between two requests of one client
READ_EVERY = 5
RETRYABLE = {502, 503, 504}


def now_ms():
    return time.time() * 1000


def cause_of(status, body):
    """A short name for a retried attempt's cause."""
    if status == 503:
        # kvd's errors are JSON; HAProxy's own 503 (no server) is HTML.
        return "503-kvd" if body.lstrip().startswith(b"{") else "503-lb"
    return str(status)


class Client(threading.Thread):
    def __init__(self, index, base, log, lock, stop):
        super().__init__(daemon=True)
        self.index = index
        self.id = random.randrange(1, 2**63)
        self.url = urllib.parse.urlsplit(base)
        self.log, self.lock, self.stop = log, lock, stop
        self.conn = None
        self.acked = {}   # key -> this client's acknowledged values, in order
        self.failed = set()

    def connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.url.hostname, self.url.port or 80,
                                                   timeout=ATTEMPT_TIMEOUT)
        return self.conn

    def attempt(self, method, path):
        """(status, X-Served-By, body), or (None, cause, b"") for a lost connection."""
        try:
            conn = self.connect()
            conn.request(method, path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.will_close:
                self.drop()
            return resp.status, resp.getheader("X-Served-By", ""), body
        except (OSError, http.client.HTTPException) as e:
            self.drop()
            return None, type(e).__name__, b""

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path):
        """Sends until answered or out of budget; the log record's fields."""
        t0 = now_ms()
        deadline = time.monotonic() + RETRY_BUDGET
        causes = []
        while True:
            status, detail, body = self.attempt(method, path)
            if status is not None and status not in RETRYABLE:
                break
            causes.append(detail if status is None else cause_of(status, body))
            if time.monotonic() + RETRY_PAUSE >= deadline:
                break
            time.sleep(RETRY_PAUSE)
        record = {"t0": round(t0), "t1": round(now_ms()), "attempts": len(causes) + 1,
                  "retried": causes, "status": status}
        if status == 200:
            record["by"] = detail
        else:
            record["error"] = (body.decode("utf-8", "replace")[:200] if status is not None
                               else detail)
        return record, body

    def append(self, seq):
        key = f"k{self.index}" if seq % 2 else "hot"
        val = f"c{self.index}-{seq}"
        query = urllib.parse.urlencode({"key": key, "val": val, "client": self.id, "seq": seq})
        record, _ = self.request("POST", "/api/v1/storage?" + query)
        record.update(op="append", c=self.index, seq=seq, key=key, val=val,
                      ok=record["status"] == 200)
        if record["ok"]:
            self.acked.setdefault(key, []).append(val)
        else:
            self.failed.add(val)
        return record, key

    def read(self, key):
        record, body = self.request("GET", "/api/v1/storage?" + urllib.parse.urlencode({"key": key}))
        record.update(op="get", c=self.index, key=key, ok=record["status"] == 200)
        if record["ok"]:
            values = json.loads(body)["values"]
            mine = [v for v in values if v.startswith(f"c{self.index}-") and v not in self.failed]
            want = self.acked.get(key, [])
            if mine != want:
                record.update(ok=False, error=f"read {len(mine)} own values, acknowledged "
                                              f"{len(want)}: first difference at "
                                              f"{next((i for i, (a, b) in enumerate(zip(mine, want)) if a != b), min(len(mine), len(want)))}")
        return record

    def write(self, record):
        with self.lock:
            self.log.write(json.dumps(record) + "\n")

    def run(self):
        seq = 0
        try:
            while not self.stop.is_set():
                seq += 1
                record, key = self.append(seq)
                self.write(record)
                if seq % READ_EVERY == 0:
                    self.write(self.read(key))
                time.sleep(PAUSE)
        except Exception as e:  # a failed client fails the test, not just stops
            t = round(now_ms())
            self.write({"op": "crash", "c": self.index, "key": "-", "t0": t, "t1": t,
                        "attempts": 0, "retried": [], "status": None, "ok": False,
                        "error": repr(e)})
        self.drop()


def run(base, log_path, clients=8):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    with open(log_path, "a", buffering=1) as log:
        threads = [Client(i, base, log, lock, stop) for i in range(int(clients))]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(0.1)


def load(log_path):
    return [json.loads(line) for line in open(log_path) if line.strip()]


def read_dump(path):
    node = {}
    for line in open(path, encoding="utf-8"):
        key, values = line.rstrip("\n").split("\t", 1)
        node[key] = json.loads(values)
    return node


def check(log_path, events_path, *files):
    dumps, data = files[:3], files[3:]
    records = load(log_path)
    summary(records, events_path)
    appends = [r for r in records if r["op"] == "append"]
    sent = {r["val"]: r for r in appends}
    problems = []
    for r in records:
        if not r["ok"]:
            what = f"{r['op']} {r['key']}" + (f" {r['val']}" if r["op"] == "append" else "")
            problems.append(f"failed request: {what} after {r['attempts']} attempts, "
                            f"{r['t1'] - r['t0']} ms: status {r['status']}: {r.get('error')}")
    nodes = []
    for path in dumps:
        node = read_dump(path)
        nodes.append(node)
        name = path.rsplit("/", 1)[-1]
        seen = {}
        for key, values in node.items():
            last = {}
            for v in values:
                r = sent.get(v)
                if r is None or r["key"] != key:
                    problems.append(f"{name}: {key!r} holds {v!r}, never sent to that key")
                    continue
                seen[v] = seen.get(v, 0) + 1
                if r["seq"] <= last.get(r["c"], 0):
                    problems.append(f"{name}: {key!r}: {v!r} after c{r['c']}-{last[r['c']]}: "
                                    f"client order broken")
                last[r["c"]] = r["seq"]
        for v, n in seen.items():
            if n > 1:
                problems.append(f"{name}: {v!r} stored {n} times")
        missing = [r["val"] for r in appends if r["ok"] and r["val"] not in seen]
        if missing:
            problems.append(f"{name}: {len(missing)} acknowledged values missing, e.g. {missing[:5]}")
    for path, node in zip(dumps[1:], nodes[1:]):
        if node != nodes[0]:
            problems.append(f"{path} differs from {dumps[0]}")
    for path in data:
        if json.load(open(path, encoding="utf-8")) != nodes[0]:
            problems.append(f"{path} differs from what the nodes served")
    print()
    if problems:
        print("\n".join(problems[:30]))
        if len(problems) > 30:
            print(f"... and {len(problems) - 30} more problems")
        sys.exit(1)
    acked = sum(r["ok"] for r in appends)
    values = sum(len(v) for v in nodes[0].values())
    print(f"{acked} acknowledged appends, each exactly once and in client order on all "
          f"{len(nodes)} nodes ({values} values in {len(nodes[0])} keys, identical"
          f"{', as in their storage.data' if data else ''}); {len(records) - len(appends)} "
          f"reads, each with all of its client's acknowledged values")


def summary(records, events_path):
    records = sorted(records, key=lambda r: r["t0"])
    events = [line.rstrip("\n").split(" ", 1) for line in open(events_path) if line.strip()]
    events = [(int(t), name) for t, name in events]
    acks = sorted(r["t1"] for r in records if r["ok"])
    print(f"{'phase':<40} {'requests':>8} {'retried':>8} {'failed':>6} {'max ms':>7} "
          f"{'gap ms':>7}  retried because")
    for i, (start, name) in enumerate(events):
        end = events[i + 1][0] if i + 1 < len(events) else float("inf")
        rows = [r for r in records if start <= r["t0"] < end]
        if not rows:
            continue
        in_phase = [t for t in acks if start <= t < end]
        gap = max((b - a for a, b in zip(in_phase, in_phase[1:])), default=0)
        causes = {}
        for r in rows:
            for c in r["retried"]:
                causes[c] = causes.get(c, 0) + 1
        print(f"{name:<40} {len(rows):>8} {sum(bool(r['retried']) for r in rows):>8} "
              f"{sum(not r['ok'] for r in rows):>6} {max(r['t1'] - r['t0'] for r in rows):>7} "
              f"{gap:>7}  {' '.join(f'{c}:{n}' for c, n in sorted(causes.items())) or '-'}")
    latencies = sorted(r["t1"] - r["t0"] for r in records)
    print(f"total: {len(records)} requests ({sum(r['op'] == 'append' for r in records)} appends), "
          f"{sum(r['attempts'] - 1 for r in records)} retries in "
          f"{sum(bool(r['retried']) for r in records)} requests, "
          f"{sum(not r['ok'] for r in records)} failed; latency median "
          f"{latencies[len(latencies) // 2]} ms, 99th percentile "
          f"{latencies[len(latencies) * 99 // 100]} ms, max {latencies[-1]} ms")


def main(argv):
    commands = {"run": (run, 2, 3), "check": (check, 5, 8)}
    if len(argv) < 2 or argv[1] not in commands:
        sys.exit(__doc__)
    fn, least, most = commands[argv[1]]
    if not least <= len(argv) - 2 <= most:
        sys.exit(__doc__)
    fn(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
