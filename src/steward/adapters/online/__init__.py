"""Online feature stores: the latest value of each view per entity key.

SQLite (a file beside the embedded store) is the default; Redis serves team mode.
Both write one entity row of a view as one unit and never replace a newer event time
with an older one (see :class:`steward.features._ports.OnlineStore`).
"""

from __future__ import annotations

from ._redis import RedisOnlineStore
from ._sqlite import SqliteOnlineStore

__all__ = ["RedisOnlineStore", "SqliteOnlineStore", "open_online_store"]


def open_online_store(url: str) -> SqliteOnlineStore | RedisOnlineStore:
    """``redis://host:port/db`` or ``sqlite:///path/to/file.db``.

    Raises:
        InvalidInputError: any other scheme.
    """
    from steward.errors import InvalidInputError

    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(url)
    if url.startswith("sqlite:///"):
        return SqliteOnlineStore(url.removeprefix("sqlite:///"))
    raise InvalidInputError("the online store is redis://host:port/db or sqlite:///path", field="online_store")
