"""Replay: a `plan` or `status` whose inputs have not changed prints what the last one did.

A run that ends well (0, or 2 from `plan --detailed-exitcode`) is recorded (llmconf/recorder.py):
what it printed, in order, and every input it used. The next run of the same command line, in
the same folder and terminal, checks each input here and, when every one is as it was, prints
the record: no argparse, pydantic, Jinja2 or YAML is imported, and nothing is parsed but the
record itself. Any input that differs, or a record that is missing or damaged, is a miss: the
command runs as it always does (and records again).

The record is private (0600) in $XDG_CACHE_HOME/llmconf/replay/, one per command line and
folder, written atomically; it holds paths, stat fields, the variables' values and the
output, which never holds a secret. LLMCONF_REPLAY=0 turns replay and recording off;
LLMCONF_REPLAY=explain says on stderr why a run was or was not replayed or recorded.

Also here, because every command imports them and must not import the recorder for them: the
hooks by which the rest of llmconf tells a recording run what it cannot see by itself
(`sensitive`, `environ_with_prefix`, `git_inputs`).

This module imports only what the interpreter has loaded already (and marshal, and zlib when
used): a replay must cost little more than `python -c pass`.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from llmconf import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence

    from llmconf.recorder import Recorder

#: The commands that are recorded and replayed: they read, and print what they found.
COMMANDS = ("plan", "status")
#: The shape of a record: a change of it makes every older record a miss.
_FORMAT = "llmconf-replay-2"
#: A record larger than this is a miss (10,000 worktrees make about 2 MiB).
_LIMIT = 64 * 1024 * 1024
#: Words in a variable's name that say it may hold a secret.
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE", "SESSION")
#: ...unless the name says it holds where or how long, not what (LLMCONF_SECRETS_FILE).
_NOT_SECRET_ENDINGS = ("_FILE", "_DIR", "_PATH", "_HOME", "_URL", "_TIMEOUT", "_MS")


# --- the key of a run ----------------------------------------------------------------------


def _streams() -> tuple[object, ...]:
    """What the output depends on besides the inputs: which streams are terminals, the
    terminal's size, the streams' encodings, the Python."""
    ttys: list[bool | None] = []
    for fd in (0, 1, 2):
        try:
            ttys.append(os.isatty(fd))
        except OSError:
            ttys.append(None)
    try:
        size = tuple(os.get_terminal_size(1)) if ttys[1] else None
    except OSError:
        size = None
    encodings = tuple((getattr(s, "encoding", None), getattr(s, "errors", None)) for s in (sys.stdout, sys.stderr))
    return (tuple(ttys), size, encodings, sys.version)


def _key(argv: list[str], cwd: str) -> tuple[object, ...]:
    return (_FORMAT, __version__, tuple(argv), cwd, _streams())


def cache_root() -> str:
    """$XDG_CACHE_HOME/llmconf (default ~/.cache/llmconf): every cache of llmconf's is here
    (caches.cache_dir is this, as a Path, for the modules that may import more)."""
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llmconf")


def terminal_columns() -> int:
    """The terminal's width as shutil.get_terminal_size gives it (argparse wraps to it, status
    fits its table to it), without importing shutil (and the bz2, lzma and fnmatch it imports)."""

    def env(name: str) -> int:
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            return 0

    columns, lines = env("COLUMNS"), env("LINES")
    if columns <= 0 or lines <= 0:
        try:
            size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            size = os.terminal_size((80, 24))
        if columns <= 0:
            columns = size.columns or 80
    return columns


def _record_path(argv: list[str], cwd: str) -> str:
    """One record per command line and folder (a name collision is only a miss)."""
    import zlib

    name = "%08x" % zlib.crc32("\0".join([cwd, *argv]).encode("utf-8", "surrogateescape"))
    return os.path.join(cache_root(), "replay", name)


def wanted(argv: list[str]) -> bool:
    """Whether this command line may be replayed at all (cheap: no parsing)."""
    return any(word in COMMANDS for word in argv) and os.environ.get("LLMCONF_REPLAY", "") != "0"


def _explain(text: str) -> None:
    """With LLMCONF_REPLAY=explain, say on stderr whether this run was replayed or recorded."""
    environ = _active._saved["environ"] if _active is not None else os.environ
    if environ.get("LLMCONF_REPLAY") == "explain":  # type: ignore[attr-defined]
        sys.stderr.write(f"llmconf: replay: {text}\n")


# --- replaying -----------------------------------------------------------------------------


def replay(argv: list[str]) -> int | None:
    """Print the record of this command line and return its exit code, when every input is as
    it was; None (nothing printed) otherwise."""
    import zlib

    try:
        cwd = os.getcwd()
        raw = read_private(_record_path(argv, cwd))
        if raw is None or len(raw) < 4 or zlib.crc32(raw[4:]) != int.from_bytes(raw[:4], "big"):
            return None
        key, env, prefixes, inputs, code, chunks = marshal.loads(raw[4:])
        if key != _key(argv, cwd) or not _same_env(env, prefixes) or not _same_inputs(inputs):
            return None
        code = int(code)
        out = []
        for fd, text in chunks:  # all of it sound, or none of it printed (the key holds the
            if fd not in (1, 2) or type(text) is not str:  # streams' encodings: it prints as it did)
                return None
            out.append((sys.stdout if fd == 1 else sys.stderr, text))
    except Exception:  # a damaged record of any shape is a miss
        return None
    for stream, text in out:
        stream.write(text)
    _explain("replayed, every input as it was")
    return code


def read_private(path: str, limit: int = _LIMIT) -> bytes | None:
    """A cache file's bytes, or None: missing, not a regular file (never blocking on a FIFO in
    its place), not the user's own, or over `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        own = getattr(os, "getuid", None)  # POSIX; elsewhere the folder's permissions say
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit or (own is not None and st.st_uid != own()):
            return None
        chunks = []
        while data := os.read(fd, 1 << 20):
            chunks.append(data)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _same_env(env: dict[str, str | None], prefixes: dict[str, dict[str, str]]) -> bool:
    environ = os.environ
    for name, value in env.items():
        if environ.get(name) != value:
            return False
    for prefix, seen in prefixes.items():
        if {k: v for k, v in environ.items() if k.startswith(prefix)} != seen:
            return False
    return True


def _same_inputs(inputs: list[tuple[str, bool, object]]) -> bool:
    for path, follow, was in inputs:
        if _signature(path, follow, isinstance(was, tuple) and len(was) > 5) != was:
            return False
    return True


def _signature(path: str, follow: bool, listed: bool) -> object:
    """What a path is, as far as a reader can tell: None when it is not there, an errno when
    it cannot be looked at, else its kind and identity (and times, for a file or a listed folder)."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return e.errno
    return _of(st, listed)


def _of(st: os.stat_result, listed: bool) -> tuple[int, ...]:
    """(mode, device, inode, owner, group), and for a file or a listed folder (size, mtime_ns,
    ctime_ns) too. The owner counts: which file wins can turn on who owns a folder."""
    head = (st.st_mode, st.st_dev, st.st_ino, st.st_uid, st.st_gid)
    if stat.S_ISDIR(st.st_mode) and not listed:
        return head
    return (*head, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _secret_name(name: str) -> bool:
    upper = name.upper()
    if upper.startswith("LLMCONF_SECRET_"):  # a secret's override, whatever the secret is called (db-url)
        return True
    return any(word in upper for word in _SECRET_WORDS) and not upper.endswith(_NOT_SECRET_ENDINGS)


def secret_value(value: str) -> bool:
    """Whether a variable's value carries a credential whatever its name: a key's shape, or a
    URL with a user and password in it."""
    from llmconf.secrets.mask import holds_key

    if "://" in value and "@" in value.split("://", 1)[1].split("/", 1)[0]:
        return True
    return holds_key(value)


#: The run being recorded, if any (set by Recorder.start).
_active: Recorder | None = None


# --- what the rest of llmconf tells a recording run -----------------------------------------


def sensitive(name: str) -> None:
    """A variable read to become a value (a template's env(), a secret's source): a set one
    may hold a secret, so a run that read one is not recorded."""
    recorder = _active
    if recorder is not None and recorder.on:
        recorder.sensitive.add(name)
        if recorder.env.get(name) is not None:
            recorder.give_up(f"it read ${name}, which may hold a secret")


def environ_with_prefix(prefix: str) -> dict[str, str]:
    """The variables whose names start with `prefix`, noted as one input (their names and values)."""
    environ = _active._saved["environ"] if _active is not None and _active.on else os.environ
    found = {k: v for k, v in environ.items() if k.startswith(prefix)}  # type: ignore[attr-defined]
    if _active is not None and _active.on:
        _active.prefixes[prefix] = found
        if any(_secret_name(name) for name in found):
            _active.give_up(f"it read ${min(found)}, which may hold a secret")
    return found


class git_inputs:
    """`with git_inputs(repo, files):` around a git call whose answer depends only on the
    files and variables this declares (see git.py): git's own reads are not seen by the
    watches, so they are declared here instead. A repository whose config names other files
    to read (`include`, `core.excludesFile`) is not recorded."""

    def __init__(self, repo: object, files: Sequence[object] = ()) -> None:
        self.repo = repo
        self.files = files

    def __enter__(self) -> None:
        recorder = _active
        if recorder is None or not recorder.on:
            return
        from llmconf.recorder import _declare_git  # loaded already: a run is being recorded

        try:
            _declare_git(recorder, os.fsdecode(self.repo), [os.fsdecode(f) for f in self.files])  # type: ignore[arg-type]
        except OSError:
            recorder.give_up("git's inputs could not be read")
        recorder.modeled += 1

    def __exit__(self, *exc: object) -> None:
        recorder = _active
        if recorder is not None and recorder.on and recorder.modeled:
            recorder.modeled -= 1


