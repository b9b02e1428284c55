"""Client.watch against a real kvd: the changes in order, by prefix, each
once across a resume; kvd's ends of a watch (compacted, slow_watcher)."""

from __future__ import annotations

import threading
import time
from typing import List

import pytest

from kvd_client import (
    Change,
    Client,
    Compacted,
    KvdConnectionError,
    KvdTimeoutError,
    SlowWatcher,
    WatchEnded,
)


def take(watch, n: int) -> List[Change]:
    return [next(watch) for _ in range(n)]


def eventually(done, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_changes_come_in_revision_order_with_their_kind_and_values(client: Client) -> None:
    client.append("before", "x")  # 1: before the watch
    with client.watch(idle_timeout=10) as watch:
        assert watch.revision == 1, "it starts after the store's revision"
        client.append("k", "a")  # 2
        client.append_many([("k", "b"), ("k", "c"), ("j", "\u00e9\n\"")])  # 3, 4, 5
        assert client.pop("k", 2, tail=True) == ["c", "b"]  # 6
        client.trim("k", 0, 0)  # no value removed: no change
        client.delete("j")  # 7
        changes = take(watch, 6)
        assert changes == [
            Change(2, "k", "append", ["a"]),
            Change(3, "k", "append", ["b"]),
            Change(4, "k", "append", ["c"]),
            Change(5, "j", "append", ["\u00e9\n\""]),
            Change(6, "k", "trim", ["b", "c"]),
            Change(7, "j", "delete", []),
        ]
        assert watch.revision == 7
        assert client.stats()["watchers"] == 1
        with pytest.raises(KvdTimeoutError):
            watch.idle_timeout = 0.2
            next(watch)
        watch.idle_timeout = 10
        client.append("k", "after a timeout")  # 8
        assert next(watch) == Change(8, "k", "append", ["after a timeout"])
    assert eventually(lambda: client.stats()["watchers"] == 0), "closing closes its connection"
    with pytest.raises(StopIteration):
        next(watch)


def test_a_prefix_and_a_from_revision(client: Client) -> None:
    for key in ("fruit", "veg", "fruit", "fig"):
        client.append(key, key)  # 1 to 4
    with client.watch("f", from_revision=1, idle_timeout=10) as watch:
        assert watch.revision == 1
        client.append("veg", "leek")  # 5
        client.append("fr", "x")  # 6
        assert take(watch, 3) == [
            Change(3, "fruit", "append", ["fruit"]),
            Change(4, "fig", "append", ["fig"]),
            Change(6, "fr", "append", ["x"]),
        ]
    with pytest.raises(ValueError):
        client.watch(from_revision=-1)
    with pytest.raises(TypeError):
        client.watch(b"f")  # type: ignore[arg-type]


def test_close_from_another_thread_ends_a_waiting_iteration(client: Client) -> None:
    watch = client.watch()
    got: List[object] = []

    def iterate() -> None:
        got.extend(watch)  # ends with StopIteration once closed

    thread = threading.Thread(target=iterate)
    thread.start()
    client.append("k", "v")
    assert eventually(lambda: len(got) == 1)
    watch.close()
    thread.join(10)
    assert not thread.is_alive()
    assert [c.key for c in got] == ["k"]  # type: ignore[attr-defined]


def test_resume_after_a_lost_connection_gives_each_change_once(client: Client, kvd) -> None:
    with client.watch("k", resume=True, idle_timeout=10) as watch:
        for i in range(5):
            client.append("k", str(i))  # 1 to 5
        assert [c.values[0] for c in take(watch, 2)] == ["0", "1"]
        # The connection breaks with changes 3 to 5 sent but not yet taken.
        watch._conn.shut_down()  # type: ignore[union-attr]
        assert [c.revision for c in take(watch, 3)] == [3, 4, 5]
        # kvd restarts: the watch reconnects and goes on from revision 5.
        assert kvd.stop() == 0
        kvd.start()
        client.append("k", "5")  # 6
        client.append("other", "x")  # 7
        client.append("k", "6")  # 8
        assert [(c.revision, c.values) for c in take(watch, 2)] == [(6, ["5"]), (8, ["6"])]


def test_without_resume_a_stopping_kvd_ends_the_watch(client: Client, kvd) -> None:
    watch = client.watch(idle_timeout=10)
    assert kvd.stop() == 0
    with pytest.raises(KvdConnectionError):
        next(watch)
    with pytest.raises(StopIteration):
        next(watch)


def test_a_from_revision_no_longer_kept_is_compacted(client: Client) -> None:
    # About 18 MiB of changes: more than the history kvd keeps (16 MiB), so
    # the oldest are gone.
    value = "v" * (900 * 1024)
    for _ in range(20):
        client.append("big", value)
    with pytest.raises(Compacted) as caught:
        client.watch("k", from_revision=1)
    assert isinstance(caught.value, WatchEnded)
    assert caught.value.code == "compacted"
    assert 1 < caught.value.revision < 20
    with client.watch("k", from_revision=caught.value.revision, idle_timeout=10) as watch:
        client.append("k", "after")
        assert next(watch) == Change(21, "k", "append", ["after"])


def test_a_watch_that_falls_behind_ends_or_resumes(client: Client) -> None:
    # About 14 MiB of changes that the watches do not take meanwhile: more
    # than half the history kvd keeps (16 MiB), not more than all of it.
    value = "v" * (900 * 1024)
    count = 16
    ended = client.watch(idle_timeout=30)
    resumed = client.watch(resume=True, idle_timeout=30)
    for _ in range(count):
        client.append("big", value)
    revisions = []
    with pytest.raises(SlowWatcher) as caught:
        for change in ended:
            revisions.append(change.revision)
    assert caught.value.code == "slow_watcher"
    assert caught.value.revision == revisions[-1] < count, "every change up to it was sent"
    # A resuming watch takes them all, each once.
    assert [c.revision for c in take(resumed, count)] == list(range(1, count + 1))
    assert client.stats()["slow_watchers_cut_off"] >= 2
    resumed.close()


def test_expiry_comes_as_changes_of_its_own(client: Client) -> None:
    with client.watch("t", idle_timeout=10) as watch:
        client.append("t", "v", ttl=100)  # 1
        assert client.persist("t")  # 2
        assert client.expire("t", 1)  # 3
        appended, persisted, expired, deleted = take(watch, 4)
    assert (appended.kind, appended.values) == ("append", ["v"])
    assert appended.at_ms > time.time() * 1000 + 90_000, "the TTL's end"
    assert persisted == Change(2, "t", "persist", [])
    assert expired.kind == "expire" and expired.at_ms > 0
    assert deleted == Change(4, "t", "delete", []), "its time came"
