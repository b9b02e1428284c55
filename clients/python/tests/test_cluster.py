"""A three-node cluster whose leader is killed while clients write."""

from __future__ import annotations

import concurrent.futures
import signal
import threading
import time
from typing import Dict, List

import pytest

from kvd_client import Client, KvdError
from kvd_process import Kvd, free_loopback_ports


@pytest.fixture
def cluster(start_kvd, tmp_dir) -> List[Kvd]:
    ports = free_loopback_ports(3)
    peers = ",".join(f"{n}=127.0.0.1:{port}" for n, port in zip((1, 2, 3), ports))
    nodes = [
        start_kvd(
            "--node",
            str(n),
            "--peers",
            peers,
            socket_path=tmp_dir / f"node{n}.sock",
            data=tmp_dir / f"node{n}.data",
        )
        for n in (1, 2, 3)
    ]
    wait_for_leader(nodes)
    return nodes


def wait_for_leader(nodes: List[Kvd], dead: int = 0, timeout: float = 30) -> int:
    """The leader's node id, once every node in ``nodes`` knows the same one,
    other than node ``dead``."""
    deadline = time.monotonic() + timeout
    while True:
        leaders = set()
        for node in nodes:
            with Client(node.socket, retry_timeout=0) as c:
                leaders.add(c.stats(stale=True)["raft_leader"])
        if len(leaders) == 1 and not leaders & {0, dead}:
            return leaders.pop()
        assert time.monotonic() < deadline, f"no leader agreed on: {leaders}"
        time.sleep(0.05)


def wait_for_acknowledged(acknowledged: Dict[str, List[str]], counts: Dict[str, int]) -> None:
    deadline = time.monotonic() + 30
    while any(len(acknowledged[key]) < n for key, n in counts.items()):
        got = {key: len(values) for key, values in acknowledged.items()}
        assert time.monotonic() < deadline, f"writes stalled at {got}, waiting for {counts}"
        time.sleep(0.02)


def test_every_acknowledged_append_is_stored_once_across_a_leader_kill(cluster) -> None:
    leader = wait_for_leader(cluster)
    follower = next(node for n, node in enumerate(cluster, 1) if n != leader)
    stop = threading.Event()
    acknowledged = {"single": [], "pipelined": []}
    failed = {"single": [], "pipelined": []}  # may or may not have been applied

    def write_one_by_one() -> None:
        with Client(follower.socket, retry_timeout=10) as c:
            i = 0
            while not stop.is_set():
                try:
                    c.append("single", str(i))
                    acknowledged["single"].append(str(i))
                except KvdError:
                    failed["single"].append(str(i))
                i += 1

    def write_in_pipelines() -> None:
        with Client(follower.socket, retry_timeout=10) as c:
            i = 0
            while not stop.is_set():
                p = c.pipeline()
                values = [str(n) for n in range(i, i + 50)]
                for v in values:
                    p.append("pipelined", v)
                for v, result in zip(values, p.execute(raise_on_error=False)):
                    outcome = failed if isinstance(result, KvdError) else acknowledged
                    outcome["pipelined"].append(v)
                i += 50

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        writers = [pool.submit(write_one_by_one), pool.submit(write_in_pipelines)]
        try:
            wait_for_acknowledged(acknowledged, {"single": 100, "pipelined": 100})
            before = {key: len(values) for key, values in acknowledged.items()}
            cluster[leader - 1].stop(signal.SIGKILL)
            survivors = [node for n, node in enumerate(cluster, 1) if n != leader]
            wait_for_leader(survivors, dead=leader)
            wait_for_acknowledged(acknowledged, {key: n + 100 for key, n in before.items()})
        finally:
            stop.set()
            for writer in writers:
                writer.result(timeout=60)

    with Client(follower.socket, retry_timeout=10) as c:
        for key in ("single", "pipelined"):
            stored = c.get(key)
            counts = {}
            for v in stored:
                counts[v] = counts.get(v, 0) + 1
            assert all(counts.get(v) == 1 for v in acknowledged[key]), key
            assert all(counts.get(v, 0) <= 1 for v in failed[key]), key
            assert set(stored) <= set(acknowledged[key]) | set(failed[key]), key
            # One writer each, waiting for each answer or pipeline: stored in order.
            assert stored == sorted(stored, key=int), key
