"""kvd_client: a Python client for kvd, the key -> list-of-strings daemon.

    from kvd_client import Client

    with Client() as kvd:            # the socket kvctl would use
        kvd.append("fruit", "apple")
        kvd.get("fruit")             # ["apple"]
        values, revision = kvd.get("fruit", with_revision=True)
        kvd.append("fruit", "pear", if_revision=revision)  # or raises Conflict
        with kvd.watch("fr") as changes:  # Change(revision, key, kind, values), as they come
            for change in changes: ...

The wire protocol is specified in kvd's proto/PROTOCOL.md.
"""

from .client import Client
from .errors import (
    Compacted,
    CompactedError,
    Conflict,
    ConflictError,
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
    SlowWatcher,
    SlowWatcherError,
    StorageError,
    TooManyConnectionsError,
    UnavailableError,
    UnknownOpError,
    ValueTooLargeError,
    WatchEnded,
)
from .pipeline import Pipeline
from .socket_path import default_socket_path
from .watch import Change, Watch

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Pipeline",
    "Watch",
    "Change",
    "default_socket_path",
    "KvdError",
    "KvdConnectionError",
    "KvdTimeoutError",
    "ProtocolError",
    "ServerError",
    "InvalidJsonError",
    "InvalidUtf8Error",
    "InvalidRequestError",
    "UnknownOpError",
    "LineTooLongError",
    "KeyTooLargeError",
    "ValueTooLargeError",
    "TooManyConnectionsError",
    "PermissionDeniedError",
    "StorageError",
    "UnavailableError",
    "Conflict",
    "ConflictError",
    "WatchEnded",
    "Compacted",
    "CompactedError",
    "SlowWatcher",
    "SlowWatcherError",
    "InternalError",
]
