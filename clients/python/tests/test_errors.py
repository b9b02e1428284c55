"""Each error class, provoked from a real kvd where kvd can be made to send
its code, from a fake one otherwise."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import time

import pytest

import kvd_client
from fake_kvd import FakeKvd, read_lines
from kvd_client import (
    Client,
    Conflict,
    InternalError,
    InvalidJsonError,
    InvalidRequestError,
    InvalidUtf8Error,
    KeyTooLargeError,
    KvdConnectionError,
    KvdError,
    KvdTimeoutError,
    LineTooLongError,
    PermissionDeniedError,
    ProtocolError,
    ServerError,
    StorageError,
    TooManyConnectionsError,
    UnavailableError,
    UnknownOpError,
    ValueTooLargeError,
)
from kvd_process import free_loopback_ports

SERVER_CODES = {
    InvalidJsonError: "invalid_json",
    InvalidUtf8Error: "invalid_utf8",
    InvalidRequestError: "invalid_request",
    UnknownOpError: "unknown_op",
    LineTooLongError: "line_too_long",
    KeyTooLargeError: "key_too_large",
    ValueTooLargeError: "value_too_large",
    TooManyConnectionsError: "too_many_connections",
    PermissionDeniedError: "permission_denied",
    StorageError: "storage_error",
    UnavailableError: "unavailable",
    Conflict: "conflict",
    InternalError: "internal",
}


def test_the_hierarchy() -> None:
    for cls, code in SERVER_CODES.items():
        assert issubclass(cls, ServerError) and issubclass(cls, KvdError)
        assert cls.code == code
        assert cls.__name__ in kvd_client.__all__
    for cls, builtin in [(KvdConnectionError, ConnectionError), (KvdTimeoutError, TimeoutError)]:
        assert issubclass(cls, builtin) and issubclass(cls, KvdError)
    assert issubclass(ProtocolError, KvdError) and not issubclass(ProtocolError, ServerError)


def test_unknown_op(client: Client) -> None:
    with pytest.raises(UnknownOpError) as caught:
        client.call({"op": "fetch", "key": "k"})
    assert caught.value.code == "unknown_op" and "fetch" in caught.value.message
    assert client.ping()  # the connection stays usable


def test_invalid_request(client: Client) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.call({"op": "get"})
    assert caught.value.code == "invalid_request" and "key" in caught.value.message
    with pytest.raises(InvalidRequestError):
        client.call({"op": "append", "key": 42, "val": "v"})
    assert client.keys() == []


def test_invalid_json(client: Client) -> None:
    # Python's json writes NaN, which is not JSON.
    with pytest.raises(InvalidJsonError) as caught:
        client.call({"op": "ping", "extra": float("nan")})
    assert caught.value.code == "invalid_json"
    assert client.ping()


def test_invalid_utf8_from_a_lone_surrogate(client: Client) -> None:
    with pytest.raises(InvalidUtf8Error) as caught:
        client.append("k", "half a pair: \ud800")
    assert caught.value.code == "invalid_utf8"
    with pytest.raises(InvalidUtf8Error):
        client.append("\udfff", "v")
    assert client.keys() == []
    client.append("k", "a whole pair: \U0001F600")
    assert client.get("k") == ["a whole pair: \U0001F600"]


def test_line_too_long_closes_the_connection_and_the_next_request_opens_one(start_kvd) -> None:
    kvd = start_kvd("--max-line", "100")
    with Client(kvd.socket) as c:
        connections = c.stats()["connections_total"]
        with pytest.raises(LineTooLongError) as caught:
            c.append("k", "x" * 200)
        assert caught.value.code == "line_too_long"
        c.append("k", "short")
        assert c.get("k") == ["short"]
        assert c.stats()["connections_total"] == connections + 1


def test_line_too_long_of_a_line_far_longer_than_the_socket_buffers(start_kvd) -> None:
    # kvd hangs up while the client is still writing: the answer it sent
    # before that is still read.
    kvd = start_kvd("--max-line", "1000")
    with Client(kvd.socket) as c:
        with pytest.raises(LineTooLongError):
            c.append("k", "x" * 8_000_000)
        assert c.get("k") == []


def test_key_too_large(start_kvd) -> None:
    kvd = start_kvd("--max-key-size", "8")
    with Client(kvd.socket) as c:
        with pytest.raises(KeyTooLargeError) as caught:
            c.append("123456789", "v")
        assert caught.value.code == "key_too_large"
        with pytest.raises(KeyTooLargeError):
            c.keys(prefix="123456789")
        c.append("12345678", "v")
        assert c.keys() == ["12345678"]


def test_value_too_large_stores_nothing_of_an_append_many(start_kvd) -> None:
    kvd = start_kvd("--max-value-size", "8")
    with Client(kvd.socket) as c:
        with pytest.raises(ValueTooLargeError) as caught:
            c.append_many([("k", "fine"), ("k", "123456789"), ("j", "fine")])
        assert caught.value.code == "value_too_large"
        assert c.keys() == []


def test_too_many_connections(start_kvd) -> None:
    kvd = start_kvd("--max-connections", "1")
    with connected_alone(kvd.socket) as first:
        refused = first.stats()["refused_connections"]
        with Client(kvd.socket) as second:
            with pytest.raises(TooManyConnectionsError) as caught:
                second.ping()
            assert caught.value.code == "too_many_connections"
        assert first.stats()["refused_connections"] == refused + 1


def connected_alone(path: str) -> Client:
    """A client that kvd serves, once kvd has seen earlier connections (the
    start-up probe's) close."""
    deadline = time.monotonic() + 10
    while True:
        c = Client(path, retry_timeout=0)
        try:
            c.ping()
            return c
        except TooManyConnectionsError:
            c.close()
            assert time.monotonic() < deadline, "kvd still counts an old connection"
            time.sleep(0.01)


def test_permission_denied(start_kvd) -> None:
    other = str(os.getuid() + 4242)
    kvd = start_kvd("--allow-uid", other, "--allow-gid", other)
    with Client(kvd.socket) as c:
        with pytest.raises(PermissionDeniedError) as caught:
            c.append("k", "v")
        assert caught.value.code == "permission_denied"


def test_storage_error_when_the_journal_cannot_grow(start_kvd, tmp_dir) -> None:
    def limit_file_size() -> None:
        # Writes past 64 KiB fail with EFBIG instead of raising SIGXFSZ.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))

    kvd = start_kvd(preexec=limit_file_size)
    with Client(kvd.socket, retry_timeout=0) as c:
        with pytest.raises(StorageError) as caught:
            c.append("k", "x" * 100_000)
        assert caught.value.code == "storage_error"
        assert c.get("k") == []
        c.append("k", "small")  # the journal took nothing of the failed write
        assert c.get("k") == ["small"]


@pytest.fixture
def leaderless_node(start_kvd):
    """Node 1 of a cluster whose other nodes never start: it has no leader."""
    ports = free_loopback_ports(3)
    peers = ",".join(f"{n}=127.0.0.1:{p}" for n, p in zip((1, 2, 3), ports))
    return start_kvd("--node", "1", "--peers", peers)


def test_unavailable_is_retried_until_the_retry_timeout(leaderless_node) -> None:
    with Client(leaderless_node.socket, retry_timeout=0.5) as c:
        before = c.stats(stale=True)["requests"]
        start = time.monotonic()
        with pytest.raises(UnavailableError) as caught:
            c.append("k", "v")
        elapsed = time.monotonic() - start
        assert caught.value.code == "unavailable"
        # Sent again with backoff (pauses of 20, 40, 80, 160 ms) until the deadline.
        assert 0.2 < elapsed < 5
        assert c.stats(stale=True)["requests"] - before >= 3
        assert c.get("k", stale=True) == []


def test_unavailable_without_retries(leaderless_node) -> None:
    with Client(leaderless_node.socket, retry_timeout=0) as c:
        before = c.stats(stale=True)["requests"]
        with pytest.raises(UnavailableError):
            c.get("k")
        assert c.stats(stale=True)["requests"] - before == 2  # the get and this stats


def answer_every_line_with(response: dict):
    """A fake kvd's handler that answers each request with ``response`` (its id added)."""

    def handle(conn: socket.socket) -> None:
        for line in conn.makefile("rb"):
            answer = dict(response, id=json.loads(line)["id"])
            conn.sendall(json.dumps(answer).encode() + b"\n")

    return handle


def test_internal_and_unknown_codes(tmp_dir) -> None:
    for code, cls in [("internal", InternalError), ("a_code_of_the_future", ServerError)]:
        failure = {"ok": False, "error": {"code": code, "message": "it went wrong"}}
        path = tmp_dir / f"{code}.sock"
        with FakeKvd(path, answer_every_line_with(failure)):
            with Client(str(path)) as c:
                with pytest.raises(cls) as caught:
                    c.ping()
        assert type(caught.value) is cls
        assert caught.value.code == code and caught.value.message == "it went wrong"


def test_an_answer_that_is_not_json_is_a_protocol_error(tmp_dir) -> None:
    def handle(conn: socket.socket) -> None:
        read_lines(conn, 1)
        conn.sendall(b"PONG\n")
        read_lines(conn, 1)

    with FakeKvd(tmp_dir / "fake.sock", handle) as fake:
        with Client(fake.path) as c:
            with pytest.raises(ProtocolError) as caught:
                c.ping()
    assert caught.value.code == "bad_response"


def test_a_get_answered_without_a_revision_is_a_protocol_error_only_when_asked(tmp_dir) -> None:
    # A kvd from before revisions answers a get with its values alone.
    old = {"ok": True, "values": ["v"]}
    with FakeKvd(tmp_dir / "fake.sock", answer_every_line_with(old)) as fake:
        with Client(fake.path) as c:
            assert c.get("k") == ["v"]
            with pytest.raises(ProtocolError) as caught:
                c.get("k", with_revision=True)
            assert "revision" in caught.value.message
            assert c.ping()


def test_an_answer_without_its_payload_is_a_protocol_error(tmp_dir) -> None:
    with FakeKvd(tmp_dir / "fake.sock", answer_every_line_with({"ok": True})) as fake:
        with Client(fake.path) as c:
            with pytest.raises(ProtocolError):
                c.get("k")
            assert c.ping()


def test_a_len_answered_without_a_length_is_a_protocol_error(tmp_dir) -> None:
    with FakeKvd(tmp_dir / "fake.sock", answer_every_line_with({"ok": True})) as fake:
        with Client(fake.path) as c:
            with pytest.raises(ProtocolError) as caught:
                c.length("k")
            assert "length" in caught.value.message
            assert c.ping()


def test_a_conflict_carries_the_keys_revision(client: Client) -> None:
    client.append("k", "a", if_revision=0)
    with pytest.raises(Conflict) as refused:
        client.append("k", "x", if_revision=0)
    assert refused.value.code == "conflict" and refused.value.revision == 1
    assert isinstance(refused.value, ServerError)
    assert kvd_client.ConflictError is Conflict
    assert client.get("k", with_revision=True) == (["a"], 1)
