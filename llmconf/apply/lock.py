"""One writer at a time: an fcntl lock beside the state file.

apply, rollback, use, secret set/rm and the first `plan --out` (which creates the state's
salt) take it, so two runs never interleave their writes or lose each other's state update. A second run waits a bounded time, then fails
naming the holder's pid. The kernel drops the lock when its holder dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from llmconf.apply.state import os_problem
from llmconf.errors import LlmconfError
from llmconf.fs import file_kind, make_dirs, own_like_folder

DEFAULT_TIMEOUT = 10.0
#: The longest wait $LLMCONF_LOCK_TIMEOUT may ask for: a longer one (1e300) is a hang, not a wait.
MAX_TIMEOUT = 3600.0


def _timeout() -> float:
    """$LLMCONF_LOCK_TIMEOUT seconds; anything but a number from 0 to MAX_TIMEOUT (nan, inf,
    1e300, -1, text) is refused, since nan, inf or a huge one would wait forever."""
    raw = os.environ.get("LLMCONF_LOCK_TIMEOUT")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 <= value <= MAX_TIMEOUT):
        shown = raw if raw.isprintable() and len(raw) <= 40 else repr(raw[:40])
        raise LlmconfError(
            f"LLMCONF_LOCK_TIMEOUT must be a number of seconds from 0 to {MAX_TIMEOUT:g} (got '{shown}')",
            hint=f"unset it for the default of {DEFAULT_TIMEOUT:g} s",
        )
    return value


@contextlib.contextmanager
def locked(state_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the llmconf lock for the duration of the block."""
    timeout = _timeout() if timeout is None else timeout
    path = state_dir / "lock"
    try:
        make_dirs(state_dir, 0o700)
        # O_NONBLOCK: a FIFO in its place must not hang the open; O_NOFOLLOW: nor a symlink
        # (a loop, or one to elsewhere) stand in for it.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        raise _unusable(e, path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _unusable(OSError(errno.EINVAL, f"it is {file_kind(mode)}, not a regular file"), path)
        own_like_folder(fd, state_dir)  # made by sudo: still the user's to open next time
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    # Only a pid is shown: the file may hold anything.
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                    holder = holder if holder.isdigit() else "unknown"
                    raise LlmconfError(
                        f"another llmconf (pid {holder}) holds the lock; gave up after {timeout:g}s",
                        path,
                        hint="wait for it to finish, then run this again",
                    ) from None
                time.sleep(0.05)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # only the pid a waiting run shows is lost: the lock itself is held
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _unusable(e: OSError, path: Path) -> LlmconfError:
    reason = "it is a symlink" if e.errno == errno.ELOOP else None  # what O_NOFOLLOW met
    if reason:
        e = OSError(e.errno, reason)
    return os_problem(e, path, "cannot take llmconf's lock", "; nothing written", hint="move it aside (no llmconf is running), then run it again")
