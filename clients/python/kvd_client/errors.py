"""The exceptions of kvd_client.

Every failure is a KvdError with a machine-readable ``code`` and a
human-readable ``message``. Codes that the server sends (proto/PROTOCOL.md,
"Errors") each have a class below; a code this client does not know arrives
as a plain ServerError keeping the code, since the protocol may add codes.
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class KvdError(Exception):
    """Any failure of a kvd request: ``code`` for programs, ``message`` for people."""

    code: str = "error"

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


# Failures on this side of the socket.


class KvdConnectionError(KvdError, ConnectionError):
    """kvd could not be reached, or the connection was lost before an answer.

    Also a builtin ConnectionError. A write that got this error may or may not
    have been applied.
    """

    code = "connection_lost"


class KvdTimeoutError(KvdError, TimeoutError):
    """kvd did not take or answer a request within the client's ``timeout``.

    Also a builtin TimeoutError. The request may or may not have been
    executed; the client closes the connection and opens a new one for the
    next request.
    """

    code = "timeout"


class ProtocolError(KvdError):
    """kvd sent something this client cannot read as a response."""

    code = "bad_response"


# Errors the server answers with: one class per code of PROTOCOL.md.


class ServerError(KvdError):
    """kvd answered the request with an error; ``code`` is the server's."""

    code = "server_error"


class InvalidJsonError(ServerError):
    """The request line was not exactly one JSON document."""

    code = "invalid_json"


class InvalidUtf8Error(ServerError):
    """The request held invalid UTF-8, or an unpaired surrogate (a lone
    ``\\ud800`` in a Python str). Nothing was stored."""

    code = "invalid_utf8"


class InvalidRequestError(ServerError):
    """The request was valid JSON but not a valid request."""

    code = "invalid_request"


class UnknownOpError(ServerError):
    """The server does not know the request's ``op``."""

    code = "unknown_op"


class LineTooLongError(ServerError):
    """The request line was over the server's ``--max-line``; kvd closed the
    connection (the client opens a new one for the next request)."""

    code = "line_too_long"


class KeyTooLargeError(ServerError):
    """A key or prefix was over the server's ``--max-key-size``; nothing happened."""

    code = "key_too_large"


class ValueTooLargeError(ServerError):
    """A value was over the server's ``--max-value-size``; nothing happened."""

    code = "value_too_large"


class TooManyConnectionsError(ServerError):
    """kvd already serves ``--max-connections`` clients and refused this one."""

    code = "too_many_connections"


class PermissionDeniedError(ServerError):
    """kvd refused this process (``--allow-uid`` / ``--allow-gid``)."""

    code = "permission_denied"


class StorageError(ServerError):
    """The write could not be made durable and did not happen; safe to retry."""

    code = "storage_error"


class UnavailableError(ServerError):
    """Cluster mode: no leader could take the request. The client retries it
    until its ``retry_timeout``; raised once that is spent. A write that got
    this error may or may not have been applied."""

    code = "unavailable"


class Conflict(ServerError):
    """A conditional append (``if_revision`` / ``if_length``) whose condition
    did not hold: nothing was appended. ``revision`` is the key's revision
    read right after (0 for a missing key): read the key again, then retry
    with what you read. Also known as ``ConflictError``."""

    code = "conflict"

    def __init__(self, message: str, code: Optional[str] = None, revision: int = 0) -> None:
        super().__init__(message, code)
        self.revision = revision


ConflictError = Conflict


class WatchEnded(ServerError):
    """A watch (:meth:`Client.watch`) that kvd refused or ended. ``revision``
    is the revision to watch from again; ``code`` says which of the
    subclasses it is."""

    code = "watch_ended"

    def __init__(self, message: str, code: Optional[str] = None, revision: int = 0) -> None:
        super().__init__(message, code)
        self.revision = revision


class Compacted(WatchEnded):
    """The changes after the revision a watch asked for are no longer kept
    by kvd: ``revision`` is the oldest a watch may start from. Read the keys
    again, then watch from there. Also known as ``CompactedError``."""

    code = "compacted"


CompactedError = Compacted


class SlowWatcher(WatchEnded):
    """A watch fell so far behind the changes that kvd ended it: every change
    up to ``revision`` was sent, so a watch from ``revision`` goes on
    without a gap (``watch(resume=True)`` does that by itself). Also known
    as ``SlowWatcherError``."""

    code = "slow_watcher"


SlowWatcherError = SlowWatcher


class InternalError(ServerError):
    """A bug in kvd, as kvd reports it."""

    code = "internal"


SERVER_ERRORS: Dict[str, Type[ServerError]] = {
    cls.code: cls
    for cls in (
        InvalidJsonError,
        InvalidUtf8Error,
        InvalidRequestError,
        UnknownOpError,
        LineTooLongError,
        KeyTooLargeError,
        ValueTooLargeError,
        TooManyConnectionsError,
        PermissionDeniedError,
        StorageError,
        UnavailableError,
        Conflict,
        Compacted,
        SlowWatcher,
        InternalError,
    )
}

# Codes after which kvd closes the connection (PROTOCOL.md, "Errors").
CLOSING_CODES = frozenset({"line_too_long", "too_many_connections", "permission_denied"})


def server_error(code: str, message: str, revision: int = 0) -> ServerError:
    """The exception for an error response with ``code`` and ``message``
    (``revision``: a conflict's, the key's current revision; a watch's end's,
    where to watch from again)."""
    if code == Conflict.code:
        return Conflict(message, code, revision)
    if code == Compacted.code:
        return Compacted(message, code, revision)
    if code == SlowWatcher.code:
        return SlowWatcher(message, code, revision)
    return SERVER_ERRORS.get(code, ServerError)(message, code)
