"""pip installs the package offline from the checkout."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def test_pip_installs_it_offline(tmp_dir) -> None:
    for module in ("pip", "setuptools", "wheel"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed for {sys.executable}")
    # pip builds in the source folder: build from a copy, leaving the checkout as it is.
    source = tmp_dir / "source"
    leave_out = shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info")
    shutil.copytree(PACKAGE, source, ignore=leave_out)
    target = tmp_dir / "target"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    offline = ["--no-build-isolation", "--no-index"]
    subprocess.run([*pip, *offline, "--target", str(target), str(source)], check=True)
    imported = subprocess.run(
        [sys.executable, "-c", "import kvd_client; print(kvd_client.__file__, kvd_client.Client)"],
        env={"PYTHONPATH": str(target)},
        cwd=str(tmp_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.split()[0] == str(target / "kvd_client" / "__init__.py")
    assert "kvd_client.client.Client" in imported.stdout
    assert (target / "kvd_client" / "py.typed").exists()
