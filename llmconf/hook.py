"""The post-checkout hook file llmconf installs: its script, what an installed one says, and
putting it in (beside a hook already there, which keeps running first) or taking it out."""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

from llmconf.errors import LlmconfError

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Literal

HOOK = "post-checkout"
CHAINED = f"{HOOK}.llmconf-chained"
MARK = "# llmconf git-hook: post-checkout"


def script(config_file: Path, config_dir: Path, hooks: Path, repo: Path, restores: bool) -> str:
    """The hook's text: it runs the hook it moved aside, then `llmconf git-hook run`."""
    text = (Path(__file__).resolve().parent / "shell" / "post-checkout.sh").read_text(encoding="utf-8")
    return text.format(
        mark=MARK,
        restores=f" and puts back {CHAINED}" if restores else "",
        config=str(config_file).replace("\n", " "),
        chained=shlex.quote(str(hooks / CHAINED)),
        config_dir=shlex.quote(str(config_dir)),
        python=shlex.quote(sys.executable),
        not_found=shlex.quote(
            "llmconf: warning: llmconf not found (reinstall the hook with "
            f"'llmconf git-hook install {shlex.quote(str(repo))}')"
        ),
    )


def head(path: Path) -> str:
    from llmconf import fs

    try:  # a FIFO or /dev/zero is refused, not waited on: it is no hook of ours
        return fs.read_bytes(path, fs.SETTINGS_LIMIT)[:4096].decode("utf-8", "replace")
    except (OSError, LlmconfError):
        return ""


def is_ours(path: Path) -> bool:
    return MARK in head(path)


def config_dir_of(head: str) -> Path | None:
    """The config folder an installed llmconf hook (the start of its text) applies (None: not said)."""
    for line in head.splitlines():
        if line.startswith("config_dir="):
            try:
                return Path(shlex.split(line.removeprefix("config_dir="))[0])
            except (ValueError, IndexError):
                return None
    return None


def exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def put(hooks: Path, text: str, move_aside: bool) -> None:
    """Write our hook: the new file complete first, then the user's hook aside, then ours in.

    A failure at any step puts back what was there: the user's hook is never left switched
    off at CHAINED, where git does not run it. Not fs.write_atomic: the user's hook has to
    move aside between the temp file and the rename, and a symlinked hook must move with its
    link, not be written through.
    """
    from llmconf import fs

    hook, chained = hooks / HOOK, hooks / CHAINED
    tmp: Path | None = None
    try:
        fs.make_dirs(hooks)  # under sudo: the repository owner's, like the folder above it
        tmp = _write_temp(hooks, text)
        if move_aside:
            os.replace(hook, chained)  # same folder: a rename, mode and content kept
        try:
            os.replace(tmp, hook)
        except OSError:
            if move_aside:
                _roll_back(chained, hook)
            raise
        tmp = None
    except OSError as e:
        raise LlmconfError(f"cannot install the hook: {e.strerror or e}; nothing changed", hook) from None
    finally:
        if tmp is not None:
            try:
                tmp.unlink()
            except OSError:
                pass
    from llmconf.fs import fsync_dir

    fsync_dir(hooks)


def _roll_back(chained: Path, hook: Path) -> None:
    try:
        os.replace(chained, hook)
    except OSError as e:
        raise LlmconfError(
            f"cannot install the hook, nor put yours back: {e.strerror or e}; your hook is at {CHAINED}",
            hook,
            hint=f"rename {CHAINED} back to {HOOK}",
        ) from None


def _write_temp(folder: Path, text: str) -> Path:
    """The hook's text in a new executable file in `folder` (same file system as the hook)."""
    from llmconf.fs import own_like_folder

    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{HOOK}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o755)
            own_like_folder(f.fileno(), folder)  # under sudo: the repository owner's
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)




def remove(hooks: Path) -> Literal["restored", "removed and restored", "removed", "none", "not ours"]:
    """Take llmconf's hook out, putting back the one it kept: what was done."""
    hook, chained = hooks / HOOK, hooks / CHAINED
    try:
        if not is_ours(hook):
            if not exists(hook) and exists(chained):
                # Left by an install that failed half way (before this version): git does not
                # run it there.
                os.replace(chained, hook)
                return "restored"
            return "not ours" if exists(hook) else "none"
        if exists(chained):
            os.replace(chained, hook)
            return "removed and restored"
        hook.unlink()
        return "removed"
    except OSError as e:
        raise LlmconfError(f"cannot remove the hook: {e.strerror or e}", hook) from None
