"""The file I/O at the edges: read a settings file, write any file atomically."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

from llmconf.errors import LlmconfError, display_path

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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


def settings_text(path: Path) -> str | None:
    """A settings file's text, or None when it does not exist."""
    try:
        return read_text(path, SETTINGS_LIMIT, "settings file")
    except FileNotFoundError:
        return None


def read_object(path: Path, loads: Callable[[str], Any] = json.loads) -> dict[str, Any] | None:
    """A JSON object from a file another tool owns, read leniently: None when the file is
    missing, unreadable, not parsed by `loads` (jsonc.loads for a file with comments) or not
    an object. For what a file makes an agent do, never for a file llmconf will write."""
    try:
        doc = loads(read_text(path, SETTINGS_LIMIT))
    except (OSError, ValueError, RecursionError, LlmconfError):
        return None
    return doc if isinstance(doc, dict) else None


def read_settings(path: Path, load: Callable[[str], dict[str, Any]] | None = None) -> tuple[str | None, dict[str, Any] | None]:
    """A settings file's text and parsed object, or (None, None) when it does not exist.
    `load`: how its target parses a file that is not JSON (it raises a located LlmconfError)."""
    text = settings_text(path)
    if text is None:
        return None, None
    if load is not None:
        try:
            return text, load(text)
        except LlmconfError as e:  # the loader knows the line, not the file
            e.path = e.path or path
            raise
    return text, parse_object(text, path)


def parse_object(text: str, path: Path | None = None) -> dict[str, Any]:
    """The JSON object `text` holds, read as Claude Code's JSON.parse reads it (no NaN): a
    located LlmconfError, which quotes no part of the text (it may hold a key), when it is
    not JSON or not an object. (jsonc.load passes its text with the comments blanked out,
    which keeps every line and column.)"""
    try:
        doc = json.loads(text, parse_constant=lambda word: refuse_constant(word, text))
    except RecursionError:
        raise LlmconfError(
            "nested too deeply to read safely", path, hint="fix it by hand; llmconf never overwrites it"
        ) from None
    except json.JSONDecodeError as e:
        raise LlmconfError(
            f"invalid JSON: {e.msg} (column {e.colno})",
            path,
            e.lineno,
            f"{_json_slip(text, e.pos) or 'fix it by hand'}; llmconf never overwrites a file it cannot parse",
        ) from None
    if not isinstance(doc, dict):
        raise LlmconfError(
            f"expected a JSON object, found {type(doc).__name__}", path, 1, "llmconf never overwrites it; fix it by hand"
        )
    return doc


def _json_slip(text: str, pos: int) -> str:
    """What a JSON error at `pos` most likely is, when it is a habit of JSONC or JavaScript
    (a trailing comma, a comment), as a hint; else ""."""
    if text.startswith(("//", "/*"), pos):
        return "JSON has no comments: remove it"
    before = text[:pos].rstrip()
    if before.endswith(",") and text.startswith(("}", "]"), pos):
        return "JSON allows no comma after the last member: remove it"
    return ""


def refuse_constant(word: str, text: str) -> Any:
    """Refuse NaN, Infinity and -Infinity as Claude Code's JSON.parse does (Python accepts them)."""
    import re

    # The first such word outside a string: strings are matched whole so a "NaN" in one is skipped.
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', text):
        if match.group(1) == word:
            raise json.JSONDecodeError(f"{word} is not JSON", text, match.start())
    raise json.JSONDecodeError(f"{word} is not JSON", text, 0)


def which(name: str) -> str | None:
    """shutil.which(name) on POSIX, without importing shutil (and the bz2 and lzma it imports:
    2 ms of a run): the first regular, executable file of that name on $PATH."""
    search = os.environ.get("PATH", os.defpath)
    seen = set()
    for folder in search.split(os.pathsep) if search else ():
        if folder in seen:
            continue
        seen.add(folder)
        candidate = os.path.join(folder, name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and os.access(candidate, os.X_OK):
            return candidate
    return None


def loose_mode(path: Path) -> int | None:
    """A file's mode when others than its owner may read or write it (an imported 0644 file
    with a key in it), else None."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def write_atomic(path: Path, data: str, mode: int | None = None, private: bool = False, sync_folder: bool = True) -> None:
    """Replace `path` with `data` so a reader sees the old file or the new one, never half.

    A temp file in the same folder is written, fsynced and renamed over the target; the
    folder is fsynced too so the rename survives a crash (`sync_folder`: False where the
    caller would be as well served by the old file after a crash). The old file's mode (0600 when
    `private`), owner and line endings are kept; a symlink is written through to its target,
    never replaced. Only a regular file is written, and no folder is created: see
    check_target.
    """
    target = Path(os.path.realpath(path))
    old = check_target(path)
    if mode is None:
        if old is not None:
            mode = stat.S_IMODE(old.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    if private:
        mode &= 0o600
    if old is not None and _crlf(target):
        data = data.replace("\r\n", "\n").replace("\n", "\r\n")
    owner = (old.st_uid, old.st_gid) if old is not None else _folder_owner(target.parent)
    fd, tmp = _make_temp(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            _chown(f.fileno(), owner)  # before fchmod: a chown clears set-id bits
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
    if sync_folder:
        fsync_dir(target.parent)


def _make_temp(target: Path) -> tuple[int, str]:
    """A new, empty 0600 temp file beside `target`: what tempfile.mkstemp does (a random name,
    O_EXCL, no symlink followed), without importing tempfile (and random, a tenth of an apply)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = os.path.join(target.parent, f"{_temp_prefix(target)}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temp file name", str(target.parent))


def check_target(path: Path) -> os.stat_result | None:
    """The stat of the regular file `path` names (through symlinks), None when it is absent
    but its folder exists; refuse anything else: a device, FIFO, socket or folder, a
    read-only file (which a replace would silently overwrite), a missing folder."""
    target = Path(os.path.realpath(path))
    linked = os.path.islink(path) or os.path.islink(os.path.dirname(os.path.abspath(path)))
    shown, folder = display_path(target), display_path(target.parent)
    via = f"is a symlink to {shown}, which " if os.path.islink(path) else f"leads through a symlink to {shown}, which " if linked else ""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise LlmconfError(
                f"{via}cannot be written: the folder {folder} does not exist",
                path,
                hint=("fix or remove the symlink" if linked else "create that folder first") + "; llmconf makes no folder there",
            ) from None
        return None
    if not stat.S_ISREG(st.st_mode):
        raise LlmconfError(
            f"{via}is {file_kind(st.st_mode)}, not a regular file; nothing written",
            path,
            hint="llmconf writes only regular files: remove it or name another path",
        )
    if not st.st_mode & stat.S_IWUSR or (os.geteuid() != 0 and not os.access(target, os.W_OK)):
        raise LlmconfError(
            f"{via}is read-only; nothing written", path, hint="make it writable (chmod u+w) or remove it, then run again"
        )
    return st


def file_kind(mode: int) -> str:
    """What a file of this mode is, for a message: "a directory", "a FIFO", "a device" ..."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _crlf(target: Path) -> bool:
    """Whether the file's lines mostly end in CRLF (a mixed file keeps its dominant style)."""
    try:
        with open(target, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    crlf = head.count(b"\r\n")
    return crlf > head.count(b"\n") - crlf


def _folder_owner(folder: Path) -> tuple[int, int] | None:
    """Who a new file or folder in `folder` should belong to: the folder's owner when root
    writes there (a `sudo llmconf apply` in a user's worktree must leave the user files they
    can read and edit); None otherwise, the usual Unix rule (the writer owns it)."""
    if os.geteuid() != 0:
        return None
    st = os.stat(folder)
    return st.st_uid, st.st_gid


def _chown(fd: int, owner: tuple[int, int] | None) -> None:
    if owner is None or owner == (os.geteuid(), os.getegid()):
        return
    try:
        os.fchown(fd, *owner)
    except PermissionError:
        pass  # not root: a file owned by another user becomes the writer's, as with any editor


def make_dirs(folder: Path, mode: int = 0o777) -> None:
    """mkdir -p `folder`; each folder made belongs to its parent's owner when root makes it."""
    if folder.is_dir():
        return
    if not folder.parent.is_dir():
        make_dirs(folder.parent, mode)
    try:
        os.mkdir(folder, mode)
    except FileExistsError:
        if folder.is_dir():
            return
        raise
    fd = os.open(folder, os.O_RDONLY)
    try:
        own_like_folder(fd, folder.parent)
    finally:
        os.close(fd)


def own_like_folder(fd: int, folder: Path) -> None:
    """Give a file or folder llmconf just made to `folder`'s owner, when root made it."""
    _chown(fd, _folder_owner(folder))


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def remove_stale_temps(path: Path) -> None:
    """Delete temp files a killed run left beside `path`: they may hold a key, and a
    `.claude/settings.local.json` ignore line does not cover them. Callers hold the lock."""
    target = Path(os.path.realpath(path))
    prefix = _temp_prefix(target)
    try:
        for name in os.listdir(target.parent):
            if name.startswith(prefix) and name.endswith(".tmp"):
                (target.parent / name).unlink(missing_ok=True)
    except OSError:
        pass


def check_writable(path: Path) -> None:
    """Fail before anything is written if `path` could not be replaced (or created)."""
    target = Path(os.path.realpath(path))
    parent = os.path.dirname(os.path.abspath(path))
    if target.exists() or os.path.lexists(path) or (os.path.lexists(parent) and not os.path.exists(parent)):
        check_target(path)  # what write_atomic refuses: a device, a read-only file, a dangling link
    folder = target.parent
    while not folder.exists():  # .claude/ may not exist yet: its parent must be writable
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LlmconfError(
            f"cannot write in {folder} (permission denied)", path, hint="fix the folder's permissions, then plan again"
        )


def remove_file(path: Path) -> None:
    """Delete a file (its target, when it is a symlink) and make the deletion durable."""
    target = Path(os.path.realpath(path))
    if not stat.S_ISREG(os.stat(target).st_mode):
        raise LlmconfError(f"is {file_kind(os.stat(target).st_mode)}, not a regular file; nothing removed", path)
    target.unlink()
    fsync_dir(target.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
