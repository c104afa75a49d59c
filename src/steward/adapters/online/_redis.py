"""The team-mode online store: one Redis string per (view, entity key).

The value is ``<event ms>,<values as a JSON object>``. A Lua script writes a batch: each
key is replaced only when the new event time is not older, and a script runs atomically,
so a reader never sees a mix of two writes of one entity row. A lookup is one ``MGET``
whose answers are joined into one JSON text and decoded by one orjson call.

Keys are ``<prefix>v2:<view>:<entity key>``. The first layout (a hash per key, without
``v2:``) is not read: the online store is a cache that ``steward features materialize``
rebuilds, so after an upgrade materialise again (``delete_prefix`` removes both layouts).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
import redis

from steward.errors import StorageError
from steward.features._ports import OnlineRow

from ._encoding import encoded_by_view

__all__ = ["RedisOnlineStore"]

_WRITE = """
local n = 0
for i = 1, #KEYS do
  local t = tonumber(ARGV[2 * i - 1])
  local new = ARGV[2 * i - 1] .. ',' .. ARGV[2 * i]
  local cur = redis.call('GET', KEYS[i])
  local write = not cur
  if cur then
    local ct = tonumber(string.match(cur, '^(%-?%d+),'))
    write = (ct == nil) or ct < t or (ct == t and cur ~= new)
  end
  if write then
    redis.call('SET', KEYS[i], new)
    n = n + 1
  end
end
return n
"""
_BATCH = 1000


class RedisOnlineStore:
    """Online values in Redis under ``<prefix>v2:<view>:<entity key>``."""

    def __init__(self, url: str, *, prefix: str = "steward:features:") -> None:
        self._client: Any = redis.Redis.from_url(url)  # Any: redis-py ships partial types
        self._prefix = prefix
        self._script: Any = self._client.register_script(_WRITE)  # Any: see above

    def _key(self, view: str, entity_key: str) -> str:
        return f"{self._prefix}v2:{view}:{entity_key}"

    def write(self, rows: Sequence[OnlineRow]) -> int:
        return sum(self.write_json(view, encoded) for view, encoded in encoded_by_view(rows).items())

    def write_json(self, view: str, rows: Sequence[tuple[str, int, str]]) -> int:
        changed = 0
        try:
            for start in range(0, len(rows), _BATCH):
                chunk = rows[start:start + _BATCH]
                args: list[Any] = []  # Any: str and int arguments of the script
                for _key, event_ms, payload in chunk:
                    args += [int(event_ms), payload]
                changed += int(self._script(keys=[self._key(view, key) for key, _t, _p in chunk], args=args))
        except redis.RedisError as exc:
            raise StorageError(f"the Redis online store refused the write: {exc}") from exc
        return changed

    def _mget(self, names: list[str]) -> list[Any]:  # Any: [event_ms, values] or None
        if not names:
            return []
        try:
            answers: list[bytes | None] = self._client.mget(names)
        except redis.RedisError as exc:
            raise StorageError(f"the Redis online store cannot be read: {exc}") from exc
        text = b"[" + b",".join(b"null" if a is None else b"[" + a + b"]" for a in answers) + b"]"
        try:
            decoded: list[Any] = orjson.loads(text)  # Any: JSON
        except orjson.JSONDecodeError:  # NaN written by an older encoder
            decoded = json.loads(text)
        return decoded

    def read(self, keys: Sequence[tuple[str, str]]) -> list[OnlineRow | None]:
        found = self._mget([self._key(view, key) for view, key in keys])
        return [
            None if hit is None else OnlineRow(view, key, int(hit[0]), hit[1])
            for (view, key), hit in zip(keys, found, strict=True)
        ]

    def read_grid(self, views: Sequence[str], keys: Sequence[str]) -> list[Any]:  # Any: [event_ms, values] or None
        return self._mget([self._key(view, key) for key in keys for view in views])

    def delete_prefix(self) -> int:
        """Remove every key of this store's prefix, either layout (tests, a rebuild)."""
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
