"""Fixtures: real kvd processes on temporary sockets and data files.

The kvd under test is ``$KVD_BIN``, else the checkout's build/daemon/kvd.
The package under test is the one beside this folder, not an installed one.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kvd_process import Kvd, find_binary  # noqa: E402

import kvd_client  # noqa: E402


@pytest.fixture(scope="session")
def kvd_bin() -> str:
    binary = find_binary("KVD_BIN", "build/daemon/kvd")
    if binary is None:
        pytest.fail("no kvd binary: build it (build/daemon/kvd) or set KVD_BIN", pytrace=False)
    return binary


@pytest.fixture
def tmp_dir() -> Iterator[Path]:
    """A fresh directory, removed after the test. Short, for socket paths
    (at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="kvd-py-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_kvd(kvd_bin: str, tmp_dir: Path) -> Iterator[Callable[..., Kvd]]:
    """Starts a kvd in the test's directory: start_kvd(*args, **Kvd options).
    Every kvd started is killed at the end of the test if still running."""
    started: List[Kvd] = []

    def start(*args: str, **options) -> Kvd:
        options.setdefault("directory", tmp_dir)
        wait = options.pop("wait", True)
        daemon = Kvd(kvd_bin, args=args, wait=False, **options)
        started.append(daemon)
        if wait:
            daemon.wait_ready()
        return daemon

    try:
        yield start
    finally:
        for daemon in started:
            daemon.end()


@pytest.fixture
def kvd(start_kvd: Callable[..., Kvd]) -> Kvd:
    """A kvd on its defaults (fsync always), but for socket and data file."""
    return start_kvd()


@pytest.fixture
def client(kvd: Kvd) -> Iterator[kvd_client.Client]:
    with kvd_client.Client(kvd.socket, timeout=30) as c:
        yield c
