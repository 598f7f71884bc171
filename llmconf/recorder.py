"""Recording a run of `plan` or `status` for replay (llmconf/replay.py reads the record).

What "every input" is, is not a list kept by hand: the recording run watches itself.
- Audit hooks (sys.addaudithook) see each file opened and each folder listed, and each
  program started, socket opened and file written.
- os.stat, os.lstat, os.access and os.readlink are wrapped, so a path only probed (a settings
  file that is not there, the `claude` looked for on PATH) is an input too: absent, it must
  stay absent.
- os.environ is wrapped: each variable read is kept with its value (or as unset).
- llmconf's own modules are inputs: an upgrade or an edit of the code is a miss.
Per path the record keeps what stat said before the path was read: kind, device, inode,
size and both times (ctime cannot be set back by hand). A folder that was listed keeps its
times too (they change when an entry is added, removed or renamed).

A run is not recorded (its next run is not replayed) when any of this holds:
- it ran a program, other than the git calls whose inputs git.py declares (`git_inputs`),
  used the network, changed the directory or the environment, or wrote outside llmconf's
  cache folder;
- it read /proc, /sys or /dev (running processes are no file's content);
- it read the whole environment, or a variable that holds or may hold a secret: a variable
  named like one (KEY, TOKEN, SECRET, ...), one a template or a secret source read, an
  LLMCONF_SECRET_*, or one whose value has a key's shape or a password in a URL. Their values
  would have to be kept to check them, and no secret, nor anything made from one, goes into
  a cache;
- an input changed in the clock tick the run started in, or later: a second change in the
  same tick could leave every timestamp as it was (git's "racy" entries); on a file system
  whose times are whole seconds (ext3, FAT, some network mounts), in the last two seconds;
- stdin, stdout or stderr is not what it was, the terminal's width, the streams' encoding,
  the Python, or llmconf's version.

Recording costs a run a few per cent: the watches are Python calls around every stat.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from llmconf import fs, replay
from llmconf.replay import _explain, _key, _of, _record_path, _secret_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

#: Linux's CLOCK_REALTIME_COARSE: the clock file timestamps come from.
_COARSE_CLOCK = 5


# --- recording -----------------------------------------------------------------------------


class _GiveUp(Exception):
    pass


_UNSEEN = object()
#: What no file's content is: processes, the kernel, devices.
_SPECIAL = ("/proc/", "/sys/", "/dev/")


class Recorder:
    """Watches one run and keeps what it read; see the module's docstring."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = list(argv)
        self.cwd = os.getcwd()
        # Anything stamped from here on may share its tick with a change this run cannot see.
        self.tick: int | None = None
        try:
            self.tick = time_ns_coarse()
        except OSError:
            pass
        self.why: str | None = None  # the reason not to record, once there is one
        #: (path, follows symlinks) -> None (not there), an errno, or (mode, dev, ino, size, mtime_ns, ctime_ns)
        self.paths: dict[tuple[str, bool], tuple[int, ...] | int | None] = {}
        self.listed: set[str] = set()
        self.env: dict[str, str | None] = {}
        self.prefixes: dict[str, dict[str, str]] = {}
        self.sensitive: set[str] = set()
        self.written: set[str] = set()
        self.chunks: list[tuple[int, str]] = []
        self.modeled = 0  # > 0 while git runs with its inputs declared
        self.git_seen: dict[str, object] = {}  # what _declare_git worked out once for the run
        self.cache = os.path.join(replay.cache_root(), "")
        # Where Python and llmconf are installed: what an import opens or lists there is code,
        # and llmconf's own modules are inputs by name (see _record).
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(os.path.abspath(__file__))}
        self.code_dirs = tuple(os.path.join(p, "") for p in prefixes)
        self._saved: dict[str, object] = {}
        self.on = False

    # Installing and removing the watches.

    def start(self) -> None:
        replay._active = self
        self.on = True
        sys.addaudithook(_audit)  # cannot be removed: it checks `on` first
        for name, wrapper in (("stat", _stat), ("lstat", _lstat), ("access", _access), ("readlink", _readlink)):
            self._saved[name] = getattr(os, name)
            setattr(os, name, wrapper)
        self._saved["environ"] = os.environ
        watched = _Environ.__new__(_Environ)
        watched.__dict__ = os.environ.__dict__  # the same variables, read through _Environ
        os.environ = watched
        sys.stdout = _Tee(sys.stdout, 1, self.chunks)
        sys.stderr = _Tee(sys.stderr, 2, self.chunks)

    def stop(self) -> None:
        """Put everything back as it was (the audit hook stays, idle)."""
        if not self.on:
            return
        self.on = False
        replay._active = None
        for name, real in self._saved.items():
            setattr(os, name, real)
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if isinstance(stream, _Tee):
                stream.stream.flush()
                setattr(sys, name, stream.stream)

    def give_up(self, why: str) -> None:
        """This run cannot be replayed: stop watching (and paying for it)."""
        if self.why is None:
            self.why = why
        self.stop()

    # What the watches note.

    def path(self, path: object, follow: bool = True, listed: bool = False, seen: object = _UNSEEN) -> None:
        """Note `path` as an input: what stat (or lstat) says of it now, or `seen`, what a
        stat this run made just now said (a stat_result, or the OSError it raised). Called for
        every stat of a run (tens of thousands in a large fleet): the common case, a path seen
        before, costs one lookup."""
        if type(path) is not str:
            if isinstance(path, int):
                return  # an open file descriptor: its path was noted when it was opened
            try:
                path = os.fsdecode(path)  # type: ignore[arg-type]
            except TypeError:
                return
        p: str = path
        if p[:1] != os.sep:
            p = os.path.join(self.cwd, p)
        key = (p, follow)
        known = key in self.paths
        if listed and not p.startswith(self.code_dirs):  # not the import system's look for modules
            self.listed.add(p)
        if known:
            return
        if p.startswith(_SPECIAL) or p + os.sep in _SPECIAL:
            if p != os.devnull:  # always empty
                self.give_up(f"it read {p}")
            return
        if seen is _UNSEEN:
            try:
                seen = self._saved["stat" if follow else "lstat"](p)  # type: ignore[operator]
            except OSError as e:
                # Kept as what it says, never as the exception: its traceback holds this frame
                # and, with the collector off, everything the frames above it hold.
                self.paths[key] = None if isinstance(e, FileNotFoundError) else e.errno
                return
        if isinstance(seen, OSError):
            self.paths[key] = None if isinstance(seen, FileNotFoundError) else seen.errno
        else:
            self.paths[key] = _of(seen, True)  # type: ignore[arg-type]

    def opened(self, path: object, flags: int) -> None:
        if isinstance(path, int):
            return
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        if flags & writes:
            self.wrote(path)
            return
        p = os.fsdecode(path)  # type: ignore[arg-type]
        if p.endswith(".pyc") or (p.endswith((".py", ".so", ".pth")) and p.startswith(self.code_dirs)):
            return  # an import: llmconf's own modules are inputs anyway (see save)
        self.path(p)

    def wrote(self, path: object, made: bool = False) -> None:
        """Note a write: only llmconf's cache may change (`made`: a folder made, which may be
        one of the cache folder's parents)."""
        if isinstance(path, int):
            self.give_up("it wrote through a file descriptor")
            return
        p = os.path.abspath(os.fsdecode(path))  # type: ignore[arg-type]
        if f"{os.sep}__pycache__{os.sep}" in p:
            return  # an import keeping its bytecode
        if not p.startswith(self.cache) and not (made and self.cache.startswith(p + os.sep)):
            self.give_up(f"it wrote {p}")
            return
        self.written.add(p)

    def read_env(self, name: str, value: str | None) -> None:
        if name not in self.env:
            self.env[name] = value
            if value is not None and (name in self.sensitive or _secret_name(name)):
                self.give_up(f"it read ${name}, which may hold a secret")  # now: no need to watch on

    # The record.

    def save(self, code: int) -> None:
        self.stop()
        if self.why is not None:
            _explain(f"not recorded: {self.why}")
            return
        try:
            record = self._record(code)
        except _GiveUp as e:
            _explain(f"not recorded: {e}")
            return
        import zlib

        from llmconf import caches

        try:
            data = marshal.dumps(record)  # type: ignore[arg-type]
        except ValueError:  # not plain data (a str subclass written out): no record, no traceback
            _explain("not recorded: its output is not plain text")
            return
        if not caches.write_bytes(_record_path(self.argv, self.cwd), zlib.crc32(data).to_bytes(4, "big") + data):
            _explain("not recorded: the cache folder cannot be written")
            return
        _explain(f"recorded {len(record[3])} inputs")  # type: ignore[arg-type]

    def _record(self, code: int) -> tuple[object, ...]:
        values = [v for v in self.env.values() if v is not None] + [v for p in self.prefixes.values() for v in p.values()]
        if any(replay.secret_value(v) for v in values):
            raise _GiveUp("a variable holds a key or a password")
        # llmconf's own code: an edit or an upgrade is a miss.
        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "")
            file = getattr(module, "__file__", None)
            if file and (name == "llmconf" or name.startswith("llmconf.")):
                self.path(file)
        inputs: list[tuple[str, bool, object]] = []
        for (path, follow), sig in self.paths.items():
            if path in self.written or path.startswith(self.cache + "config-"):
                continue  # llmconf's own config cache: what it holds does not change the output
            if isinstance(sig, tuple):
                listed = path in self.listed
                if listed or not stat.S_ISDIR(sig[0]):
                    if not self._settled(sig):
                        raise _GiveUp(f"{path} changed in the clock tick this run started in, or later")
                    inputs.append((path, follow, sig))
                else:
                    inputs.append((path, follow, sig[:5]))  # a folder only looked at: what it is, not what it holds
            else:
                inputs.append((path, follow, sig))
        return (_key(self.argv, self.cwd), self.env, self.prefixes, inputs, code, self.chunks)

    def _settled(self, sig: tuple[int, ...]) -> bool:
        """Whether a change to this file after it was read would surely show in its times: both
        are from before this run's clock tick. A time in whole seconds may come from a file
        system that keeps no finer ones (ext3, FAT, some network mounts): there, a change in the
        same second keeps it, so it must be two seconds older."""
        if self.tick is None:
            return False
        mtime, ctime = sig[6], sig[7]
        coarse = ctime % 1_000_000_000 == 0  # the file system's own clock (mtime may be set by hand)
        limit = self.tick - (2_000_000_000 if coarse else 0)
        return mtime < limit and ctime < limit


def time_ns_coarse() -> int:
    """Now, by the clock file timestamps are taken from (the coarse clock on Linux, a tick
    behind the fine one); elsewhere the fine clock less a second, to be safe."""
    import time

    if sys.platform.startswith("linux"):
        return time.clock_gettime_ns(_COARSE_CLOCK)
    return time.time_ns() - 1_000_000_000


def _audit(event: str, args: tuple[object, ...]) -> None:
    recorder = replay._active
    if recorder is None or not recorder.on:
        return
    if event == "open":
        if not recorder.modeled:
            recorder.opened(args[0], args[2] if isinstance(args[2], int) else 0)
    elif event in ("os.listdir", "os.scandir"):
        if isinstance(args[0], int):
            recorder.give_up("it listed a folder by its descriptor")
        else:
            recorder.path(args[0] if args[0] is not None else ".", listed=True)
    elif event in _WRITES:
        if event in ("os.chown", "os.chmod") and isinstance(args[0], int):
            return  # of a file or folder this run made, checked when it was made (a cache, under sudo)
        if event in ("os.rename", "os.link", "os.symlink"):
            recorder.wrote(args[1])
        recorder.wrote(args[0], made=event == "os.mkdir")
    elif event in _PROCESSES:
        if not recorder.modeled:
            recorder.give_up(f"it ran a program ({event})")
    elif event.startswith(("socket.", "urllib.", "http.", "ftplib.", "smtplib.")) or event in ("os.chdir", "os.putenv", "os.unsetenv"):
        recorder.give_up(event)


_WRITES = frozenset(
    {"os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime"}
)
_PROCESSES = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg", "pty.spawn"}
)


def _stat(path: object, *, dir_fd: int | None = None, follow_symlinks: bool = True) -> os.stat_result:
    return _probe("stat", path, dir_fd, follow_symlinks)


def _lstat(path: object, *, dir_fd: int | None = None) -> os.stat_result:
    return _probe("lstat", path, dir_fd, False)


def _probe(name: str, path: object, dir_fd: int | None, follow: bool) -> os.stat_result:
    recorder = replay._active
    real = recorder._saved[name] if recorder is not None else getattr(os, name)
    try:
        if name == "stat":
            st: os.stat_result = real(path, dir_fd=dir_fd, follow_symlinks=follow)  # type: ignore[operator]
        else:
            st = real(path, dir_fd=dir_fd)  # type: ignore[operator]
    except OSError as e:
        _probed(recorder, path, follow, dir_fd, e)
        raise
    _probed(recorder, path, follow, dir_fd, st)
    return st


def _probed(recorder: Recorder | None, path: object, follow: bool, dir_fd: int | None, seen: object) -> None:
    if recorder is None or not recorder.on:
        return
    if dir_fd is not None:
        recorder.give_up("it looked up a path relative to a folder descriptor")
    else:
        recorder.path(path, follow, seen=seen)


def _access(path: object, mode: int, *, dir_fd: int | None = None, effective_ids: bool = False, follow_symlinks: bool = True) -> bool:
    recorder = replay._active
    _probed(recorder, path, follow_symlinks, dir_fd, _UNSEEN)
    real = recorder._saved["access"] if recorder is not None else os.access
    return real(path, mode, dir_fd=dir_fd, effective_ids=effective_ids, follow_symlinks=follow_symlinks)  # type: ignore[operator,no-any-return]


def _readlink(path: object, *, dir_fd: int | None = None) -> str:
    recorder = replay._active
    _probed(recorder, path, False, dir_fd, _UNSEEN)
    real = recorder._saved["readlink"] if recorder is not None else os.readlink
    return real(path, dir_fd=dir_fd)  # type: ignore[operator,no-any-return]


class _Environ(os._Environ):  # type: ignore[type-arg]
    """os.environ, with each variable read noted (and a read of them all giving up)."""

    def __getitem__(self, name: str) -> str:
        recorder = replay._active
        try:
            value: str = super().__getitem__(name)
        except KeyError:
            if recorder is not None and recorder.on and not recorder.modeled:
                recorder.read_env(name, None)
            raise
        if recorder is not None and recorder.on and not recorder.modeled:
            recorder.read_env(name, value)
        return value

    def __iter__(self):  # type: ignore[no-untyped-def]
        recorder = replay._active
        if recorder is not None and recorder.on and not recorder.modeled:
            recorder.give_up("it read the whole environment")
        return super().__iter__()


class _Tee:
    """A stream that keeps what is written to it, in order with the other stream."""

    def __init__(self, stream: TextIO, fd: int, chunks: list[tuple[int, str]]) -> None:
        self.stream = stream
        self.fd = fd
        self.chunks = chunks

    def write(self, text: str) -> int:
        written = self.stream.write(text)
        if replay._active is not None:  # after: a write that raised is not kept; none once given up
            self.chunks.append((self.fd, str(text)))  # plain str: a subclass does not marshal
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


#: The variables of git's own that change what ls-files and check-ignore answer and survive
#: git.clean_env (GIT_DIR and the like are taken out before git runs). Their values are paths
#: and switches, never secrets. Any other GIT_* changes no answer of these two commands.
_GIT_VARS = ("GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_EXEC_PATH", "GIT_CONFIG_NOSYSTEM", "GIT_ATTR_NOSYSTEM")


def _declare_git(recorder: Recorder, repo: str, files: list[str]) -> None:
    """What `git -C repo ls-files/check-ignore -- files` reads: the git that runs, the .git
    that repo is in (with its HEAD, which makes it a repository), its index, exclude file and
    config, the user's and the system's config and excludes, each .gitignore from the top of
    the work tree down to each file, and git's variables. A config naming other files to read
    (`include`, `core.excludesFile`, GIT_CONFIG_GLOBAL/SYSTEM) is not followed: not recorded."""
    environ = recorder._saved["environ"]
    for name in ("HOME", "XDG_CONFIG_HOME", "PATH", *_GIT_VARS):
        recorder.read_env(name, environ.get(name))  # type: ignore[attr-defined]
    if environ.get("GIT_CONFIG_GLOBAL") or environ.get("GIT_CONFIG_SYSTEM"):  # type: ignore[attr-defined]
        recorder.give_up("GIT_CONFIG_GLOBAL or GIT_CONFIG_SYSTEM names git's config")
        return
    if "git" not in recorder.git_seen:  # once a run: which git, and the configs scanned
        found = fs.which("git")  # its stats are noted: a git installed earlier on PATH is another git
        recorder.git_seen["git"] = os.path.realpath(found) if found else None
    git: str | None = recorder.git_seen["git"]  # type: ignore[assignment]
    root = os.path.realpath(repo)  # as git -C walks it
    top = root
    while True:
        recorder.path(os.path.join(top, ".git"), follow=False)
        if os.path.lexists(os.path.join(top, ".git")) or os.path.dirname(top) == top:
            break
        top = os.path.dirname(top)
    dotgit = os.path.join(top, ".git")
    git_dir = common = dotgit
    if os.path.isfile(dotgit):  # a linked worktree: "gitdir: PATH"
        recorder.path(dotgit)
        with open(dotgit, encoding="utf-8", errors="surrogateescape") as f:
            pointed = f.read().strip().removeprefix("gitdir:").strip()
        git_dir = common = os.path.join(top, pointed)
        commondir = os.path.join(git_dir, "commondir")
        recorder.path(commondir)
        if os.path.isfile(commondir):
            with open(commondir, encoding="utf-8", errors="surrogateescape") as f:
                common = os.path.join(git_dir, f.read().strip())
    home = environ.get("HOME") or os.path.expanduser("~")  # type: ignore[attr-defined]
    xdg = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")  # type: ignore[attr-defined]
    # The system config is $(prefix)/etc/gitconfig, /etc/gitconfig for a git in /usr.
    systems = {"/etc/gitconfig"} | ({os.path.join(os.path.dirname(os.path.dirname(git)), "etc", "gitconfig")} if git else set())
    configs = [os.path.join(common, "config"), os.path.join(git_dir, "config.worktree"), os.path.join(home, ".gitconfig"),
               os.path.join(xdg, "git", "config"), *sorted(systems)]
    for config in configs:
        if config in recorder.git_seen:
            continue
        recorder.git_seen[config] = True
        recorder.path(config)
        try:
            with open(config, "rb") as f:
                text = f.read(1 << 20).lower()
        except OSError:
            continue
        if b"excludesfile" in text or b"[include" in text:
            recorder.give_up(f"{config} names other files for git to read")
            return
    for path in (os.path.join(git_dir, "HEAD"), os.path.join(git_dir, "index"), os.path.join(common, "info", "exclude"),
                 os.path.join(xdg, "git", "ignore")):
        recorder.path(path)
    for file in files:
        folder = os.path.dirname(os.path.join(root, file))
        while folder.startswith(top):
            recorder.path(os.path.join(folder, ".gitignore"))
            if folder == top:
                break
            folder = os.path.dirname(folder)


# --- the entry point -----------------------------------------------------------------------


def record(recorder: Recorder, run: Callable[[], int]) -> int:
    """Run the command with the recorder watching, and keep the record when it ended well."""
    code = 1
    try:
        code = run()
    finally:
        if code == 0 or (code == 2 and "--detailed-exitcode" in recorder.argv):
            recorder.save(code)
        else:
            recorder.stop()
            _explain(f"not recorded: it exited {code}")
    return code
