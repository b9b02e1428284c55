"""No daemon, a daemon that stops answering, and one stopped mid-request."""

from __future__ import annotations

import concurrent.futures
import signal
import socket
import time

import pytest

from kvd_client import Client, KvdConnectionError, KvdTimeoutError


def test_no_socket_file(tmp_dir) -> None:
    path = str(tmp_dir / "nobody.sock")
    with pytest.raises(KvdConnectionError) as caught:
        Client(path)
    assert isinstance(caught.value, ConnectionError)
    assert caught.value.code == "unreachable"
    assert path in caught.value.message


def test_connection_refused(tmp_dir) -> None:
    # A socket file nobody listens on, as a dead daemon leaves behind.
    path = str(tmp_dir / "dead.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bound:
        bound.bind(path)
        with pytest.raises(KvdConnectionError) as caught:
            Client(path)
    assert "refused" in caught.value.message.lower()


def test_a_daemon_that_does_not_answer_times_out(kvd) -> None:
    with Client(kvd.socket, timeout=0.5) as c:
        c.ping()
        kvd.send_signal(signal.SIGSTOP)
        try:
            start = time.monotonic()
            with pytest.raises(KvdTimeoutError) as caught:
                c.get("k")
            elapsed = time.monotonic() - start
            assert isinstance(caught.value, TimeoutError) and caught.value.code == "timeout"
            assert 0.4 < elapsed < 5
            with pytest.raises(KvdTimeoutError):
                c.pipeline().ping().ping().get("k").execute()
        finally:
            kvd.send_signal(signal.SIGCONT)
        assert c.ping()  # on a new connection


def test_the_client_connects_again_after_a_restart(kvd) -> None:
    with Client(kvd.socket) as c:
        c.append("k", "before")
        kvd.stop()
        kvd.start()
        c.append("k", "after")  # the connection was lost: sent again on a new one
        assert c.get("k") == ["before", "after"]


def test_a_daemon_that_is_gone_for_good(kvd) -> None:
    with Client(kvd.socket) as c:
        c.ping()
        assert kvd.stop() == 0
        with pytest.raises(KvdConnectionError):
            c.ping()


def test_killed_while_a_request_waits(kvd) -> None:
    with Client(kvd.socket, timeout=30) as c:
        c.ping()
        kvd.send_signal(signal.SIGSTOP)  # the request below waits in the socket
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(c.append, "k", "v")
            time.sleep(0.3)
            assert not pending.done()
            start = time.monotonic()
            kvd.stop(signal.SIGKILL)
            with pytest.raises(KvdConnectionError):
                pending.result(timeout=10)
        assert time.monotonic() - start < 5  # not the 30 s timeout


def test_stopped_with_sigterm_mid_pipeline(kvd) -> None:
    # kvd answers what it has read and executes nothing after: exactly the
    # acknowledged writes are stored, the others fail.
    count = 200_000
    with Client(kvd.socket) as c, Client(kvd.socket) as watcher:
        p = c.pipeline()
        for i in range(count):
            p.append("k", str(i))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            running = pool.submit(p.execute, raise_on_error=False)
            deadline = time.monotonic() + 30
            while watcher.stats()["values"] == 0:
                assert time.monotonic() < deadline, "kvd stored nothing of the pipeline"
                time.sleep(0.005)
            assert kvd.stop(signal.SIGTERM) == 0
            results = running.result(timeout=60)
    acknowledged = next((i for i, r in enumerate(results) if r is not None), count)
    assert 0 < acknowledged < count, "the pipeline was not cut off"
    assert all(isinstance(r, KvdConnectionError) for r in results[acknowledged:])
    kvd.start()
    with Client(kvd.socket) as c:
        assert c.get("k") == [str(i) for i in range(acknowledged)]
