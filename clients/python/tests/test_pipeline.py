"""Pipeline: many requests sent before the answers are read."""

from __future__ import annotations

import json
import socket

import pytest

from fake_kvd import FakeKvd, read_lines
from kvd_client import (
    Client,
    Conflict,
    KeyTooLargeError,
    LineTooLongError,
    ProtocolError,
    ValueTooLargeError,
)


def test_ten_thousand_requests_in_one_pipeline(client: Client) -> None:
    with client.pipeline() as p:
        for i in range(10_000):
            p.append(f"k{i % 7}", str(i))
        for k in range(7):
            p.get(f"k{k}")
        assert len(p) == 10_007
        results = p.execute()
    assert results[:10_000] == [None] * 10_000
    for k in range(7):
        assert results[10_000 + k] == [str(i) for i in range(k, 10_000, 7)]
    assert client.stats()["values"] == 10_000


def test_get_with_revision_in_a_pipeline(client: Client) -> None:
    with client.pipeline() as p:
        p.append("k", "1").append("other", "2").append("k", "3")
        p.get("k", with_revision=True).get("other", with_revision=True).get("k")
        p.delete("other").get("other", with_revision=True).stats()
        results = p.execute()
    assert results[:3] == [None, None, None]
    assert results[3:7] == [(["1", "3"], 3), (["2"], 2), ["1", "3"], True]
    assert results[7] == ([], 0)
    assert results[8]["revision"] == 4


def test_ranges_and_lengths_in_a_pipeline(client: Client) -> None:
    results = (
        client.pipeline()
        .append_many([("k", "a"), ("k", "b"), ("k", "c")])
        .get("k", start=-2)
        .get("k", start=0, stop=0, with_revision=True)
        .length("k")
        .length("missing", stale=True)
        .execute()
    )
    assert results == [None, ["b", "c"], (["a"], 3), 3, 0]


def test_pops_and_trims_in_a_pipeline(client: Client) -> None:
    results = (
        client.pipeline()
        .append_many([("q", v) for v in ["a", "b", "c", "d", "e"]])
        .pop("q", 2)
        .pop("q", tail=True, wait=5)
        .trim("q", 0, 0)
        .get("q")
        .pop("q", 9, tail=True)
        .pop("q")
        .length("q")
        .execute()
    )
    assert results == [None, ["a", "b"], ["e"], None, ["c"], ["c"], [], 0]


def test_expiry_in_a_pipeline(client: Client) -> None:
    with client.pipeline() as p:
        p.append("k", "v", ttl=60).ttl("k").expire("k", 30).ttl("k").persist("k").ttl("k")
        p.expire("missing", 5)
        results = p.execute()
    assert results[0] is None
    assert 58_000 < results[1] <= 60_000
    assert results[2] is True
    assert 28_000 < results[3] <= 30_000
    assert results[4:] == [True, -1, False]


def test_conditional_appends_in_a_pipeline_each_get_their_result(client: Client) -> None:
    with client.pipeline() as p:
        p.append("k", "a", if_revision=0).append("k", "x", if_revision=0)
        p.append("k", "b", if_length=1).append("k", "x", if_length=1).get("k", with_revision=True)
        results = p.execute(raise_on_error=False)
    assert results[0] is None and results[2] is None
    # The key's revision after the commit that refused it: the later
    # appends of the pipeline may have shared that commit.
    assert isinstance(results[1], Conflict) and results[1].revision in (1, 2)
    assert isinstance(results[3], Conflict) and results[3].revision == 2
    assert results[4] == (["a", "b"], 2)


def test_ten_thousand_reads_in_one_pipeline(client: Client) -> None:
    client.append("k", "v")
    p = client.pipeline()
    for _ in range(10_000):
        p.get("k")
    assert p.execute() == [["v"]] * 10_000


def test_every_request_is_sent_before_an_answer_is_read(tmp_dir) -> None:
    # This server reads all requests before it answers any: a client that
    # waits for each answer before sending on would time out.
    count = 500

    def handle(conn: socket.socket) -> None:
        requests = [json.loads(line) for line in read_lines(conn, count)]
        assert len(requests) == count
        answers = [{"ok": True, "id": r["id"], "values": [r["key"]]} for r in requests]
        conn.sendall(b"".join(json.dumps(a).encode() + b"\n" for a in answers))

    with FakeKvd(tmp_dir / "fake.sock", handle) as fake:
        with Client(fake.path, timeout=5) as c:
            p = c.pipeline()
            for i in range(count):
                p.get(str(i))
            assert p.execute() == [[str(i)] for i in range(count)]
    assert fake.errors == []


def test_a_response_for_another_request_id_is_refused(tmp_dir) -> None:
    def handle(conn: socket.socket) -> None:
        for line in read_lines(conn, 2):
            request = json.loads(line)
            conn.sendall(json.dumps({"ok": True, "id": request["id"] + 1}).encode() + b"\n")

    with FakeKvd(tmp_dir / "fake.sock", handle):
        with Client(str(tmp_dir / "fake.sock"), timeout=5, retry_timeout=0) as c:
            results = c.pipeline().ping().ping().execute(raise_on_error=False)
    assert all(isinstance(r, ProtocolError) for r in results)


def test_results_are_what_the_methods_return(client: Client) -> None:
    results = (
        client.pipeline()
        .ping()
        .append("a", "1")
        .append_many([("a", "2"), ("b", "3")])
        .get("a")
        .get("missing", stale=True)
        .keys()
        .keys("b")
        .delete("b")
        .delete("b")
        .stats()
        .call({"op": "get", "key": "a"})
        .execute()
    )
    assert results[:9] == [True, None, None, ["1", "2"], [], ["a", "b"], ["b"], True, False]
    assert results[9]["keys"] == 1 and results[9]["values"] == 2
    assert results[10]["values"] == ["1", "2"]


def test_execute_empties_the_pipeline_and_with_discards(client: Client) -> None:
    p = client.pipeline()
    p.append("k", "1")
    assert p.execute() == [None]
    assert len(p) == 0 and p.execute() == []
    with client.pipeline() as q:
        q.append("k", "never sent")
    assert len(q) == 0
    assert client.get("k") == ["1"]


def test_errors_take_their_place_among_the_results(start_kvd) -> None:
    kvd = start_kvd("--max-key-size", "8", "--max-value-size", "8")
    with Client(kvd.socket) as c:
        p = c.pipeline()
        p.append("k", "1").append("much too long a key", "2").append("k", "much too long a value")
        p.append("k", "4").get("k")
        results = p.execute(raise_on_error=False)
        assert results[0] is None and results[3] is None
        assert isinstance(results[1], KeyTooLargeError)
        assert isinstance(results[2], ValueTooLargeError)
        assert results[4] == ["1", "4"]

        p.append("k", "5").append("much too long a key", "6").append("k", "7")
        with pytest.raises(KeyTooLargeError):
            p.execute()
        assert c.get("k") == ["1", "4", "5", "7"]  # the others were executed


def test_requests_after_an_overlong_line_go_on_a_new_connection(start_kvd) -> None:
    # kvd answers line_too_long, closes the connection and executes nothing
    # after it: the client sends the rest again on a new connection.
    kvd = start_kvd("--max-line", "200")
    with Client(kvd.socket) as c:
        p = c.pipeline()
        p.append("k", "1").append("k", "x" * 300).append("k", "3").get("k")
        results = p.execute(raise_on_error=False)
        assert results[0] is None
        assert isinstance(results[1], LineTooLongError)
        assert results[2:] == [None, ["1", "3"]]
        assert c.get("k") == ["1", "3"]
