"""The team-mode online store: one Redis hash per (view, entity key).

A Lua script writes a batch: each key's hash (event time ``t`` and values ``v`` as JSON)
is replaced only when the new event time is not older, and a script runs atomically, so
a reader never sees a mix of two writes of one entity row. A lookup is one pipelined
round trip of ``HMGET``s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis

from steward.errors import StorageError
from steward.features._ports import OnlineRow

from ._encoding import encoded_by_view

__all__ = ["RedisOnlineStore"]

_WRITE = """
local n = 0
for i = 1, #KEYS do
  local t = tonumber(ARGV[2 * i - 1])
  local cur = redis.call('HGET', KEYS[i], 't')
  if (not cur) or tonumber(cur) < t or (tonumber(cur) == t and redis.call('HGET', KEYS[i], 'v') ~= ARGV[2 * i]) then
    redis.call('HSET', KEYS[i], 't', ARGV[2 * i - 1], 'v', ARGV[2 * i])
    n = n + 1
  end
end
return n
"""
_BATCH = 1000


class RedisOnlineStore:
    """Online values in Redis under ``<prefix><view>:<entity key>``."""

    def __init__(self, url: str, *, prefix: str = "steward:features:") -> None:
        self._client: Any = redis.Redis.from_url(url)  # Any: redis-py ships partial types
        self._prefix = prefix
        self._script: Any = self._client.register_script(_WRITE)  # Any: see above

    def _key(self, view: str, entity_key: str) -> str:
        return f"{self._prefix}{view}:{entity_key}"

    def write(self, rows: Sequence[OnlineRow]) -> int:
        return sum(self.write_json(view, encoded) for view, encoded in encoded_by_view(rows).items())

    def write_json(self, view: str, rows: Sequence[tuple[str, int, str]]) -> int:
        changed = 0
        try:
            for start in range(0, len(rows), _BATCH):
                chunk = rows[start:start + _BATCH]
                args: list[Any] = []  # Any: str and int arguments of the script
                for _key, event_ms, payload in chunk:
                    args += [event_ms, payload]
                changed += int(self._script(keys=[self._key(view, key) for key, _t, _p in chunk], args=args))
        except redis.RedisError as exc:
            raise StorageError(f"the Redis online store refused the write: {exc}") from exc
        return changed

    def read(self, keys: Sequence[tuple[str, str]]) -> list[OnlineRow | None]:
        if not keys:
            return []
        try:
            pipe = self._client.pipeline(transaction=False)
            for view, entity_key in keys:
                pipe.hmget(self._key(view, entity_key), "t", "v")
            answers = pipe.execute()
        except redis.RedisError as exc:
            raise StorageError(f"the Redis online store cannot be read: {exc}") from exc
        found: list[OnlineRow | None] = []
        for (view, entity_key), (t, v) in zip(keys, answers, strict=True):
            found.append(None if t is None or v is None else OnlineRow(view, entity_key, int(t), json.loads(v)))
        return found

    def delete_prefix(self) -> int:
        """Remove every key of this store's prefix (tests)."""
        removed = 0
        batch: list[bytes] = []
        for key in self._client.scan_iter(match=self._prefix + "*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                removed += int(self._client.unlink(*batch))
                batch = []
        if batch:
            removed += int(self._client.unlink(*batch))
        return removed

    def close(self) -> None:
        self._client.close()
