"""Owner-only folders and files (0700 / 0600) for the embedded store, whatever the umask.

The SQLite store, the local artifact folder and the master key hold everything a team
tracks, so other local users get no access. ``mkdir(mode=...)`` is filtered by the umask
and ``Path.mkdir(parents=True)`` gives the parents the default mode, so folders are created
one level at a time and set explicitly; folders that already exist are left as they are
(an operator may have chosen their mode).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "create_private_file", "make_private_dirs"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dirs(path: str | os.PathLike[str]) -> None:
    """Create ``path`` and its missing parents as 0700 folders (existing ones untouched)."""
    missing: list[Path] = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process created it first: its mode is its own
            continue
        os.chmod(folder, DIR_MODE)


def create_private_file(path: str | os.PathLike[str], flags: int = os.O_WRONLY) -> int:
    """Create ``path`` (it must not exist) as a 0600 file and open it with ``flags``.

    Returns:
        The file descriptor.

    Raises:
        FileExistsError: ``path`` exists already.
    """
    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a umask that strips owner bits would leave it unusable
    except OSError:
        os.close(fd)
        raise
    return fd
