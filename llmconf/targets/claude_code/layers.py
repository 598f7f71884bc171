"""Where Claude Code reads a worktree's local settings, and where llmconf delivers them.

Claude Code 2.1.211+ started in a linked git worktree (or in a subfolder of a repository)
reads .claude/settings.local.json at the repository root first: for a linked worktree, the
main checkout's. The worktree's own file is still read, as the "legacy local settings file",
but the root's value wins key by key. Not so outside a git repository, when the root is the
home folder, on Windows, or when the root, its .git or .claude is not the user's own.

A worktree whose own file is not the one that decides gets its settings through Claude
Code's `--settings` layer instead (above every local file, below managed settings): a file
llmconf keeps outside the repository, found by `llmconf exec` and by the shell function
`llmconf activate` prints, at a path that mirrors the worktree's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from llmconf import fs
from llmconf.errors import LlmconfError
from llmconf.plan.model import Delivery
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.client import Rules

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

LOCAL = Path(".claude") / "settings.local.json"
#: The keys of a root's local file that can take a worktree's backend from it.
OWNED: tuple[target.KeyPath, ...] = (*target.BACKEND_KEYS, target.KEY_HELPER_KEY, target.DEFAULT_MODEL_KEY)
#: The name of a delivery file inside its mirror folder (see delivery_path).
DELIVERY_NAME = "claude-settings.json"


def _root(folder: str, memo: dict[str, str | None]) -> str | None:
    """The work tree whose local file Claude Code 2.1.211+ reads first for `folder`: the
    enclosing repository's top, or for a linked worktree its main checkout. None outside a
    repository, and for a bare repository's linked worktree (there is no main checkout).
    `memo` (one plan's) lets worktrees that share parent folders share the walk up."""
    # Strings and os.access, not Paths and exceptions: a plan asks this for every worktree,
    # and most have no .git of their own (their parent's answer is remembered).
    if folder in memo:
        return memo[folder]
    dot_git = folder + _GIT if folder != os.sep else _GIT
    found: str | None
    if os.access(dot_git, os.F_OK):
        if os.path.isdir(dot_git):
            found = folder
        else:
            main = main_checkout(Path(dot_git))
            found = None if main is None else os.fspath(main)
    else:
        parent = os.path.dirname(folder)
        found = None if parent == folder else _root(parent, memo)
    memo[folder] = found
    return found


_GIT = os.sep + ".git"


def main_checkout(dot_git: Path) -> Path | None:
    """A linked worktree's main checkout, from its .git file (gitdir: .../.git/worktrees/NAME)."""
    try:
        line = fs.read_text(dot_git, fs.SETTINGS_LIMIT).strip()  # a FIFO .git is refused, not waited on
    except (OSError, LlmconfError):
        return None
    if not line.startswith("gitdir:"):
        return None
    gitdir = Path(os.path.realpath(dot_git.parent / line[len("gitdir:") :].strip()))  # a loop is no RuntimeError
    try:
        common = Path(os.path.realpath(gitdir / fs.read_text(gitdir / "commondir", fs.SETTINGS_LIMIT).strip()))
    except (OSError, LlmconfError):
        return dot_git.parent  # a submodule or a plain gitdir link: it is its own root
    return common.parent if common.name == ".git" else None


def _owned(path: Path) -> bool:
    try:
        return os.stat(path).st_uid == os.getuid()
    except FileNotFoundError:
        return True  # a missing .claude is made by Claude Code, as the user
    except OSError:
        return False


_OUTSIDE_GIT = Delivery("file", "not in a git repository: Claude Code reads this folder's own settings.local.json")


def delivery(
    worktree: Path, rules: Rules, home: Path | None = None, memo: dict[str, str | None] | None = None
) -> Delivery:
    """Which delivery a worktree needs under these rules, and why (see settle for the last word)."""
    if not rules.root_local or sys.platform == "win32":
        return Delivery("file", f"Claude Code {rules.version} reads this worktree's own settings.local.json")
    found = _root(os.fspath(worktree), {} if memo is None else memo)
    if found is None:
        return _OUTSIDE_GIT
    root = Path(found)
    if os.path.normpath(root) == os.path.normpath(worktree):
        return Delivery("file", "the repository root: its settings.local.json is the one Claude Code reads first")
    home = home or Path.home()
    if os.path.normpath(root) == os.path.normpath(home):
        return Delivery("file", "the repository root is the home folder, so Claude Code reads this folder's own file")
    if hasattr(os, "getuid") and not all(_owned(p) for p in (root, root / ".git", root / ".claude")):
        return Delivery("file", "the repository root is not yours, so Claude Code reads this folder's own file")
    return Delivery(
        "settings",
        f"Claude Code {rules.version} reads {root / LOCAL} first, and it wins over this "
        "worktree's own file key by key (2.1.211+)",
        root / LOCAL,
    )


def settle(how: Delivery, root_keys: Mapping[target.KeyPath, Any], desired: Mapping[target.KeyPath, Any]) -> Delivery:
    """The delivery a worktree needs, given what the root's file will hold: its own file
    suffices unless the root sets one of the worktree's backend keys to another value."""
    clash = [k for k in OWNED if k in root_keys and root_keys[k] != desired.get(k)]
    if not clash:
        return Delivery(
            "file",
            f"{how.root_local} is read first (Claude Code 2.1.211+), but sets none of this "
            "worktree's keys otherwise: its own file decides",
            how.root_local,
        )
    return Delivery("settings", f"{how.why}: it sets {target.key_name(clash[0])}", how.root_local)


def flag_only(how: Delivery, desired: Mapping[target.KeyPath, Any]) -> Delivery:
    """The --settings delivery of a worktree whose own file would do but for a key Claude
    Code reads only from --settings, user and managed settings: without `llmconf exec` (or
    the activate hook) it still runs on its own file's backend, without that key."""
    name = next(target.key_name(k) for k in target.FLAG_ONLY_KEYS if k in desired)
    return Delivery(
        "settings",
        f"Claude Code reads {name} only from --settings, user and managed settings, never from "
        "a checkout's file: a plain claude here runs on its own file, without it",
        how.root_local,
    )


def delivered(desired: Mapping[target.KeyPath, str], root_keys: Mapping[target.KeyPath, Any]) -> dict[target.KeyPath, str]:
    """A --settings file's keys: the worktree's own, and a blank for every backend variable it
    leaves unset (and for a root's apiKeyHelper or model it does not set): Claude Code reads a
    blank as unset, so no layer below lends the worktree a value."""
    blanks = [k for k in target.BACKEND_KEYS if k not in desired]
    blanks += [k for k in (target.KEY_HELPER_KEY, target.DEFAULT_MODEL_KEY) if k in root_keys and k not in desired]
    return {**dict(desired), **dict.fromkeys(blanks, "")}


def deliveries_dir() -> Path:
    """$XDG_STATE_HOME/llmconf/deliver: per-worktree --settings files, 0600, outside any repository."""
    from llmconf.apply.state import state_file

    return state_file().parent / "deliver"


def delivery_path(worktree: Path, root: Path | None = None) -> Path:
    """The --settings file of a worktree: its absolute path mirrored under deliveries_dir(),
    so a shell function can find it by walking up $PWD with no process started."""
    return Path(delivery_name(worktree, os.fspath(root or deliveries_dir())))


def delivery_name(worktree: Path | str, root: str) -> str:
    """delivery_path as a string, under a deliveries folder the caller found once."""
    folder = os.path.normpath(os.path.abspath(worktree))
    return os.path.join(root + folder, DELIVERY_NAME) if folder != os.sep else os.path.join(root, DELIVERY_NAME)


def find_delivery(cwd: Path, root: Path | None = None, name: str = DELIVERY_NAME) -> Path | None:
    """The delivery file of the deepest worktree holding `cwd` (logical path, then physical);
    `name`: another agent's file in the worktree's delivery folder."""
    root = root or deliveries_dir()
    for start in dict.fromkeys((os.path.normpath(os.path.abspath(cwd)), os.path.realpath(cwd))):
        here = start
        while True:
            candidate = delivery_path(Path(here), root)
            if name != DELIVERY_NAME:
                candidate = candidate.with_name(name)
            if candidate.is_file():
                return candidate
            parent = os.path.dirname(here)
            if parent == here:
                break
            here = parent
    return None


class Overridden(LlmconfError):
    """A declared value that would not take effect: a layer above every delivery sets it."""


def overridden(desired: Mapping[target.KeyPath, Any], managed: Mapping[str, Any] | None, path: Path) -> Overridden | None:
    """The plan error for a worktree whose declared keys managed settings set otherwise (they
    win over every file and --settings layer); None when they do not. Values are not shown:
    either side may be a key."""
    if not managed:
        return None
    from llmconf.plan.model import ABSENT, get_key

    for key in OWNED:
        value = get_key(managed, key)
        if value is ABSENT or value == desired.get(key) or (value == "" and key not in desired):
            continue
        name = target.key_name(key)
        said = f"set {name}, which the profile leaves unset" if key not in desired else f"set {name} to another value"
        return Overridden(
            f"managed settings {said}: Claude Code uses theirs, whatever llmconf writes",
            path,
            hint=f"declare the managed value, or ask whoever manages {path} to drop {name}",
        )
    return None
