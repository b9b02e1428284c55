"""One Unix socket connection to kvd: request lines out, response lines in."""

from __future__ import annotations

import bisect
import selectors
import socket
from typing import List, Optional, Sequence, Tuple

from .errors import KvdConnectionError, KvdError, KvdTimeoutError

_READ_SIZE = 1 << 16
# Bytes handed to one send(): large enough to fill the socket buffer.
_SEND_SIZE = 1 << 18


class Connection:
    """A connected socket to kvd at ``path``.

    ``timeout`` (seconds, None: no limit) bounds connecting and every wait
    for kvd to take request bytes or to send response bytes.
    """

    def __init__(self, path: str, timeout: Optional[float]) -> None:
        self.path = path
        self.timeout = timeout
        self._buffer = bytearray()  # received bytes after the last complete line
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(path)
        except socket.timeout:
            self._sock.close()
            raise KvdTimeoutError(
                f"cannot connect to kvd at {path}: no answer within {timeout} s"
            ) from None
        except OSError as e:
            self._sock.close()
            raise KvdConnectionError(
                f"cannot connect to kvd at {path}: {e.strerror or e}", "unreachable"
            ) from e

    def close(self) -> None:
        self._sock.close()

    def shut_down(self) -> None:
        """Ends the connection in both directions, waking a thread blocked in
        :meth:`read_line` (which then raises :class:`KvdConnectionError`);
        :meth:`close` still follows."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # not connected any more

    def read_line(self, timeout: Optional[float], what: str = "send a line") -> bytes:
        """The next line kvd sends (without its newline), waiting for it up
        to ``timeout`` seconds (None: without limit); for the lines a
        watch streams after its response. :class:`KvdTimeoutError` when none
        came in time (the connection stays usable),
        :class:`KvdConnectionError` when the connection ended."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            try:
                self._sock.settimeout(timeout)
                data = self._sock.recv(_READ_SIZE)
            except socket.timeout:
                raise self._timed_out(what, timeout) from None
            except OSError as e:
                raise self._lost(e) from None
            if not data:
                raise self._lost(None)
            self._buffer += data

    def exchange(
        self, lines: Sequence[bytes], patience: float = 0.0
    ) -> Tuple[List[bytes], int, Optional[KvdError]]:
        """Sends ``lines`` (each ending in a newline) and reads as many
        response lines (without their newline).

        Returns the responses received, how many request lines were handed
        to the socket in full, and the error that ended the exchange early
        (None once every response arrived). After an error the connection
        is unusable. Reads while it sends, since kvd stops reading a
        connection whose responses are not being taken. ``patience``:
        seconds kvd may take on top of ``timeout`` (the waits of pops).
        """
        timeout = self.timeout if self.timeout is None else self.timeout + patience
        if len(lines) == 1:
            return self._exchange_one(lines[0], timeout)
        return self._exchange_many(lines, timeout)

    def _exchange_one(
        self, line: bytes, timeout: Optional[float]
    ) -> Tuple[List[bytes], int, Optional[KvdError]]:
        # One request cannot fill both directions' buffers: blocking calls do.
        self._sock.settimeout(timeout)
        try:
            return self._send_and_read_one(line, timeout)
        finally:
            if self._sock.fileno() >= 0:
                self._sock.settimeout(self.timeout)

    def _send_and_read_one(
        self, line: bytes, timeout: Optional[float]
    ) -> Tuple[List[bytes], int, Optional[KvdError]]:
        sent = 1
        write_error: Optional[OSError] = None
        try:
            self._sock.sendall(line)
        except socket.timeout:
            return [], 0, self._timed_out("take the request", timeout)
        except OSError as e:
            # kvd may have said why before it hung up (a closing error): read that.
            sent, write_error = 0, e
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                response = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return [response], sent, None
            try:
                data = self._sock.recv(_READ_SIZE)
            except socket.timeout:
                return [], sent, self._timed_out("answer", timeout)
            except OSError as e:
                return [], sent, self._lost(write_error or e)
            if not data:
                return [], sent, self._lost(write_error)
            self._buffer += data

    def _exchange_many(
        self, lines: Sequence[bytes], timeout: Optional[float]
    ) -> Tuple[List[bytes], int, Optional[KvdError]]:
        out = memoryview(b"".join(lines))
        ends = []  # offset just past each line in `out`
        total = 0
        for line in lines:
            total += len(line)
            ends.append(total)
        offset = 0
        responses: List[bytes] = []
        write_error: Optional[OSError] = None
        self._sock.setblocking(False)
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while len(responses) < len(lines):
                events = selector.select(timeout)
                if not events:
                    error = self._timed_out("answer", timeout)
                    return responses, self._lines_sent(ends, offset), error
                mask = events[0][1]
                if mask & selectors.EVENT_WRITE:
                    try:
                        offset += self._sock.send(out[offset : offset + _SEND_SIZE])
                    except BlockingIOError:
                        pass
                    except OSError as e:
                        write_error = e  # go on reading what kvd sent before it hung up
                    if offset == len(out) or write_error is not None:
                        selector.modify(self._sock, selectors.EVENT_READ)
                if mask & selectors.EVENT_READ:
                    try:
                        data = self._sock.recv(_READ_SIZE)
                    except BlockingIOError:
                        continue
                    except OSError as e:
                        error = self._lost(write_error or e)
                        return responses, self._lines_sent(ends, offset), error
                    if not data:
                        return responses, self._lines_sent(ends, offset), self._lost(write_error)
                    self._buffer += data
                    end = self._buffer.rfind(b"\n")
                    if end >= 0:
                        responses.extend(bytes(self._buffer[:end]).split(b"\n"))
                        del self._buffer[: end + 1]
            return responses, len(lines), None
        finally:
            selector.close()
            if self._sock.fileno() >= 0:
                self._sock.settimeout(self.timeout)

    @staticmethod
    def _lines_sent(ends: List[int], offset: int) -> int:
        return bisect.bisect_right(ends, offset)

    def _timed_out(self, what: str, timeout: Optional[float]) -> KvdTimeoutError:
        return KvdTimeoutError(f"kvd at {self.path} did not {what} within {timeout} s")

    def _lost(self, cause: Optional[OSError]) -> KvdConnectionError:
        reason = (cause.strerror or str(cause)) if cause is not None else "closed by kvd"
        return KvdConnectionError(f"lost the connection to kvd at {self.path}: {reason}")
