"""The file I/O at the edges: read a settings file, write any file atomically."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from llmconf.errors import LlmconfError

#: The largest file each reader takes: a FIFO, /dev/zero or a runaway file is refused, never
#: waited on or read to exhaustion. Claude Code's own --settings limit is 2 MiB.
SETTINGS_LIMIT = 2 << 20
#: worktrees.yaml, a profile, catalog.yaml.
CONFIG_LIMIT = 4 << 20
#: The secret store and a key file.
SECRETS_LIMIT = 1 << 20
#: llmconf's own files (state, backups, caches, a saved plan), which grow with the config.
STATE_LIMIT = 64 << 20

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # Windows has no FIFOs to wait on
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_bytes(path: Path, limit: int, what: str = "regular file") -> bytes:
    """A regular file's bytes, at most `limit` of them: FileNotFoundError when it is missing,
    a LlmconfError naming the file for anything else that stops a safe read."""
    try:
        # O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except PermissionError:
        raise LlmconfError("permission denied reading it", path, hint="fix its permissions (chmod u+rw)") from None
    except OSError as e:
        raise LlmconfError(f"cannot read it: {_reason(e)}", path, hint=_hint(e)) from None
    except ValueError:  # os.open refuses a path holding a NUL
        raise LlmconfError("cannot read it: its path holds a NUL character", path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "something other than a file")
            raise LlmconfError(
                f"is {kind}, not a {what}", path,
                hint="move it out of the way" if stat.S_ISDIR(st.st_mode) else "llmconf reads only regular files; replace it with one",
            )
        if st.st_size > limit:
            raise _too_large(path, limit)
        chunks = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise _too_large(path, limit)
            chunks.append(chunk)
    except OSError as e:
        raise LlmconfError(f"cannot read it: {_reason(e)}", path) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: Path, limit: int, what: str = "regular file") -> str:
    """read_bytes as UTF-8 text, newlines translated as text mode does ("\r\n" and a lone
    "\r" become "\n"); a byte that is not UTF-8 is an error at its line."""
    data = read_bytes(path, limit, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LlmconfError(
            # The line, never the byte: it may be part of a key.
            "is not UTF-8 text", path, data.count(b"\n", 0, e.start) + 1,
            "save it as UTF-8; llmconf never overwrites it",
        ) from None
    # Only when there is a "\r" at all: a plan reads every worktree's settings file.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _too_large(path: Path, limit: int) -> LlmconfError:
    return LlmconfError(
        f"is larger than {limit >> 20} MiB, the most llmconf reads from such a file", path, hint="is it the right file?"
    )


def _reason(e: OSError) -> str:
    return (e.strerror or e.__class__.__name__).lower()


def _hint(e: OSError) -> str | None:
    import errno

    return {
        errno.ELOOP: "a symlink there points at itself, or its chain is too long",
        errno.ENAMETOOLONG: "a part of that path is too long for the file system",
        errno.ENOTDIR: "a part of that path is a file, not a folder",
    }.get(e.errno or 0)


def read_settings(path: Path) -> tuple[str | None, dict[str, Any] | None]:
    """A settings file's text and parsed object, or (None, None) when it does not exist."""
    try:
        text = read_text(path, SETTINGS_LIMIT, "settings file")
    except FileNotFoundError:
        return None, None
    try:
        doc = json.loads(text)
    except RecursionError:
        raise LlmconfError(
            "nested too deeply to read safely", path, hint="fix it by hand; llmconf never overwrites it"
        ) from None
    except json.JSONDecodeError as e:
        raise LlmconfError(
            f"invalid JSON: {e.msg} (column {e.colno})",
            path,
            e.lineno,
            "fix it by hand; llmconf never overwrites a file it cannot parse",
        ) from None
    if not isinstance(doc, dict):
        raise LlmconfError(
            f"expected a JSON object, found {type(doc).__name__}", path, 1, "llmconf never overwrites it; fix it by hand"
        )
    return text, doc


def loose_mode(path: Path) -> int | None:
    """A file's mode when others than its owner may read or write it (an imported 0644 file
    with a key in it), else None."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def write_atomic(path: Path, data: str, mode: int | None = None, private: bool = False) -> None:
    """Replace `path` with `data` so a reader sees the old file or the new one, never half.

    A temp file in the same folder is written, fsynced and renamed over the target; the
    folder is fsynced too so the rename survives a crash. The old mode is kept (0600 when
    `private`); a symlink is written through to its target, never replaced.
    """
    import tempfile

    target = Path(os.path.realpath(path))
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    if private:
        mode &= 0o600
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target), suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(target.parent)


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def remove_stale_temps(path: Path) -> None:
    """Delete temp files a killed run left beside `path`: they may hold a key, and a
    `.claude/settings.local.json` ignore line does not cover them. Callers hold the lock."""
    target = Path(os.path.realpath(path))
    try:
        for stale in target.parent.glob(f"{_temp_prefix(target)}*.tmp"):
            stale.unlink(missing_ok=True)
    except OSError:
        pass


def check_writable(path: Path) -> None:
    """Fail before anything is written if `path` could not be replaced (or created)."""
    folder = Path(os.path.realpath(path)).parent
    while not folder.exists():  # .claude/ may not exist yet: its parent must be writable
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LlmconfError(
            f"cannot write in {folder} (permission denied)", path, hint="fix the folder's permissions, then plan again"
        )


def remove_file(path: Path) -> None:
    """Delete a file (its target, when it is a symlink) and make the deletion durable."""
    target = Path(os.path.realpath(path))
    target.unlink()
    fsync_dir(target.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
