"""One writer at a time: an fcntl lock beside the state file.

apply, rollback, use, secret set/rm and the first `plan --out` (which creates the state's
salt) take it, so two runs never interleave their writes or lose each other's state update. A second run waits a bounded time, then fails
naming the holder's pid. The kernel drops the lock when its holder dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from llmconf.errors import LlmconfError

DEFAULT_TIMEOUT = 10.0


def _timeout() -> float:
    """$LLMCONF_LOCK_TIMEOUT seconds; anything but a finite number at least 0 (nan, inf, -1,
    text) is refused, since nan or inf would wait forever."""
    raw = os.environ.get("LLMCONF_LOCK_TIMEOUT")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 <= value < float("inf")):
        raise LlmconfError(
            f"LLMCONF_LOCK_TIMEOUT must be a number of seconds, 0 or more (got '{raw}')",
            hint=f"unset it for the default of {DEFAULT_TIMEOUT:g} s",
        )
    return value


@contextlib.contextmanager
def locked(state_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the llmconf lock for the duration of the block."""
    timeout = _timeout() if timeout is None else timeout
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = state_dir / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    raise LlmconfError(
                        f"another llmconf (pid {holder}) holds the lock; gave up after {timeout:g}s",
                        path,
                        hint="wait for it to finish, then run this again",
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the lock
