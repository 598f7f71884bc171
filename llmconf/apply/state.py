"""What llmconf wrote last: per settings file, the keys it owns and a salted hash of each value.

The record lets apply remove a key it set earlier and that no profile renders any more,
delete a file it created once that file would be empty, and tell a manual edit (drift)
from a config change. It lives outside any git tree ($XDG_STATE_HOME/llmconf/state.json),
holds no secret value (only keyed BLAKE2 hashes, salted per machine), and is 0600.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import stat
from pathlib import Path

from llmconf import fs, hashing
from llmconf.errors import LlmconfError
from llmconf.fs import write_atomic
from llmconf.records import dataclass, field

VERSION = 1


#: What to do about an OSError on llmconf's own files, by errno, whatever the file.
_HINTS = {
    errno.EROFS: "the file system is read-only: set XDG_STATE_HOME to a writable folder",
    errno.ENOSPC: "free some space, then run it again",
    errno.EDQUOT: "free some space, then run it again",
    errno.EACCES: "fix its permissions, or set XDG_STATE_HOME to a folder you own",
    errno.EPERM: "fix its permissions, or set XDG_STATE_HOME to a folder you own",
}
RECOVER = "move it aside; llmconf then re-learns what it owns on the next apply"


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
    #: The last apply's journal was there but damaged (so `last_apply` is None): rollback says so.
    journal_damaged: bool = False
    #: The text this object last saved: saving it again is a no-op.
    saved: str | None = field(default=None, repr=False, compare=False)

    @property
    def dir(self) -> Path:
        return self.path.parent

    def fingerprint(self, value: object) -> str:
        """A keyed hash of a value: equal values match, and the value cannot be read back."""
        raw = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return hashing.blake2b(raw.encode(), key=self._key, digest_size=8).hexdigest()

    @functools.cached_property
    def _key(self) -> bytes:
        return bytes.fromhex(self.salt)

    def record(self, settings: Path) -> FileRecord:
        return self.files.get(str(settings)) or FileRecord()

    def save(self, sync_folder: bool = True) -> None:
        """Write the state file (see fs.write_atomic for `sync_folder`), unless this object
        saved that very text last."""
        doc = {
            "version": VERSION,
            "salt": self.salt,
            "files": {p: record_json(r) for p, r in sorted(self.files.items())},
            "last_apply": self.last_apply,
        }
        # Compact: with thousands of worktrees this file is rewritten on every apply.
        text = json.dumps(doc, separators=(",", ":")) + "\n"
        if text == self.saved:
            return
        fs.make_dirs(self.path.parent, 0o700)
        write_atomic(self.path, text, mode=0o600, sync_folder=sync_folder)
        self.saved = text


def record_json(record: FileRecord | None) -> dict[str, object] | None:
    if record is None:
        return None
    return {"keys": record.keys, "created": record.created, "secret": sorted(record.secret)}


def record_from_json(doc: object) -> FileRecord | None:
    """A record as state.json holds it, or None when it is not one."""
    if not isinstance(doc, dict):
        return None
    keys, created, secret = doc.get("keys"), doc.get("created"), doc.get("secret", [])
    if not (isinstance(keys, dict) and all(isinstance(v, str) for v in keys.values()) and isinstance(created, bool)):
        return None
    if not (isinstance(secret, list) and all(isinstance(n, str) for n in secret)):
        return None
    return FileRecord(dict(keys), created, frozenset(secret))


def _is_path(name: object) -> bool:
    return isinstance(name, str) and os.path.isabs(name) and "\0" not in name


def _journal_sound(last: object) -> bool:
    """Whether the last apply's journal is one rollback can follow (or there is none)."""
    if last is None:
        return True
    if not (isinstance(last, dict) and isinstance(last.get("id"), str) and isinstance(last.get("files"), dict)):
        return False
    for name, entry in last["files"].items():
        if not (_is_path(name) and isinstance(entry, dict) and isinstance(entry.get("existed"), bool)):
            return False
        if not isinstance(entry.get("apply", ""), str) or "record" not in entry:
            return False
        if entry["record"] is not None and record_from_json(entry["record"]) is None:
            return False
    return True


def read_own(path: Path) -> bytes:
    """The bytes of one of llmconf's own files (state, journal, backup, saved plan); OSError
    when it cannot be read, FileNotFoundError only when there is no file at all.

    It never blocks: a FIFO (or device) in its place is refused, not opened for a read that
    would wait forever.
    """
    if path.is_symlink():
        try:
            path.stat()  # a loop raises here, as itself
        except FileNotFoundError:
            raise OSError(errno.ENOLINK, "it is a symlink to a missing file") from None
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        kind = st.st_mode
        if stat.S_ISDIR(kind):
            raise OSError(errno.EISDIR, "it is a folder, not a file")
        if not stat.S_ISREG(kind):
            raise OSError(errno.EINVAL, f"it is {fs.file_kind(kind)}, not a regular file")
        if st.st_size > fs.STATE_LIMIT:
            raise OSError(errno.EFBIG, f"it is larger than {fs.STATE_LIMIT >> 20} MiB, the most llmconf reads from its own files")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(fs.STATE_LIMIT + 1)
        if len(data) > fs.STATE_LIMIT:  # it grew while being read
            raise OSError(errno.EFBIG, f"it is larger than {fs.STATE_LIMIT >> 20} MiB, the most llmconf reads from its own files")
        return data
    finally:
        os.close(fd)



def os_problem(e: OSError, path: Path, doing: str, outcome: str = "", hint: str | None = None) -> LlmconfError:
    """An OSError met on one of llmconf's own files as one located line: what failed, why,
    what became of the run, and what to do."""
    blocked = in_the_way(path)
    if blocked is not None:
        return LlmconfError(
            f"{doing}: a file stands where llmconf needs a folder{outcome}",
            blocked,
            hint="move it aside, or set XDG_STATE_HOME to another folder",
        )
    reason = e.strerror or e.__class__.__name__
    return LlmconfError(f"{doing}: {reason}{outcome}", path, hint=_HINTS.get(e.errno or 0, hint))


def in_the_way(path: Path) -> Path | None:
    """The nearest of path's parents that exists but is not a folder (a file, a FIFO, a
    broken symlink), when one does."""
    for folder in path.parents:
        if folder.is_dir():
            return None
        if folder.exists() or folder.is_symlink():
            return folder
    return None


def load_state(path: Path | None = None) -> State:
    """The state file, or a fresh one (new salt) when there is none yet."""
    path = path or state_file()
    try:
        text = read_own(path)
    except FileNotFoundError:
        return State(os.urandom(16).hex(), {}, path)
    except OSError as e:
        raise os_problem(e, path, "cannot read llmconf's state", hint=RECOVER) from None
    try:
        doc = json.loads(text.decode("utf-8"))
        files = {p: record_from_json(r) for p, r in doc["files"].items()}
        if doc.get("version") != VERSION:
            raise ValueError("version")
        bytes.fromhex(doc["salt"])
        if any(r is None or not _is_path(p) for p, r in files.items()):
            raise ValueError("files")
        last = doc.get("last_apply")
        # A damaged journal costs only the rollback of that apply: plan and apply go on,
        # and the next apply writes a new one.
        sound = _journal_sound(last)
        return State(
            doc["salt"], {p: r for p, r in files.items() if r is not None}, path, last if sound else None, not sound
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise LlmconfError("state file is corrupt or from another version", path, hint=RECOVER) from None
