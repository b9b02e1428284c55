"""A pop that waits (``wait``), against a fake kvd that holds its answer
back: what the client sends, and that it waits for the answer as long as
the pop may wait, on top of its ``timeout``."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Dict, List

import pytest

from fake_kvd import FakeKvd
from kvd_client import Client, KvdTimeoutError


def answer_pops_after(delay: float, received: List[Dict[str, Any]]):
    """A fake kvd's handler that answers each pop ``delay`` seconds after it
    came with the values ["v"], after keeping the request in ``received``."""

    def handle(conn: socket.socket) -> None:
        for line in conn.makefile("rb"):
            request = json.loads(line)
            received.append(request)
            time.sleep(delay)
            answer = {"ok": True, "id": request["id"], "values": ["v"]}
            conn.sendall(json.dumps(answer).encode() + b"\n")

    return handle


def test_count_from_and_wait_are_sent_only_when_given(tmp_dir) -> None:
    received: List[Dict[str, Any]] = []
    with FakeKvd(tmp_dir / "fake.sock", answer_pops_after(0, received)) as fake:
        with Client(fake.path, timeout=5) as c:
            assert c.pop("q") == ["v"]
            assert c.pop("q", 3, tail=True, wait=1.5) == ["v"]
            assert c.pop("q", 1, tail=False, wait=0) == ["v"]
    sent = [{k: v for k, v in r.items() if k not in ("id", "client", "seq")} for r in received]
    assert sent == [
        {"op": "pop", "key": "q"},
        {"op": "pop", "key": "q", "count": 3, "from": "tail", "wait": 1.5},
        {"op": "pop", "key": "q", "wait": 0},
    ]
    assert [r["seq"] for r in received] == [1, 2, 3], "each pop is a write with its origin"
    assert fake.errors == []


def test_a_pop_may_take_its_wait_on_top_of_the_timeout(tmp_dir) -> None:
    received: List[Dict[str, Any]] = []
    with FakeKvd(tmp_dir / "fake.sock", answer_pops_after(1.0, received)) as fake:
        with Client(fake.path, timeout=0.5, retry_timeout=0) as c:
            assert c.pop("q", wait=2) == ["v"]
            assert c.pipeline().pop("q", wait=1).pop("q", wait=1).execute() == [["v"], ["v"]]
            with pytest.raises(KvdTimeoutError) as caught:
                c.pop("q")  # no wait: the timeout alone
            assert "0.5 s" in caught.value.message
    assert fake.errors == []


def test_a_pop_that_waits_past_its_wait_and_the_timeout_times_out(tmp_dir) -> None:
    with FakeKvd(tmp_dir / "fake.sock", answer_pops_after(2.0, [])):
        with Client(str(tmp_dir / "fake.sock"), timeout=0.5, retry_timeout=0) as c:
            start = time.monotonic()
            with pytest.raises(KvdTimeoutError) as caught:
                c.pop("q", wait=0.5)
            assert 0.9 < time.monotonic() - start < 1.9
            assert "1.0 s" in caught.value.message
