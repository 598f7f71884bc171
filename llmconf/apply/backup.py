"""Previous versions of the files apply changes, kept for rollback.

One bundle per apply, $XDG_STATE_HOME/llmconf/backups/<apply id>.json (0600 in a 0700
folder, outside any repo: it may hold keys), holds the bytes every changed file had before
that apply. It is written and fsynced once, before the first settings file changes. A
bundle goes once each of its files has KEEP newer versions. Listing shows names, times and
sizes, never content.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from llmconf import fs
from llmconf.apply.state import read_own
from llmconf.fs import write_atomic
from llmconf.records import dataclass

KEEP = 5


@dataclass(frozen=True)
class Backup:
    settings: Path
    name: str  # the apply id, sortable by time
    size: int | None  # None: the apply created the file (there was no earlier version)


def new_apply_id() -> str:
    """A sortable, readable id: UTC time to the microsecond."""
    now = time.time()
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def _folder(state_dir: Path) -> Path:
    return state_dir / "backups"


def _is_id(name: str) -> bool:
    """Whether `name` is an apply id, 20240102T030405.123456Z (as a regex would say, without
    compiling one in every apply)."""
    return (
        len(name) == 23 and name[8] == "T" and name[15] == "." and name[22] == "Z"
        and (name[:8] + name[9:15] + name[16:22]).isdecimal()
    )


def _bundles(state_dir: Path) -> list[Path]:
    # Only files named like an apply id: anything else in the folder is not ours to read.
    folder = _folder(state_dir)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(folder / n for n in names if n.endswith(".json") and _is_id(n[:-5]))


def _read(path: Path) -> dict[str, str | None]:
    """A bundle's files: each one's text before the apply, None for one the apply created."""
    try:
        doc = json.loads(read_own(path).decode("utf-8"))
        files, created = doc["files"], doc.get("created", [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return {}  # a damaged bundle is skipped, never fatal
    # Only the well-formed entries: a damaged one is as good as pruned.
    kept: dict[str, str | None] = (
        {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(files, dict) else {}
    )
    if isinstance(created, list):
        kept.update({k: None for k in created if isinstance(k, str) and k not in kept})
    return kept


def bundle(state_dir: Path, apply_id: str) -> Path:
    """The file that keeps the previous versions of apply `apply_id`'s files."""
    return _folder(state_dir) / f"{apply_id}.json"


def save(state_dir: Path, apply_id: str, files: dict[str, str], created: Sequence[str] = ()) -> None:
    """Keep the previous text of each file an apply is about to change, and the names of the
    files it creates (so `rollback --to` can take them away again). See prune."""
    if not files and not created:
        return
    folder = _folder(state_dir)
    fs.make_dirs(folder, 0o700)
    doc = {"files": files, "created": sorted(created)}
    write_atomic(bundle(state_dir, apply_id), json.dumps(doc, ensure_ascii=False), mode=0o600)


def prune(state_dir: Path) -> None:
    """Remove the bundles whose every file has KEEP newer versions."""
    newer: dict[str, int] = {}
    for kept in reversed(_bundles(state_dir)):
        names = list(_read(kept))
        if names and all(newer.get(n, 0) >= KEEP for n in names):
            kept.unlink(missing_ok=True)
            continue
        for n in names:
            newer[n] = newer.get(n, 0) + 1


def load(state_dir: Path, settings: Path, apply_id: str) -> str | None:
    """A file's text before apply `apply_id`, or None when not kept (never reached, or pruned)."""
    return _read(bundle(state_dir, apply_id)).get(str(settings))


def kept(state_dir: Path, apply_id: str) -> dict[str, str | None] | None:
    """What bundle `apply_id` keeps: each file's text before that apply (None: the apply
    created it); None when there is no such bundle."""
    if not _is_id(apply_id) or not bundle(state_dir, apply_id).is_file():
        return None
    return _read(bundle(state_dir, apply_id))


def earlier(state_dir: Path, files: set[str]) -> dict[str, list[str]]:
    """Every kept earlier text of each of `files` (paths as text), oldest first."""
    out: dict[str, list[str]] = {}
    for kept in _bundles(state_dir):
        for name, text in _read(kept).items():
            if name in files and text is not None:
                out.setdefault(name, []).append(text)
    return out


def listing(state_dir: Path) -> list[Backup]:
    """Every kept version, by file, oldest first."""
    rows = [
        Backup(Path(name), kept.stem, None if text is None else len(text.encode()))
        for kept in _bundles(state_dir)
        for name, text in _read(kept).items()
    ]
    return sorted(rows, key=lambda b: (str(b.settings), b.name))
