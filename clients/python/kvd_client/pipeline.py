"""Pipeline: requests queued, then sent together and answered together."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from . import client as _client
from .errors import KvdError


class Pipeline:
    """Requests queued on a :class:`Client`, sent in one go by :meth:`execute`.

    Each method queues one request and returns the pipeline, so calls can
    be chained. ``execute`` writes every request before it waits for the
    first answer (reading while it writes), and returns the results in
    queue order, each what the Client method of the same name returns.
    kvd executes them in that order, a write in one commit with the writes
    next to it. A request answered ``unavailable`` or cut off by a lost
    connection is sent again as by :meth:`Client.call`, except a write that
    a later write of this client may have overtaken: a cluster would take
    it for a retry and drop it, so it fails instead (PROTOCOL.md, "Exactly
    once")::

        with client.pipeline() as p:
            p.append("k", "v1").append("k", "v2").get("k")
            results = p.execute()   # [None, None, ["v1", "v2"]]

    Leaving the ``with`` block discards requests not executed.
    """

    def __init__(self, client: "_client.Client") -> None:
        self._client = client
        self._requests: List[Dict[str, Any]] = []
        self._result_of: List[_client.ResultOf] = []

    def ping(self) -> "Pipeline":
        return self._queue({"op": "ping"}, _client.true_of)

    def append(
        self,
        key: str,
        val: str,
        if_revision: Optional[int] = None,
        if_length: Optional[int] = None,
        *,
        ttl: Optional[int] = None,
    ) -> "Pipeline":
        """Its result: None, or :class:`Conflict` if the condition did not
        hold, as :meth:`Client.append`."""
        request = _client.append_request(key, val, if_revision, if_length, ttl)
        return self._queue(request, _client.ok_of)

    def append_many(self, items: Iterable[Tuple[str, str]]) -> "Pipeline":
        return self._queue(_client.append_many_request(items), _client.ok_of)

    def get(
        self,
        key: str,
        stale: bool = False,
        with_revision: bool = False,
        *,
        start: Optional[int] = None,
        stop: Optional[int] = None,
    ) -> "Pipeline":
        """Its result: the values (those from ``start`` to ``stop`` if
        either is given), or with ``with_revision`` ``(values, revision)``,
        as :meth:`Client.get`."""
        request = _client.get_request(key, stale, start, stop)
        result_of = _client.values_and_revision_of if with_revision else _client.values_of
        return self._queue(request, result_of)

    def length(self, key: str, stale: bool = False) -> "Pipeline":
        """Its result: how many values ``key`` holds, as :meth:`Client.length`."""
        return self._queue(_client.len_request(key, stale), _client.length_of)

    def delete(self, key: str) -> "Pipeline":
        return self._queue(_client.delete_request(key), _client.deleted_of)

    def trim(self, key: str, start: int, stop: int) -> "Pipeline":
        """Its result: None, as :meth:`Client.trim`."""
        return self._queue(_client.trim_request(key, start, stop), _client.ok_of)

    def pop(
        self, key: str, count: int = 1, *, tail: bool = False, wait: Optional[float] = None
    ) -> "Pipeline":
        """Its result: the values taken, as :meth:`Client.pop`; a pop that
        waits holds up the requests after it."""
        return self._queue(_client.pop_request(key, count, tail, wait), _client.values_of)

    def expire(self, key: str, seconds: int) -> "Pipeline":
        """Its result: whether the key existed, as :meth:`Client.expire`."""
        return self._queue(_client.expire_request(key, seconds), _client.existed_of)

    def persist(self, key: str) -> "Pipeline":
        """Its result: whether an expiry was removed, as :meth:`Client.persist`."""
        return self._queue(_client.persist_request(key), _client.persisted_of)

    def ttl(self, key: str, stale: bool = False) -> "Pipeline":
        """Its result: the milliseconds left, as :meth:`Client.ttl`."""
        return self._queue(_client.ttl_request(key, stale), _client.ttl_of)

    def keys(self, prefix: str = "", stale: bool = False) -> "Pipeline":
        return self._queue(_client.keys_request(prefix, stale), _client.keys_of)

    def stats(self, stale: bool = False) -> "Pipeline":
        return self._queue(_client.read_request({"op": "stats"}, stale), _client.stats_of)

    def call(self, request: Mapping[str, Any]) -> "Pipeline":
        """Queues a request object as :meth:`Client.call` sends it; its
        result is the response object."""
        return self._queue(dict(request), dict)

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Sends the queued requests and returns their results in order;
        the queue is then empty. With ``raise_on_error`` (the default) the
        first failed request's :class:`KvdError` is raised once every
        request is answered; otherwise each failed request's exception
        takes its place in the list."""
        requests, result_of = self._requests, self._result_of
        self.reset()
        if not requests:
            return []
        results: List[Any] = []
        for outcome, convert in zip(self._client._run(requests), result_of):
            if not isinstance(outcome, KvdError):
                try:
                    outcome = convert(outcome)
                except KvdError as e:
                    outcome = e
            results.append(outcome)
        if raise_on_error:
            for result in results:
                if isinstance(result, KvdError):
                    raise result
        return results

    def reset(self) -> None:
        """Discards the queued requests."""
        self._requests = []
        self._result_of = []

    def __len__(self) -> int:
        return len(self._requests)

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reset()

    def _queue(self, request: Dict[str, Any], result_of: "_client.ResultOf") -> "Pipeline":
        self._requests.append(request)
        self._result_of.append(result_of)
        return self
