"""Previous versions of the files apply changes, kept for rollback.

Each settings file gets a folder under $XDG_STATE_HOME/llmconf/backups/ (0700, outside any
repo) holding its bytes as they were before each of its last KEEP applies (0600 files: they
may hold a key). Listing shows names, times and sizes, never content.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from llmconf.fs import write_atomic

KEEP = 5
_PATH_FILE = "path"


@dataclass(frozen=True)
class Backup:
    settings: Path
    name: str  # the apply id, sortable by time
    size: int


def new_apply_id() -> str:
    """A sortable, readable id: UTC time to the microsecond."""
    now = time.time()
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def _folder(state_dir: Path, settings: Path) -> Path:
    return state_dir / "backups" / hashlib.sha256(str(settings).encode()).hexdigest()[:16]


def save(state_dir: Path, settings: Path, data: str, apply_id: str) -> None:
    """Keep `data` as the version of `settings` before apply `apply_id`; prune to KEEP."""
    folder = _folder(state_dir, settings)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (folder / _PATH_FILE).exists():
        write_atomic(folder / _PATH_FILE, str(settings) + "\n", mode=0o600)
    write_atomic(folder / f"{apply_id}.json", data, mode=0o600)
    for old in sorted(folder.glob("*.json"))[:-KEEP]:
        old.unlink()


def load(state_dir: Path, settings: Path, apply_id: str) -> str | None:
    """The saved bytes, or None when that backup does not exist (never written, or pruned)."""
    try:
        return (_folder(state_dir, settings) / f"{apply_id}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def listing(state_dir: Path) -> list[Backup]:
    """Every kept backup, oldest first per file."""
    out = []
    for folder in sorted((state_dir / "backups").glob("*/")):
        try:
            settings = Path((folder / _PATH_FILE).read_text(encoding="utf-8").strip())
        except FileNotFoundError:
            continue
        out.extend(Backup(settings, f.stem, f.stat().st_size) for f in sorted(folder.glob("*.json")))
    return out
