"""The disk caches: one folder, one entry shape ({"digest", "data"}), one way to write.
(The config cache checks its own richer entry, see config/cache.py, but writes it here.)

Everything here can be recomputed: a missing, damaged or stale entry is a miss, never an
error, and an entry that cannot be written is skipped. Entries are written atomically (a
torn one after a crash is only a miss, so they are not fsynced) and private (0600): they
name the user's folders.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from llmconf import fs, hashing

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/llmconf (default ~/.cache/llmconf): safe to delete at any time."""
    from llmconf.replay import cache_root

    return Path(cache_root())


def entry(kind: str, scope: Path | str | None = None) -> Path:
    """The file of one cache entry: `kind`, one per `scope` (a config folder) when given."""
    if scope is None:
        return cache_dir() / f"{kind}.json"
    return cache_dir() / f"{kind}-{hashing.sha256(str(scope).encode()).hexdigest()[:16]}.json"


def load(path: Path, digest: str) -> Any:
    """The data saved at `path` under `digest`, or None."""
    doc = read(path)
    try:
        return doc["data"] if doc["digest"] == digest else None
    except (KeyError, TypeError):
        return None


def read(path: Path) -> Any:
    """The JSON a cache file holds, or None when it is missing or damaged (never blocking on
    a FIFO in its place, never failing on one nested too deep)."""
    from llmconf.apply.state import read_own

    try:
        return json.loads(read_own(path).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def save(path: Path, digest: str, data: Any) -> None:
    """Keep `data` at `path` under `digest` (best effort)."""
    write(path, {"digest": digest, "data": data})


def write(path: Path, doc: Any) -> None:
    """Write a cache file whose shape its owner checks itself (best effort)."""
    try:
        write_text(path, json.dumps(doc, separators=(",", ":")))
    except (TypeError, ValueError):
        pass


def write_text(path: Path | str, text: str) -> None:
    """Write a cache file of plain text (best effort). Its one reader that is not load/read:
    __main__._help, which must not import this module to read it."""
    write_bytes(path, text.encode("utf-8", "surrogateescape"))


def write_bytes(path: Path | str, data: bytes) -> bool:
    """Write a cache file, atomically and private (best effort: False when it could not be)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fs.make_dirs(path.parent, 0o700)  # under sudo: still the user's
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            fs.own_like_folder(f.fileno(), path.parent)  # under sudo: still the user's
            f.write(data)
        os.replace(tmp, path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True
