"""Where kvd's socket is when the caller does not say: the rule kvd and kvctl
follow (proto/PROTOCOL.md, "Transport")."""

from __future__ import annotations

import os
from typing import Mapping, Optional

# The variables C++'s std::filesystem::temp_directory_path() reads on Linux,
# in its order; kvd and kvctl take their temp dir from it.
_TEMP_DIR_VARIABLES = ("TMPDIR", "TMP", "TEMP", "TEMPDIR")


def default_socket_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """``$KVD_SOCKET`` if set and not empty; else ``$XDG_RUNTIME_DIR/kvd.sock``
    if that is set and not empty; else ``kvd.sock`` in the temp dir: the
    first of ``$TMPDIR``, ``$TMP``, ``$TEMP``, ``$TEMPDIR`` that is set and
    not empty, else ``/tmp``.

    ``environ`` defaults to ``os.environ``.
    """
    env = os.environ if environ is None else environ
    if env.get("KVD_SOCKET"):
        return env["KVD_SOCKET"]
    if env.get("XDG_RUNTIME_DIR"):
        return os.path.join(env["XDG_RUNTIME_DIR"], "kvd.sock")
    for name in _TEMP_DIR_VARIABLES:
        if env.get(name):
            return os.path.join(env[name], "kvd.sock")
    return "/tmp/kvd.sock"
