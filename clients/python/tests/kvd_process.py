"""kvd processes for the tests, each on a socket and data file of its own.

Every process is started here and ended here by its PID; the fixtures in
conftest.py end those still running when a test ends, failed or not.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[3]


def find_binary(env_name: str, relative: str) -> Optional[str]:
    """``$env_name`` if set, else the build tree's ``relative``; None if neither exists."""
    path = os.environ.get(env_name) or str(REPO / relative)
    return path if os.access(path, os.X_OK) else None


def _die_with_parent() -> None:
    # Run in the child before exec: if the test run is killed, so is kvd.
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class Kvd:
    """A kvd started on ``socket`` and ``data`` with ``args``, serving once
    the constructor returns. ``preexec`` runs in the child before exec."""

    def __init__(
        self,
        binary: str,
        directory: Path,
        args: Sequence[str] = (),
        socket_path: Optional[Path] = None,
        data: Optional[Path] = None,
        preexec: Optional[Callable[[], None]] = None,
        wait: bool = True,
    ) -> None:
        self.binary = binary
        self.directory = directory
        self.socket = str(socket_path or directory / "kvd.sock")
        self.data = str(data or directory / "storage.data")
        self.args = list(args)
        self.log_path = directory / f"kvd-{Path(self.socket).stem}.log"
        self.preexec = preexec
        self.process: Optional[subprocess.Popen] = None
        self.start(wait)

    def start(self, wait: bool = True) -> None:
        """Starts kvd (again, on the same files)."""

        def preexec() -> None:
            _die_with_parent()
            if self.preexec is not None:
                self.preexec()

        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--socket", self.socket, "--data", self.data, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=preexec,
            )
        if wait:
            self.wait_ready()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Returns once the socket takes connections; fails if kvd exits first."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise RuntimeError(f"kvd exited ({self.process.returncode}):\n{self.log()}")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(self.socket)
                    return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"kvd did not serve within {timeout} s:\n{self.log()}")
            time.sleep(0.02)

    def send_signal(self, signo: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signo)

    def stop(self, signo: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Sends ``signo`` and waits for the exit; returns the exit status
        (negative: killed by that signal). SIGKILL after ``timeout``."""
        assert self.process is not None
        if self.running():
            self.send_signal(signo)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.send_signal(signal.SIGKILL)
            self.process.wait()
            raise

    def end(self) -> None:
        """Kills kvd if it still runs (test clean-up)."""
        if self.running():
            self.send_signal(signal.SIGCONT)  # in case a test stopped it
            self.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_loopback_ports(count: int) -> List[int]:
    """``count`` TCP ports in 20000-32767 that are free on 127.0.0.1 now
    (below Linux's ephemeral range, where outgoing connections take theirs)."""
    import random

    ports: List[int] = []
    candidates = random.sample(range(20000, 32768), 400)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError("no free loopback ports in 20000-32767")
