"""What llmconf wrote last: per settings file, the keys it owns and a salted hash of each value.

The record lets apply remove a key it set earlier and that no profile renders any more,
delete a file it created once that file would be empty, and tell a manual edit (drift)
from a config change. It lives outside any git tree ($XDG_STATE_HOME/llmconf/state.json),
holds no secret value (only keyed BLAKE2 hashes, salted per machine), and is 0600.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from llmconf import fs
from llmconf.errors import LlmconfError
from llmconf.fs import write_atomic

VERSION = 1


def state_file() -> Path:
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state_home) / "llmconf" / "state.json"


@dataclass
class FileRecord:
    """What llmconf last wrote to one settings file."""

    keys: dict[str, str] = field(default_factory=dict)  # key name -> fingerprint
    created: bool = False
    #: Owned keys whose value was a secret: shown as (sensitive) even when they are removed,
    #: whatever their name.
    secret: frozenset[str] = frozenset()


@dataclass
class State:
    salt: str
    files: dict[str, FileRecord]
    path: Path
    #: The last apply (or rollback): its id, and per file the record it replaced, for rollback.
    last_apply: dict[str, object] | None = None

    @property
    def dir(self) -> Path:
        return self.path.parent

    def fingerprint(self, value: object) -> str:
        """A keyed hash of a value: equal values match, and the value cannot be read back."""
        raw = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return hashlib.blake2b(raw.encode(), key=self._key, digest_size=8).hexdigest()

    @functools.cached_property
    def _key(self) -> bytes:
        return bytes.fromhex(self.salt)

    def record(self, settings: Path) -> FileRecord:
        return self.files.get(str(settings)) or FileRecord()

    def save(self) -> None:
        doc = {
            "version": VERSION,
            "salt": self.salt,
            "files": {p: record_json(r) for p, r in sorted(self.files.items())},
            "last_apply": self.last_apply,
        }
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Compact: with thousands of worktrees this file is rewritten on every apply.
        write_atomic(self.path, json.dumps(doc, separators=(",", ":")) + "\n", mode=0o600)


def record_json(record: FileRecord | None) -> dict[str, object] | None:
    if record is None:
        return None
    return {"keys": record.keys, "created": record.created, "secret": sorted(record.secret)}


def record_from_json(doc: object) -> FileRecord | None:
    if not isinstance(doc, dict):
        return None
    return FileRecord(dict(doc["keys"]), bool(doc["created"]), frozenset(doc.get("secret", ())))


def load_state(path: Path | None = None) -> State:
    """The state file, or a fresh one (new salt) when there is none yet."""
    path = path or state_file()
    try:
        doc = json.loads(fs.read_text(path, fs.STATE_LIMIT))
        files = {p: record_from_json(r) for p, r in doc["files"].items()}
        if doc.get("version") != VERSION:
            raise ValueError("version")
        bytes.fromhex(doc["salt"])
        last = doc.get("last_apply")
        if last is not None and not (isinstance(last, dict) and isinstance(last.get("files"), dict)):
            raise ValueError("last_apply")
        if any(r is None for r in files.values()):
            raise ValueError("files")
        return State(doc["salt"], {p: r for p, r in files.items() if r is not None}, path, last)
    except FileNotFoundError:
        return State(os.urandom(16).hex(), {}, path)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LlmconfError(
            "state file is corrupt or from another version",
            path,
            hint="move it aside; llmconf then re-learns what it owns on the next apply",
        ) from None
