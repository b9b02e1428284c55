"""What is sent again after ``unavailable`` or a lost connection, with which
origin, from a fake kvd that answers as a cluster may."""

from __future__ import annotations

import json
import socket
from typing import Callable, Dict, List

import pytest
from fake_kvd import FakeKvd
from kvd_client import Client, KvdConnectionError, UnavailableError

UNAVAILABLE = {"ok": False, "error": {"code": "unavailable", "message": "no leader"}}


def scripted(answer: Callable[[Dict, int], Dict], seen: List[Dict]):
    """A handler that records every request and answers each with
    answer(request, how many were seen before it)."""

    def handle(conn: socket.socket) -> None:
        for line in conn.makefile("rb"):
            request = json.loads(line)
            response = dict(answer(request, len(seen)), id=request["id"])
            seen.append(request)
            conn.sendall(json.dumps(response).encode() + b"\n")

    return handle


def test_a_write_is_sent_again_with_the_same_origin(tmp_dir) -> None:
    seen: List[Dict] = []
    fail_twice = scripted(lambda r, n: UNAVAILABLE if n < 2 else {"ok": True}, seen)
    with FakeKvd(tmp_dir / "fake.sock", fail_twice) as fake:
        with Client(fake.path) as c:
            c.append("k", "v")
            c.append("k", "w")
    assert [r["val"] for r in seen] == ["v", "v", "v", "w"]
    assert len({r["client"] for r in seen}) == 1 and seen[0]["client"] > 0
    assert [r["seq"] for r in seen] == [1, 1, 1, 2]


def test_reads_carry_no_origin(tmp_dir) -> None:
    seen: List[Dict] = []
    values = scripted(lambda r, n: {"ok": True, "values": []}, seen)
    with FakeKvd(tmp_dir / "fake.sock", values) as fake:
        with Client(fake.path) as c:
            c.get("k")
    assert "client" not in seen[0] and "seq" not in seen[0]


def test_unavailable_until_the_retry_timeout(tmp_dir) -> None:
    seen: List[Dict] = []
    with FakeKvd(tmp_dir / "fake.sock", scripted(lambda r, n: UNAVAILABLE, seen)) as fake:
        with Client(fake.path, retry_timeout=0.3) as c:
            with pytest.raises(UnavailableError) as caught:
                c.append("k", "v")
    assert caught.value.message == "no leader"
    assert 3 <= len(seen) <= 10  # pauses of 20, 40, 80, 160 ms
    assert len({(r["client"], r["seq"]) for r in seen}) == 1


def test_a_pipelined_write_overtaken_by_a_later_one_is_not_sent_again(tmp_dir) -> None:
    # The cluster applied seq 2 but not seq 1: sending seq 1 again would be
    # taken for a retry and dropped, so the client reports it failed instead.
    seen: List[Dict] = []

    def answer(request: Dict, n: int) -> Dict:
        return {"ok": True} if request["val"] == "2" or n >= 3 else UNAVAILABLE

    with FakeKvd(tmp_dir / "fake.sock", scripted(answer, seen)) as fake:
        with Client(fake.path) as c:
            p = c.pipeline().append("k", "1").append("k", "2").append("k", "3")
            results = p.execute(raise_on_error=False)
    assert isinstance(results[0], UnavailableError) and "not retried" in results[0].message
    assert results[1:] == [None, None]
    assert [(r["val"], r["seq"]) for r in seen] == [("1", 1), ("2", 2), ("3", 3), ("3", 3)]


def test_reads_of_a_pipeline_are_sent_again(tmp_dir) -> None:
    seen: List[Dict] = []

    def answer(request: Dict, n: int) -> Dict:
        if request["op"] == "get":
            return UNAVAILABLE if n < 3 else {"ok": True, "values": [request["key"]]}
        return {"ok": True}

    with FakeKvd(tmp_dir / "fake.sock", scripted(answer, seen)) as fake:
        with Client(fake.path) as c:
            results = c.pipeline().get("a").append("k", "v").get("b").execute()
    assert results == [["a"], None, ["b"]]
    assert [r["op"] for r in seen] == ["get", "append", "get", "get", "get"]


def test_a_lost_connection_is_retried_with_the_same_origin(tmp_dir) -> None:
    # This fake reads each request and hangs up without an answer.
    seen: List[Dict] = []

    def hang_up(conn: socket.socket) -> None:
        seen.append(json.loads(conn.makefile("rb").readline()))

    with FakeKvd(tmp_dir / "fake.sock", hang_up) as fake:
        with Client(fake.path, retry_timeout=0.3) as c:
            with pytest.raises(KvdConnectionError) as caught:
                c.append("k", "v")
    assert caught.value.code == "connection_lost"
    assert len(seen) >= 3
    assert len({(r["client"], r["seq"], r["val"]) for r in seen}) == 1
