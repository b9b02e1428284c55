"""A stand-in for kvd on a Unix socket, for behaviour a real kvd does not
show on demand: answers held back, wrong ids, unknown error codes, garbage."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Callable, List


class FakeKvd:
    """Serves one connection at a time at ``path`` with ``handle(conn)``, in
    a thread; a context manager that stops it on exit."""

    def __init__(self, path: Path, handle: Callable[[socket.socket], None]) -> None:
        self.path = str(path)
        self._handle = handle
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.errors: List[BaseException] = []

    def __enter__(self) -> "FakeKvd":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # shutdown() wakes the thread blocked in accept().
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the fake kvd did not stop"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                try:
                    self._handle(conn)
                except OSError:
                    pass  # the client went away
                except BaseException as e:  # noqa: BLE001 (shown by the test)
                    self.errors.append(e)


def read_lines(conn: socket.socket, count: int) -> List[bytes]:
    """Reads ``count`` complete lines from ``conn`` (fewer if it closes)."""
    data = b""
    while data.count(b"\n") < count:
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[:count]
