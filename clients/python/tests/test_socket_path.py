"""The socket is found as kvctl finds it."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from kvd_client import Client, default_socket_path
from kvd_process import find_binary

# Environments and the socket each one names.
CASES = [
    ({"KVD_SOCKET": "/run/a.sock", "XDG_RUNTIME_DIR": "/run/7", "TMPDIR": "/var"}, "/run/a.sock"),
    ({"KVD_SOCKET": "", "XDG_RUNTIME_DIR": "/run/7"}, "/run/7/kvd.sock"),
    ({"XDG_RUNTIME_DIR": "/run/7/", "TMPDIR": "/var"}, "/run/7/kvd.sock"),
    ({"XDG_RUNTIME_DIR": "", "TMPDIR": "/var"}, "/var/kvd.sock"),
    ({"TMP": "/var"}, "/var/kvd.sock"),
    ({"TEMP": "/var", "TEMPDIR": "/usr"}, "/var/kvd.sock"),
    ({"TEMPDIR": "/usr"}, "/usr/kvd.sock"),
    ({}, "/tmp/kvd.sock"),
]


@pytest.mark.parametrize("env, expected", CASES)
def test_default_socket_path(env, expected) -> None:
    assert default_socket_path(env) == expected


@pytest.mark.parametrize("env, expected", CASES)
def test_kvctl_names_the_same_socket(env, expected) -> None:
    kvctl = find_binary("KVCTL_BIN", "build/client/kvctl")
    if kvctl is None:
        pytest.skip("no kvctl binary (KVCTL_BIN or build/client/kvctl)")
    # The temp dirs above exist: kvctl gives up on one that does not.
    names = ("KVD_SOCKET", "XDG_RUNTIME_DIR", "TMPDIR", "TMP", "TEMP", "TEMPDIR")
    environ = {k: v for k, v in os.environ.items() if k not in names}
    environ.update(env)
    run = subprocess.run(
        [kvctl, "--timeout", "0", "ping"], env=environ, capture_output=True, text=True
    )
    named = re.search(r"kvd at (\S+):", run.stderr)
    assert named is not None, run.stderr
    assert named.group(1) == default_socket_path(env)


def test_client_uses_kvd_socket_from_the_environment(kvd, monkeypatch) -> None:
    monkeypatch.setenv("KVD_SOCKET", kvd.socket)
    with Client() as c:
        assert c.socket_path == kvd.socket
        assert c.ping()
