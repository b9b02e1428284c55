"""Every Client method against a real kvd."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import subprocess
import threading
import time

import pytest

from kvd_client import Client, Conflict, InvalidRequestError
from kvd_process import find_binary

# Text kvd must store exactly (PROTOCOL.md, "Strings").
STRINGS = [
    "",
    "plain",
    "a, b, c",
    'say "hi"',
    "back\\slash",
    "line 1\nline 2",
    "crlf\r\nend",
    "tab\there",
    "nul\x00inside",
    "\x01\x1f controls",
    "café",
    "☕ naïve 日本語",
    "emoji 😀 above the BMP",
    "\u2028\u2029 separators",
]


def test_ping(client: Client) -> None:
    assert client.ping() is True


def test_append_then_get_returns_the_values_in_order(client: Client) -> None:
    for v in ["one", "two", "three", "two"]:
        assert client.append("k", v) is None
    assert client.get("k") == ["one", "two", "three", "two"]


def test_get_of_a_missing_key_is_empty(client: Client) -> None:
    assert client.get("missing") == []


@pytest.mark.parametrize("text", STRINGS, ids=range(len(STRINGS)))
def test_keys_and_values_are_stored_exactly(client: Client, text: str) -> None:
    client.append(text, text)
    client.append(text, text + "!")
    assert client.get(text) == [text, text + "!"]
    assert text in client.keys()


def test_a_value_close_to_the_line_limit(client: Client) -> None:
    big = "é" * 500_000  # 1,000,000 bytes of UTF-8, under the 1 MiB line limit
    client.append("big", big)
    assert client.get("big") == [big]


def test_kvctl_reads_what_the_client_wrote(client: Client, kvd) -> None:
    kvctl = find_binary("KVCTL_BIN", "build/client/kvctl")
    if kvctl is None:
        pytest.skip("no kvctl binary (KVCTL_BIN or build/client/kvctl)")
    values = STRINGS
    client.append_many([("mixed", v) for v in values])
    out = subprocess.run(
        [kvctl, "--socket", kvd.socket, "get", "mixed", "--json"],
        check=True,
        capture_output=True,
    ).stdout
    assert json.loads(out) == values


def test_append_many_appends_every_item_in_order(client: Client) -> None:
    client.append("fruit", "apple")
    assert client.append_many([("fruit", "fig"), ("veg", "leek"), ("fruit", "kiwi")]) is None
    assert client.get("fruit") == ["apple", "fig", "kiwi"]
    assert client.get("veg") == ["leek"]


def test_append_many_takes_any_iterable_of_pairs(client: Client) -> None:
    client.append_many((("g", str(i)) for i in range(3)))
    client.append_many([])
    assert client.get("g") == ["0", "1", "2"]
    assert client.keys() == ["g"]


def test_delete_says_whether_the_key_existed(client: Client) -> None:
    client.append("tmp", "x")
    client.append("keep", "y")
    assert client.delete("tmp") is True
    assert client.delete("tmp") is False
    assert client.get("tmp") == []
    assert client.keys() == ["keep"]


def test_keys_are_in_code_point_order_and_filtered_by_prefix(client: Client) -> None:
    for key in ["veg", "fruit", "fries", "é", "z", "Zebra", "f"]:
        client.append(key, "v")
    assert client.keys() == ["Zebra", "f", "fries", "fruit", "veg", "z", "é"]
    assert client.keys("fr") == ["fries", "fruit"]
    assert client.keys("nothing") == []
    assert client.keys("") == client.keys()


def test_stats_counts_keys_and_values(client: Client) -> None:
    before = client.stats()
    client.append_many([("a", "1"), ("a", "2"), ("b", "3")])
    stats = client.stats()
    assert stats["keys"] == 2
    assert stats["values"] == 3
    assert stats["requests"] >= before["requests"] + 2
    assert all(isinstance(v, int) for v in stats.values())


def test_revisions_count_the_changes_and_name_each_keys_last(client: Client) -> None:
    assert client.stats()["revision"] == 0
    client.append("k1", "a")  # 1
    client.append("k1", "b")  # 2
    client.append("k2", "c")  # 3
    assert client.get("k1", with_revision=True) == (["a", "b"], 2)
    assert client.delete("k1") is True  # 4
    assert client.get("k2", with_revision=True) == (["c"], 3)
    assert client.get("k1", with_revision=True) == ([], 0)
    assert client.get("never", with_revision=True) == ([], 0)
    assert client.stats()["revision"] == 4
    assert client.delete("k1") is False  # deleting nothing changes nothing
    assert client.stats()["revision"] == 4
    client.append_many([("k2", "d"), ("k3", "e")])  # 5, 6
    assert client.get("k2", with_revision=True) == (["c", "d"], 5)
    assert client.get("k3", True, True) == (["e"], 6)
    assert client.get("k3", stale=True, with_revision=True) == (["e"], 6)
    assert client.get("k3") == ["e"], "without with_revision: the values alone"
    assert client.stats(stale=True)["revision"] == 6


def test_conditional_append_applies_only_while_the_key_is_as_read(client: Client) -> None:
    client.append("k", "a", if_revision=0)  # 0: the key is absent
    with pytest.raises(Conflict) as refused:
        client.append("k", "x", if_revision=0)
    assert refused.value.revision == 1
    _, revision = client.get("k", with_revision=True)
    client.append("k", "b", if_revision=revision)
    client.append("k", "c", if_length=2)
    with pytest.raises(Conflict) as refused:
        client.append("k", "x", if_length=2)
    assert refused.value.revision == 3
    with pytest.raises(Conflict) as refused:
        client.append("absent", "x", if_revision=1)
    assert refused.value.revision == 0
    assert client.get("k", with_revision=True) == (["a", "b", "c"], 3)
    assert client.stats()["revision"] == 3, "a refused append changes nothing"
    for bad in [dict(if_revision=1, if_length=1), dict(if_revision=-1), dict(if_length=True)]:
        with pytest.raises(ValueError):
            client.append("k", "x", **bad)


def test_racing_conditional_appends_have_one_winner_per_round(start_kvd) -> None:
    kvd = start_kvd()
    clients = [Client(kvd.socket) for _ in range(20)]
    rounds = 20
    barrier = threading.Barrier(len(clients))
    winners = [0] * rounds
    lock = threading.Lock()

    def race(c: Client, me: int) -> None:
        for r in range(rounds):
            _, revision = c.get("race", with_revision=True)
            barrier.wait()  # all have read; nobody has written
            try:
                c.append("race", f"{r}/{me}", if_revision=revision)
                with lock:
                    winners[r] += 1
            except Conflict as e:
                assert e.revision > revision
            barrier.wait()  # the round is decided

    try:
        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            for f in [pool.submit(race, c, i) for i, c in enumerate(clients)]:
                f.result()
        assert winners == [1] * rounds
        values = clients[0].get("race")
        assert [v.split("/")[0] for v in values] == [str(r) for r in range(rounds)]
    finally:
        for c in clients:
            c.close()


def test_get_with_a_range_reads_the_values_of_lranges_indices(client: Client) -> None:
    client.append("other", "x")  # 1
    client.append_many([("k", v) for v in ["a", "b, c", "d\n", ""]])  # 2..5
    assert client.get("k", start=1, stop=2) == ["b, c", "d\n"]
    assert client.get("k", start=-2) == ["d\n", ""], "stop defaults to -1"
    assert client.get("k", stop=0) == ["a"], "start defaults to 0"
    assert client.get("k", start=-100, stop=100) == ["a", "b, c", "d\n", ""], "clamped"
    assert client.get("k", start=0, stop=-1) == client.get("k")
    assert client.get("k", start=3, stop=1) == []
    assert client.get("k", start=2**63 - 1) == []
    assert client.get("k", start=-1, with_revision=True) == ([""], 5)
    assert client.get("k", True, True, start=4) == ([], 5), "past the end of a key that exists"
    assert client.get("missing", start=0, stop=-1, with_revision=True) == ([], 0)
    for bad in [dict(start="1"), dict(stop=1.5), dict(start=True)]:
        with pytest.raises(TypeError):
            client.get("k", **bad)
    with pytest.raises(InvalidRequestError) as refused:
        client.get("k", stop=2**63)
    assert "stop" in refused.value.message


def test_length_counts_the_values_of_a_key(client: Client) -> None:
    assert client.length("k") == 0
    client.append("k", "a")
    client.append_many([("k", "b"), ("j", "c")])
    assert client.length("k") == 2
    assert client.length("j", stale=True) == 1
    assert client.delete("k") is True
    assert client.length("k") == 0
    with pytest.raises(TypeError):
        client.length(1)  # type: ignore[arg-type]


def test_pop_takes_values_from_either_end_in_the_order_taken(client: Client) -> None:
    client.append_many([("q", v) for v in ["a", "b, c", "d\n", "e", ""]])  # 1..5
    assert client.pop("q") == ["a"]  # 6
    assert client.pop("q", 2) == ["b, c", "d\n"]  # 7
    assert client.pop("q", tail=True) == [""]  # 8
    assert client.get("q", with_revision=True) == (["e"], 8)
    assert client.pop("q", 5, tail=True) == ["e"], "as many as there are"  # 9
    assert client.keys() == [], "a key left without values is deleted"
    assert client.get("q", with_revision=True) == ([], 0)
    assert client.pop("q") == []
    assert client.pop("missing", 3, tail=True, wait=0) == []
    assert client.stats()["revision"] == 9, "a pop of nothing changes nothing"
    client.append_many([("t", v) for v in ["x", "y", "z"]])
    assert client.pop("t", 3, tail=True) == ["z", "y", "x"], "from the tail, the last first"
    client.append("w", "v")
    assert client.pop("w", wait=30) == ["v"], "a key with values answers at once"
    assert client.pop("w", wait=0.2) == []


def test_pop_with_a_wait_takes_a_value_appended_meanwhile(client: Client, kvd) -> None:
    def append_once_waiting() -> None:
        with Client(kvd.socket) as other:
            deadline = time.monotonic() + 10
            while other.stats()["pops_waiting"] != 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            other.append("jobs", "job")

    producer = threading.Thread(target=append_once_waiting)
    producer.start()
    try:
        assert client.pop("jobs", wait=30) == ["job"]
    finally:
        producer.join()
    start = time.monotonic()
    assert client.pop("jobs", wait=0.3) == []
    assert time.monotonic() - start >= 0.3


def test_pop_checks_its_arguments(client: Client) -> None:
    client.append("q", "v")
    for bad in [dict(count="2"), dict(count=True), dict(count=1.0), dict(wait="1")]:
        with pytest.raises(TypeError):
            client.pop("q", **bad)
    with pytest.raises(TypeError):
        client.pop(1)  # type: ignore[arg-type]
    for bad in [dict(count=0), dict(count=-1), dict(wait=-1), dict(wait=86401)]:
        with pytest.raises(InvalidRequestError):
            client.pop("q", **bad)
    assert client.get("q") == ["v"], "nothing was taken"


def test_trim_keeps_the_values_of_lranges_indices(client: Client) -> None:
    client.append_many([("k", v) for v in ["a", "b", "c", "d", "e", "f"]])  # 1..6
    assert client.trim("k", 1, -2) is None  # 7
    assert client.get("k", with_revision=True) == (["b", "c", "d", "e"], 7)
    client.trim("k", -100, 100)
    assert client.get("k", with_revision=True) == (["b", "c", "d", "e"], 7), "nothing removed"
    client.trim("k", -1, -1)  # 8
    assert client.get("k") == ["e"]
    client.trim("k", 3, 1)  # names none: 9
    assert client.keys() == [], "a key left without values is deleted"
    client.trim("missing", 0, 0)
    assert client.stats()["revision"] == 9
    for bad in [("0", 1), (0, 1.5), (None, 0), (0, False)]:
        with pytest.raises(TypeError):
            client.trim("k", *bad)  # type: ignore[arg-type]


def test_expire_persist_and_ttl(client: Client) -> None:
    client.append("k", "v")  # 1
    assert client.ttl("k") == -1
    assert client.ttl("missing") == -2
    assert client.expire("k", 60) is True  # 2
    assert 58_000 < client.ttl("k") <= 60_000
    assert client.get("k", with_revision=True) == (["v"], 2), "an expire is a change"
    assert client.persist("k") is True  # 3
    assert client.persist("k") is False
    assert client.ttl("k") == -1
    assert client.expire("missing", 60) is False
    client.append("s", "x", ttl=30)  # 4
    assert 28_000 < client.ttl("s") <= 30_000
    client.append("lease", "me", if_length=0, ttl=30)  # 5: a lease
    with pytest.raises(Conflict):
        client.append("lease", "you", if_length=0, ttl=30)
    assert client.expire("s", 0) is True, "no time left deletes it now"  # 6
    assert client.get("s") == []
    assert client.stats()["revision"] == 6
    with pytest.raises(InvalidRequestError):
        client.append("k", "v", ttl=0)
    with pytest.raises(TypeError):
        client.expire("k", 1.5)  # type: ignore[arg-type]


def test_an_expired_key_is_gone_and_a_write_to_it_starts_afresh(client: Client) -> None:
    client.append_many([("k", "old1"), ("k", "old2")])
    client.append("k", "old3", ttl=1)
    assert client.get("k") == ["old1", "old2", "old3"]
    time.sleep(1.05)
    assert client.get("k") == []
    assert client.length("k") == 0
    assert client.keys() == []
    assert client.ttl("k") == -2
    client.append("k", "new")
    assert client.get("k") == ["new"]
    assert client.ttl("k") == -1


def test_stale_reads_answer_on_a_single_node(client: Client) -> None:
    client.append("k", "v")
    assert client.get("k", stale=True) == ["v"]
    assert client.keys(stale=True) == ["k"]
    assert client.stats(stale=True)["values"] == 1


def test_call_sends_a_request_object_and_returns_the_response(client: Client) -> None:
    response = client.call({"op": "append", "key": "k", "val": "v"})
    assert response["ok"] is True and set(response) <= {"ok", "id"}
    response = client.call({"op": "get", "key": "k"})
    assert response["ok"] is True and response["values"] == ["v"]


def test_keys_and_values_must_be_str(client: Client) -> None:
    with pytest.raises(TypeError):
        client.append("k", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.append(b"k", "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.append_many([("k", None)])  # type: ignore[list-item]
    assert client.keys() == []


def test_acknowledged_writes_survive_a_restart_under_the_default_fsync(client: Client, kvd) -> None:
    client.append("durable", "1")
    client.append_many([("durable", "2"), ("other", "3")])
    client.delete("other")
    client.append_many([("q", v) for v in ["a", "b", "c", "d"]])
    assert client.pop("q", tail=True) == ["d"]
    client.trim("q", 1, -1)
    client.expire("q", 3600)
    client.close()
    assert kvd.stop(signal.SIGKILL) == -signal.SIGKILL
    kvd.start()
    with Client(kvd.socket) as again:
        assert again.get("durable") == ["1", "2"]
        assert again.keys() == ["durable", "q"]
        assert again.get("q") == ["b", "c"]
        assert again.ttl("q") > 3_500_000


def test_the_context_manager_closes_the_connection(kvd) -> None:
    with Client(kvd.socket) as watcher:
        with Client(kvd.socket) as c:
            c.ping()
            assert watcher.stats()["connections"] == 2
        deadline = time.monotonic() + 10
        while watcher.stats()["connections"] != 1:
            assert time.monotonic() < deadline, "kvd still sees the closed client"
            time.sleep(0.01)


def test_a_closed_client_connects_again_for_the_next_request(client: Client) -> None:
    client.close()
    assert client.ping() is True


def test_concurrent_clients_from_threads(start_kvd) -> None:
    daemon = start_kvd("--fsync", "no")
    threads, per_thread = 8, 250

    def work(n: int) -> None:
        with Client(daemon.socket) as c:
            for i in range(per_thread):
                c.append(f"t{n}", str(i))
                c.append("shared", f"{n}:{i}")

    run_in_threads(work, threads)
    with Client(daemon.socket) as c:
        for n in range(threads):
            assert c.get(f"t{n}") == [str(i) for i in range(per_thread)]
        shared = c.get("shared")
    assert sorted(shared) == sorted(f"{n}:{i}" for n in range(threads) for i in range(per_thread))
    for n in range(threads):  # each thread's values in its own order
        mine = [v for v in shared if v.startswith(f"{n}:")]
        assert mine == [f"{n}:{i}" for i in range(per_thread)]


def test_one_client_shared_by_threads(client: Client) -> None:
    def work(n: int) -> None:
        for i in range(100):
            client.append("k", f"{n}:{i}")
            assert f"{n}:{i}" in client.get("k")

    run_in_threads(work, 4)
    assert len(client.get("k")) == 400


def run_in_threads(work, count: int) -> None:
    """Runs work(0) ... work(count - 1) at once, each in a thread of its
    own; raises what any of them raised."""
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        for future in [pool.submit(work, n) for n in range(count)]:
            future.result()
