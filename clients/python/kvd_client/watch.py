"""Watch: the changes kvd streams for a watch (PROTOCOL.md, "watch"), as an
iterator of Change, on a connection of its own."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional

from .connection import Connection
from .errors import KvdConnectionError, ProtocolError, ServerError, SlowWatcher

# The pauses between reconnections of a watch that resumes (as Client's retries).
_FIRST_PAUSE = 0.02
_MAX_PAUSE = 0.5


@dataclass(frozen=True)
class Change:
    """One change to the store, as a watch gives it.

    ``kind`` is ``"append"`` (``values``: the value appended), ``"trim"``
    (a trim or a pop; ``values``: the values it removed, in list order),
    ``"delete"`` (also of a key whose time came), ``"expire"`` or
    ``"persist"`` (``values``: [] for these). ``at_ms`` is, for an expire or
    an append with a TTL, the key's expiry time (Unix milliseconds), else 0.
    ``revision`` is the store revision the change made: a watch gives
    changes in revision order.
    """

    revision: int
    key: str
    kind: str
    values: List[str]
    at_ms: int = 0


class Watch:
    """The changes to the keys starting with a prefix, in revision order:
    an iterator of :class:`Change` that waits for each (made by
    :meth:`Client.watch`).

    It has a connection to kvd of its own; :meth:`close` (or leaving a
    ``with`` block) closes it, also from another thread, and ends the
    iteration. ``revision`` is the revision of the last change it gave (at
    first: the one it started after), from which a new watch goes on.
    """

    def __init__(
        self,
        socket_path: str,
        timeout: Optional[float],
        retry_timeout: float,
        prefix: str,
        from_revision: Optional[int],
        resume: bool,
        idle_timeout: Optional[float],
    ) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self.retry_timeout = retry_timeout
        self.prefix = prefix
        self.resume = resume
        self.idle_timeout = idle_timeout
        self.revision: int = 0
        self._from = from_revision
        self._started = False  # once: later connections go on from revision
        self._lock = threading.Lock()
        self._closed = False
        self._conn: Optional[Connection] = None
        self._open()

    # --- the iterator ---

    def __iter__(self) -> Iterator[Change]:
        return self

    def __next__(self) -> Change:
        """The next change, once kvd sends it.

        Raises what ended the watch: :class:`Compacted` or
        :class:`SlowWatcher` (with ``.revision``, where to watch from
        again), :class:`KvdConnectionError` (kvd stopped, or went away).
        With ``resume``, a :class:`SlowWatcher` end or a lost connection is
        followed by a new watch from ``revision`` instead (reconnecting
        until ``retry_timeout``), so that each change comes once: only a
        :class:`Compacted` one (the changes after ``revision`` are gone) or
        a failure past ``retry_timeout`` ends it then.
        :class:`KvdTimeoutError` when ``idle_timeout`` passes without a
        change: the watch goes on, and the next call waits again. After an
        end, or :meth:`close`, StopIteration."""
        deadline: Optional[float] = None
        pause = _FIRST_PAUSE
        while True:
            try:
                conn = self._connection()
                if conn is None:
                    raise StopIteration
                line = conn.read_line(self.idle_timeout, "send a change")
            except ServerError:
                self._end()  # a new watch refused: compacted
                raise
            except KvdConnectionError:
                if self._closed:
                    raise StopIteration from None
                self._drop()
                if not self.resume:
                    self._end()
                    raise
                if deadline is None:
                    deadline = time.monotonic() + self.retry_timeout
                if time.monotonic() + pause > deadline:
                    self._end()
                    raise
                time.sleep(pause)
                pause = min(pause * 2, _MAX_PAUSE)
                continue
            change = self._decode(line)
            if change is not None:
                self.revision = change.revision
                return change

    def close(self) -> None:
        """Closes the watch's connection; iterating then stops. Safe to call
        from another thread while one waits for a change, and more than once."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.shut_down()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        self._drop()

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    # --- the stream ---

    def _decode(self, line: bytes) -> Optional[Change]:
        """The change on ``line``; None after the end of a stream that
        resumes; raises the end of one that does not."""
        try:
            obj = json.loads(line)
        except ValueError as e:
            self._end()
            raise ProtocolError(f"kvd sent a line that is not JSON: {e}") from None
        if not isinstance(obj, dict):
            self._end()
            raise ProtocolError(f"kvd sent a line of another shape: {line[:200]!r}")
        if "ok" in obj:
            from .client import error_of

            error = error_of(obj)
            self._drop()
            if self.resume and isinstance(error, SlowWatcher):
                # Every change up to error.revision was sent: go on from there.
                self.revision = max(self.revision, error.revision)
                return None
            self._end()
            raise error
        return self._change(obj, line)

    def _change(self, obj: Dict[str, Any], line: bytes) -> Change:
        revision = obj.get("revision")
        key = obj.get("key")
        kind = obj.get("kind")
        values = obj.get("values")
        at_ms = obj.get("at_ms", 0)
        if (
            not isinstance(revision, int)
            or isinstance(revision, bool)
            or not isinstance(key, str)
            or not isinstance(kind, str)
            or not isinstance(values, list)
            or not all(isinstance(v, str) for v in values)
            or not isinstance(at_ms, int)
            or isinstance(at_ms, bool)
        ):
            self._end()
            raise ProtocolError(f"kvd sent a change of another shape: {line[:200]!r}")
        return Change(revision, key, kind, values, at_ms)

    # --- the connection ---

    def _open(self) -> None:
        """Starts the watch on a new connection: from ``from_revision`` at
        first, from ``revision`` once it has started. Raises kvd's refusal
        (:class:`Compacted`), or the connection's failure."""
        from .client import decode_response, encode_request, error_of

        request: Dict[str, Any] = {"op": "watch"}
        if self.prefix:
            request["prefix"] = self.prefix
        start = self.revision if self._started else self._from
        if start is not None:
            request["from"] = start
        conn = Connection(self.socket_path, self.timeout)
        try:
            responses, _, error = conn.exchange([encode_request(request, 1)])
            if error is not None:
                raise error
            response = decode_response(responses[0], 1)
            if response.get("ok") is not True:
                raise error_of(response)
            revision = response.get("revision")
            if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
                raise ProtocolError("kvd sent no revision (int) for watch")
        except BaseException:
            conn.close()
            raise
        with self._lock:
            if self._closed:
                conn.close()
                return
            self._conn = conn
        self.revision = revision
        self._started = True

    def _connection(self) -> Optional[Connection]:
        """The stream's connection, opened again if it was lost (for a watch
        that resumes); None once closed."""
        if self._closed:
            return None
        if self._conn is None:
            self._open()
        return self._conn

    def _drop(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _end(self) -> None:
        """Ends the watch: iterating further stops."""
        self._closed = True
        self._drop()
