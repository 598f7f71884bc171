"""What a command that changes something outside the settings files (worktrees.yaml, the
profiles, the secret store, a git hook, editor schemas, a saved plan) says it did, and the
listings of validate and rollback --list (import's report is views/import_.py). Each function
is the whole text, lines joined."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from llmconf.errors import display_path

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from llmconf.apply.backup import Backup

APPLY_NEXT = "Run 'llmconf apply' to write the settings files."


def switched(key: str, profile: str) -> str:
    return f"{key}: now uses profile '{profile}'."


def slot_set(key: str, slot: str, model: str) -> str:
    return f"{key}: {slot} slot set to {model}."


def kept_overrides(key: str, config_name: str, fields: Iterable[str]) -> str:
    """The warning for a switched worktree whose overrides were written for its old profile."""
    return f"{key} keeps its own overrides in {config_name}: {', '.join(sorted(fields))} (--reset drops them)"


def forgotten(key: str, config_name: str, folder_exists: bool) -> str:
    """What `forget` did, and what it left alone."""
    said = f"{key}: no longer declared in {config_name}."
    if folder_exists:
        said += " Its settings file keeps what llmconf wrote there ('llmconf use anthropic WORKTREE --apply' first clears it)."
    return said


def initialised(config: Path, profiles: Path, copied: Sequence[str], schemas: Path, declared: bool) -> str:
    """What init wrote; with worktrees `declared`, what comes next is the adoption's to say."""
    return (
        f"Wrote {config} and {len(copied)} profiles in {profiles}: {', '.join(copied)}.\n"
        f"Editor schemas are in {schemas} (refresh them with 'llmconf schema')."
    ) + ("" if declared else "\nNext: declare your worktrees in worktrees.yaml, then run 'llmconf plan'.")


def wrote(paths: Iterable[Path], cwd: Path) -> str:
    return "\n".join(f"Wrote {display_path(path, cwd)}" for path in paths)


def plan_saved(out: Path, as_given: str, cwd: Path) -> str:
    return f"Saved this plan to {display_path(out, cwd)}. Apply exactly it with: llmconf apply {as_given}"


def valid(profiles: int, worktrees: int) -> str:
    return f"Valid: {profiles} profiles, {worktrees} worktrees."


def secret_stored(name: str, store: Path) -> str:
    return f"Stored secret '{name}' in {store} (0600)."


def secret_removed(name: str) -> str:
    return f"Removed secret '{name}'."


def backups(rows: Sequence[Backup], cwd: Path) -> str:
    """Backups by file: apply id, time and size; never their content."""
    if not rows:
        return "No backups."
    lines = []
    for b in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.strptime(b.name[:15], "%Y%m%dT%H%M%S"))
        size = "created by it" if b.size is None else f"{b.size} bytes"
        lines.append(f"{display_path(b.settings, cwd)}  {b.name}  {stamp}  {size}")
    return "\n".join(lines)


def hook_installed(hook: str, hooks: Path, config: Path, kept_as: Path | None, updated: bool, cwd: Path) -> str:
    lines = [f"Kept the existing {hook} hook as {display_path(kept_as, cwd)}; it still runs first."] if kept_as else []
    lines.append(
        f"{'Updated' if updated else 'Installed'} the {hook} hook in {display_path(hooks, cwd)}: 'git worktree add' "
        f"now applies the profile {display_path(config, cwd)} declares."
    )
    return "\n".join(lines)


def hook_removed(hook: str, hooks: Path, chained: Path, done: str, cwd: Path) -> str:
    """What `git-hook uninstall` did: `done` is hook.remove's answer."""
    if done == "restored":
        return f"Put back the {hook} hook llmconf had kept as {display_path(chained, cwd)}."
    if done in ("none", "not ours"):
        other = f" (its {hook} is not llmconf's: left as it is)" if done == "not ours" else ""
        return f"No llmconf hook in {display_path(hooks, cwd)}{other}; nothing to do."
    if done == "removed and restored":
        return f"Removed llmconf's {hook} hook and put back the one it had kept."
    return f"Removed llmconf's {hook} hook from {display_path(hooks, cwd)}."
