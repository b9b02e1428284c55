"""Client: kvd's operations as methods, over one connection to its socket."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    TYPE_CHECKING,
    Union,
    overload,
)

from .connection import Connection
from .errors import (
    CLOSING_CODES,
    KvdConnectionError,
    KvdError,
    ProtocolError,
    ServerError,
    UnavailableError,
    server_error,
)
from .socket_path import default_socket_path
from .watch import Watch

if TYPE_CHECKING:
    from .pipeline import Pipeline

# The operations that change the store: they carry this client's origin.
WRITE_OPS = frozenset({"append", "append_many", "delete", "trim", "pop", "expire", "persist"})

# The first pause before a retry, doubled each time up to _MAX_PAUSE (as kvctl).
_FIRST_PAUSE = 0.02
_MAX_PAUSE = 0.5

# A response, or the error that ended its request.
Outcome = Union[Dict[str, Any], KvdError]


class Client:
    """A connection to kvd, with a method per operation of proto/PROTOCOL.md.

    ``socket``: the socket's path (a str or path object); None finds it as
    kvctl does (:func:`kvd_client.default_socket_path`). ``timeout``:
    seconds to wait for kvd at each step (connecting, taking a request, sending the next
    bytes of an answer), None for no limit; past it a request fails with
    :class:`KvdTimeoutError`. ``retry_timeout``: seconds during which a
    request answered ``unavailable`` (a cluster without a leader) or whose
    connection was lost is sent again, 0 for never.

    Connects at once (:class:`KvdConnectionError` if kvd is not there), and
    again after the connection is lost. Every write carries this client's
    id and a sequence number, so that a cluster applies it once however
    often it is sent. A Client may be shared by threads: their requests
    take turns on its one connection. Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        socket: Optional[Union[str, "os.PathLike[str]"]] = None,
        timeout: Optional[float] = 30.0,
        retry_timeout: float = 5.0,
    ) -> None:
        self.socket_path: str = os.fspath(socket) if socket is not None else default_socket_path()
        self.timeout = timeout
        self.retry_timeout = retry_timeout
        # The origin's client id: random, 63 bits, never 0 (PROTOCOL.md, "Exactly once").
        self.client_id: int = secrets.randbits(63) or 1
        self._last_seq = 0
        self._last_id = 0
        self._lock = threading.Lock()
        self._conn: Optional[Connection] = Connection(self.socket_path, timeout)

    # --- operations ---

    def ping(self) -> bool:
        """Checks that kvd answers; returns True."""
        self.call({"op": "ping"})
        return True

    def append(
        self,
        key: str,
        val: str,
        if_revision: Optional[int] = None,
        if_length: Optional[int] = None,
        *,
        ttl: Optional[int] = None,
    ) -> None:
        """Appends ``val`` to ``key``'s values; returns once it is durable.

        With ``ttl`` (whole seconds from 1), ``key`` then expires that long
        from now, set in the same write (see :meth:`expire`).

        A conditional append (a compare-and-set) with ``if_revision``: only
        if ``key``'s revision (``get(key, with_revision=True)``; 0 for a
        missing key) is still that when kvd applies it; or with
        ``if_length``: only if ``key`` still holds that many values. At most
        one of the two. If the condition does not hold nothing is appended
        and :class:`Conflict` is raised, its ``revision`` the key's current
        one: of clients racing with the same revision, exactly one wins.
        In a cluster the leader decides; a retried request gets the first
        answer again."""
        self.call(append_request(key, val, if_revision, if_length, ttl))

    def append_many(self, items: Iterable[Tuple[str, str]]) -> None:
        """Appends each ``(key, val)`` of ``items`` in order, as one atomic
        request: all are stored or none. The request must fit kvd's line
        limit (1 MiB by default), else :class:`LineTooLongError`."""
        self.call(append_many_request(items))

    @overload
    def get(
        self,
        key: str,
        stale: bool = ...,
        with_revision: Literal[False] = ...,
        *,
        start: Optional[int] = ...,
        stop: Optional[int] = ...,
    ) -> List[str]:
        ...

    @overload
    def get(
        self,
        key: str,
        stale: bool = ...,
        *,
        with_revision: Literal[True],
        start: Optional[int] = ...,
        stop: Optional[int] = ...,
    ) -> Tuple[List[str], int]:
        ...

    @overload
    def get(
        self,
        key: str,
        stale: bool = ...,
        with_revision: bool = ...,
        *,
        start: Optional[int] = ...,
        stop: Optional[int] = ...,
    ) -> Union[List[str], Tuple[List[str], int]]:
        ...

    def get(
        self,
        key: str,
        stale: bool = False,
        with_revision: bool = False,
        *,
        start: Optional[int] = None,
        stop: Optional[int] = None,
    ) -> Union[List[str], Tuple[List[str], int]]:
        """``key``'s values in append order; [] for a missing key. ``stale``:
        in a cluster, this node's own state at once, which may lag.

        With ``start`` or ``stop`` (or both), only the values from index
        ``start`` (default 0) to index ``stop`` (default -1), both
        included, as Redis's LRANGE names them: 0 is the first value, -1
        the last (negative counts from the end); indices past either end
        are clamped, and a range that names none gives []. Each is an int
        (:class:`TypeError` otherwise) from -2**63 to 2**63-1
        (:class:`InvalidRequestError` from kvd otherwise).

        With ``with_revision``, ``(values, revision)``: the values and the
        key's revision, read together in one request, so the revision is
        that of exactly these values. A key's revision is the store
        revision of the last change to it, 0 for a missing key; the store
        revision counts the store's changes, each appended value, each
        delete of a key that existed and each pop or trim that removed
        values (PROTOCOL.md, "Revisions").
        :class:`ProtocolError` if kvd answers no revision (a kvd from
        before revisions)."""
        response = self.call(get_request(key, stale, start, stop))
        return values_and_revision_of(response) if with_revision else values_of(response)

    def length(self, key: str, stale: bool = False) -> int:
        """How many values ``key`` holds; 0 for a missing key (as Redis's
        LLEN)."""
        return length_of(self.call(len_request(key, stale)))

    def delete(self, key: str) -> bool:
        """Removes ``key`` and all its values; False if it did not exist."""
        return deleted_of(self.call(delete_request(key)))

    def trim(self, key: str, start: int, stop: int) -> None:
        """Keeps only ``key``'s values from index ``start`` to index
        ``stop``, both included, named as by :meth:`get` with a range (as
        Redis's LTRIM), and removes the others; returns once durable. A key
        left without values is deleted. Both are ints (:class:`TypeError`
        otherwise)."""
        self.call(trim_request(key, start, stop))

    def pop(
        self, key: str, count: int = 1, *, tail: bool = False, wait: Optional[float] = None
    ) -> List[str]:
        """Takes up to ``count`` values from the head of ``key`` (with
        ``tail``, from its tail) and returns them in the order taken, the
        last first from the tail (as Redis's LPOP and RPOP with a count);
        [] when the key has none. A key left without values is deleted.
        Returns once the removal is durable; a retried request gets the
        values the first took.

        ``wait``: seconds (0 to 86400) to wait, while the key has no values,
        for one; [] if none came. kvd serves waiting pops in the order they
        came and gives each value to one of them. The answer may take
        ``timeout`` plus ``wait``, and this client's other requests (other
        threads' too) wait their turn meanwhile. ``count`` is an int and
        ``wait`` a number (:class:`TypeError` otherwise); kvd refuses a
        ``count`` below 1 or a ``wait`` outside its range
        (:class:`InvalidRequestError`)."""
        return values_of(self.call(pop_request(key, count, tail, wait)))

    def expire(self, key: str, seconds: int) -> bool:
        """Makes ``key`` expire ``seconds`` from now (an int; 0 or less
        deletes it now), as Redis's EXPIRE: from then on it is gone for every
        reader, and a write to it starts afresh. False, changing nothing, if
        the key is missing. Returns once durable."""
        return existed_of(self.call(expire_request(key, seconds)))

    def persist(self, key: str) -> bool:
        """Makes ``key`` expire never again; False if it had no expiry or is
        missing."""
        return persisted_of(self.call(persist_request(key)))

    def ttl(self, key: str, stale: bool = False) -> int:
        """The milliseconds before ``key`` expires, as Redis's PTTL: -1 if it
        never does, -2 if it is missing."""
        return ttl_of(self.call(ttl_request(key, stale)))

    def keys(self, prefix: str = "", stale: bool = False) -> List[str]:
        """The keys starting with ``prefix`` (every key for ""), in ascending
        order of their UTF-8 bytes (code point order)."""
        return keys_of(self.call(keys_request(prefix, stale)))

    def stats(self, stale: bool = False) -> Dict[str, int]:
        """Server statistics by name (PROTOCOL.md, "stats"), ``"revision"``
        (the store's revision) among them; more may appear."""
        return stats_of(self.call(read_request({"op": "stats"}, stale)))

    def watch(
        self,
        prefix: str = "",
        from_revision: Optional[int] = None,
        *,
        resume: bool = False,
        idle_timeout: Optional[float] = None,
    ) -> Watch:
        """The changes to the keys starting with ``prefix`` (every key for
        ""), in revision order, as they are made: a :class:`Watch`, an
        iterator of :class:`Change` (``revision``, ``key``, ``kind``,
        ``values``) that waits for each. It starts after ``from_revision``
        (None: after the store's revision now; kvd must still keep the
        changes after it, else :class:`Compacted` at once, with the oldest
        revision to start from), and has a connection of its own: this
        client's other calls go on meanwhile. Close it (``with``, or
        :meth:`Watch.close`) to close that connection.

        kvd ends a watch that falls too far behind (:class:`SlowWatcher`,
        with the revision to watch from again) and, when it stops, its
        connection (:class:`KvdConnectionError`). With ``resume``, the watch
        starts again from the last change it gave after either (reconnecting
        for up to ``retry_timeout``): each change comes exactly once, in
        order, unless kvd no longer keeps those after it (:class:`Compacted`
        ends the watch then). ``idle_timeout``: seconds to wait for a change
        before :class:`KvdTimeoutError` (the watch goes on); None, the
        default, waits without end."""
        check_str("prefix", prefix)
        if from_revision is not None and (
            not isinstance(from_revision, int)
            or isinstance(from_revision, bool)
            or from_revision < 0
        ):
            raise ValueError(f"from_revision must be an int, 0 or more, not {from_revision!r}")
        return Watch(
            self.socket_path,
            self.timeout,
            self.retry_timeout,
            prefix,
            from_revision,
            resume,
            idle_timeout,
        )

    def pipeline(self) -> "Pipeline":
        """A :class:`Pipeline` on this client: queued requests sent together."""
        from .pipeline import Pipeline

        return Pipeline(self)

    def call(self, request: Mapping[str, Any]) -> Dict[str, Any]:
        """Sends one request object (``{"op": ..., ...}``) and returns kvd's
        response object, or raises the error kvd answered. For operations
        without a method (``cluster``, ...). A write (append, append_many,
        delete, trim, pop) gets this client's origin, in place of any it has.
        Retried as the methods are."""
        outcome = self._run([dict(request)])[0]
        if isinstance(outcome, KvdError):
            raise outcome
        return outcome

    def close(self) -> None:
        """Closes the connection; a later request opens a new one."""
        with self._lock:
            self._drop()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- sending, retrying ---

    def _run(self, requests: Sequence[Dict[str, Any]]) -> List[Outcome]:
        """Sends ``requests`` in order, pipelined, and returns for each its
        response or its error. Used by :meth:`call` and by Pipeline.
        kvd may take ``timeout`` plus the waits of the pops among them to
        answer.

        A request answered ``unavailable``, or left unanswered by a lost
        connection, is sent again after a pause, until ``retry_timeout``.
        A write is resent only while no later write of this client may have
        been applied: a cluster takes a write whose seq is not above the last
        one it applied for the client as a retry, so resending an earlier one
        then would lose it. Such a write fails with its error instead.
        """
        with self._lock:
            requests = [self._with_origin(r) for r in requests]
            outcomes: List[Optional[Outcome]] = [None] * len(requests)
            pending = list(range(len(requests)))  # to send, in order
            deadline = time.monotonic() + self.retry_timeout
            pause = _FIRST_PAUSE
            while True:
                failed = self._attempt(requests, pending, outcomes)
                if failed and time.monotonic() + pause > deadline:
                    for i, (error, _) in failed.items():
                        outcomes[i] = error
                    break
                if not failed:
                    break
                retry = self._safe_to_retry(requests, outcomes, failed)
                for i, (error, _) in failed.items():
                    if i not in retry:
                        outcomes[i] = _not_retried(error)
                if not retry:
                    break
                time.sleep(pause)
                pause = min(pause * 2, _MAX_PAUSE)
                pending = sorted(retry)
            return [o if o is not None else ProtocolError("no answer") for o in outcomes]

    def _attempt(
        self,
        requests: List[Dict[str, Any]],
        pending: List[int],
        outcomes: List[Optional[Outcome]],
    ) -> Dict[int, Tuple[KvdError, bool]]:
        """Sends the requests at ``pending`` once. Fills ``outcomes`` with the
        final ones; returns the retryable failures, each with whether the
        request may have been executed."""
        failed: Dict[int, Tuple[KvdError, bool]] = {}
        try:
            conn = self._connection()
        except KvdError as e:  # kvd is not there (any more): that is the answer
            for i in pending:
                outcomes[i] = e
            return failed
        ids = []
        lines = []
        for i in pending:
            self._last_id += 1
            ids.append(self._last_id)
            lines.append(encode_request(requests[i], self._last_id))
        patience = sum(_wait_of(requests[i]) for i in pending)
        responses, sent, error = conn.exchange(lines, patience)
        closed_by_kvd = False  # after a closing error, kvd executes nothing more
        for k, (raw, i) in enumerate(zip(responses, pending)):
            try:
                response = decode_response(raw, ids[k])
            except ProtocolError as e:
                # The stream cannot be trusted from here on.
                self._drop()
                for j in pending[k:]:
                    outcomes[j] = e
                return failed
            if response.get("ok") is True:
                outcomes[i] = response
                continue
            e = error_of(response)
            if isinstance(e, UnavailableError):
                failed[i] = (e, True)
            else:
                outcomes[i] = e
            if e.code in CLOSING_CODES:
                closed_by_kvd = True
                self._drop()
        if error is not None or closed_by_kvd:
            self._drop()
            if error is None:
                error = KvdConnectionError(f"kvd at {self.socket_path} closed the connection")
            for k, i in enumerate(pending[len(responses):], start=len(responses)):
                if isinstance(error, KvdConnectionError):
                    failed[i] = (error, not closed_by_kvd and k < sent)
                else:  # a timeout: kvd may still be executing it
                    outcomes[i] = error
        return failed

    @staticmethod
    def _safe_to_retry(
        requests: List[Dict[str, Any]],
        outcomes: List[Optional[Outcome]],
        failed: Dict[int, Tuple[KvdError, bool]],
    ) -> Set[int]:
        """The failed requests that may be sent again: every read, and each
        write that no later write of this client may have overtaken."""
        # The highest seq of this batch's writes that may have been applied.
        highest = 0
        for i, request in enumerate(requests):
            if request.get("op") not in WRITE_OPS:
                continue
            if i in failed:
                may_be_applied = failed[i][1]
            else:  # a server error other than unavailable says it was not
                outcome = outcomes[i]
                may_be_applied = not isinstance(outcome, ServerError) or isinstance(
                    outcome, UnavailableError
                )
            if may_be_applied:
                highest = max(highest, request["seq"])
        return {
            i
            for i in failed
            if requests[i].get("op") not in WRITE_OPS or requests[i]["seq"] >= highest
        }

    def _with_origin(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """``request``, with this client's origin if it is a write."""
        if request.get("op") in WRITE_OPS:
            self._last_seq += 1
            request = dict(request, client=self.client_id, seq=self._last_seq)
        return request

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(self.socket_path, self.timeout)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _wait_of(request: Mapping[str, Any]) -> float:
    """How long kvd may hold ``request`` before it answers: a pop's wait."""
    wait = request.get("wait") if request.get("op") == "pop" else None
    if not isinstance(wait, (int, float)) or isinstance(wait, bool):
        return 0.0
    return max(0.0, float(wait))


def _not_retried(error: KvdError) -> KvdError:
    """``error`` for a write that could not be resent safely."""
    again = type(error)(
        f"{error.message} (not retried: a later write of this client may have been "
        "applied, so this one may or may not have been)",
        error.code,
    )
    return again


# --- requests and responses ---


def check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


def append_request(
    key: str,
    val: str,
    if_revision: Optional[int] = None,
    if_length: Optional[int] = None,
    ttl: Optional[int] = None,
) -> Dict[str, Any]:
    request: Dict[str, Any] = {
        "op": "append",
        "key": check_str("key", key),
        "val": check_str("val", val),
    }
    if if_revision is not None and if_length is not None:
        raise ValueError("if_revision and if_length cannot go together")
    for name, value in (("if_revision", if_revision), ("if_length", if_length)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an int, 0 or more, not {value!r}")
        request[name] = value
    if ttl is not None:
        request["ttl"] = check_int("ttl", ttl)
    return request


def expire_request(key: str, seconds: int) -> Dict[str, Any]:
    return {"op": "expire", "key": check_str("key", key), "seconds": check_int("seconds", seconds)}


def persist_request(key: str) -> Dict[str, Any]:
    return {"op": "persist", "key": check_str("key", key)}


def ttl_request(key: str, stale: bool) -> Dict[str, Any]:
    return read_request({"op": "ttl", "key": check_str("key", key)}, stale)


def append_many_request(items: Iterable[Tuple[str, str]]) -> Dict[str, Any]:
    return {
        "op": "append_many",
        "items": [{"key": check_str("key", k), "val": check_str("val", v)} for k, v in items],
    }


def get_request(
    key: str, stale: bool, start: Optional[int] = None, stop: Optional[int] = None
) -> Dict[str, Any]:
    request: Dict[str, Any] = {"op": "get", "key": check_str("key", key)}
    for name, value in (("start", start), ("stop", stop)):
        if value is not None:
            request[name] = check_int(name, value)
    return read_request(request, stale)


def len_request(key: str, stale: bool) -> Dict[str, Any]:
    return read_request({"op": "len", "key": check_str("key", key)}, stale)


def delete_request(key: str) -> Dict[str, Any]:
    return {"op": "delete", "key": check_str("key", key)}


def check_int(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def trim_request(key: str, start: int, stop: int) -> Dict[str, Any]:
    return {
        "op": "trim",
        "key": check_str("key", key),
        "start": check_int("start", start),
        "stop": check_int("stop", stop),
    }


def pop_request(key: str, count: int, tail: bool, wait: Optional[float]) -> Dict[str, Any]:
    request: Dict[str, Any] = {"op": "pop", "key": check_str("key", key)}
    if check_int("count", count) != 1:
        request["count"] = count
    if tail:
        request["from"] = "tail"
    if wait is not None:
        if not isinstance(wait, (int, float)) or isinstance(wait, bool):
            raise TypeError(f"wait must be a number of seconds, not {type(wait).__name__}")
        request["wait"] = wait
    return request


def keys_request(prefix: str, stale: bool) -> Dict[str, Any]:
    request: Dict[str, Any] = {"op": "keys"}
    if check_str("prefix", prefix):
        request["prefix"] = prefix
    return read_request(request, stale)


def read_request(request: Dict[str, Any], stale: bool) -> Dict[str, Any]:
    if stale:
        request["stale"] = True
    return request


def encode_request(request: Mapping[str, Any], request_id: int) -> bytes:
    """One request line. Text goes as UTF-8; a str holding a lone surrogate
    goes as its bytes too, so that kvd refuses it (invalid_utf8) instead of
    this client failing differently for it."""
    text = json.dumps(dict(request, id=request_id), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass") + b"\n"


def decode_response(line: bytes, request_id: int) -> Dict[str, Any]:
    """The response object on ``line``, which answers request ``request_id``
    (an error for a line kvd could not parse carries no id)."""
    try:
        response = json.loads(line)
    except ValueError as e:  # also bad UTF-8
        raise ProtocolError(f"kvd sent a line that is not JSON: {e}") from None
    if not isinstance(response, dict) or not isinstance(response.get("ok"), bool):
        raise ProtocolError(f"kvd sent a response of another shape: {line[:200]!r}")
    if "id" in response and response["id"] != request_id:
        raise ProtocolError(f"kvd answered request {response['id']!r} for {request_id}")
    return response


def error_of(response: Mapping[str, Any]) -> ServerError:
    """The exception for a response with ``"ok": false``."""
    error = response.get("error")
    if not isinstance(error, dict):
        return server_error("internal", "kvd sent a failure without an error object")
    revision = response.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        revision = 0
    return server_error(
        str(error.get("code", "internal")), str(error.get("message", "")), revision
    )


def _payload(response: Mapping[str, Any], name: str, kind: type) -> Any:
    value = response.get(name)
    if not isinstance(value, kind):
        raise ProtocolError(f"kvd sent no {name} ({kind.__name__})")
    return value


def values_of(response: Mapping[str, Any]) -> List[str]:
    return _payload(response, "values", list)


def values_and_revision_of(response: Mapping[str, Any]) -> Tuple[List[str], int]:
    values = values_of(response)
    revision = response.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise ProtocolError("kvd sent no revision (int) for get (a kvd from before revisions?)")
    return values, revision


def length_of(response: Mapping[str, Any]) -> int:
    length = response.get("length")
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise ProtocolError("kvd sent no length (int) for len")
    return length


def keys_of(response: Mapping[str, Any]) -> List[str]:
    return _payload(response, "keys", list)


def deleted_of(response: Mapping[str, Any]) -> bool:
    return bool(_payload(response, "deleted", bool))


def existed_of(response: Mapping[str, Any]) -> bool:
    return bool(_payload(response, "existed", bool))


def persisted_of(response: Mapping[str, Any]) -> bool:
    return bool(_payload(response, "persisted", bool))


def ttl_of(response: Mapping[str, Any]) -> int:
    ttl = response.get("ttl_ms")
    if not isinstance(ttl, int) or isinstance(ttl, bool):
        raise ProtocolError("kvd sent no ttl_ms (int) for ttl")
    return ttl


def stats_of(response: Mapping[str, Any]) -> Dict[str, int]:
    return _payload(response, "stats", dict)


def ok_of(response: Mapping[str, Any]) -> None:
    return None


def true_of(response: Mapping[str, Any]) -> bool:
    return True


# How each operation's response becomes its method's result.
ResultOf = Callable[[Mapping[str, Any]], Any]
