"""What a command that changes something outside the settings files (worktrees.yaml, the
profiles, the secret store, a git hook, editor schemas, a saved plan) says it did, and the
listings of validate and rollback --list. Each function is the whole text, lines joined."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llmconf.config.load import PROFILES_DIR
from llmconf.errors import display_path
from llmconf.targets.claude_code.settings import API_KEY, SETTINGS_FILE

if TYPE_CHECKING:
    from llmconf.apply.backup import Backup
    from llmconf.secrets.keyfiles import FoundKey
    from llmconf.targets.claude_code.adopt import Declaration, Folder

APPLY_NEXT = "Run 'llmconf apply' to write the settings files."


def switched(key: str, profile: str) -> str:
    return f"{key}: now uses profile '{profile}'."


def kept_overrides(key: str, config_name: str, fields: Iterable[str]) -> str:
    """The warning for a switched worktree whose overrides were written for its old profile."""
    return f"{key} keeps its own overrides in {config_name}: {', '.join(sorted(fields))}"


def initialised(config: Path, profiles: Path, copied: Sequence[str], schemas: Path) -> str:
    return (
        f"Wrote {config} and {len(copied)} profiles in {profiles}: {', '.join(copied)}.\n"
        f"Editor schemas are in {schemas} (refresh them with 'llmconf schema').\n"
        "Next: declare your worktrees in worktrees.yaml, then run 'llmconf plan'."
    )


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
        lines.append(f"{display_path(b.settings, cwd)}  {b.name}  {stamp}  {b.size} bytes")
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


def imported(
    skipped: Sequence[tuple[str, str, str]],
    decls: Sequence[tuple[Folder, Declaration]],
    stored: Sequence[FoundKey],
    left_out: Sequence[tuple[FoundKey, str]],
    store: Path,
    dry_run: bool,
    cwd: Path,
) -> str:
    """What `import` did (or, with --dry-run, would do): each folder already declared, each
    worktree declared, each secret stored, each --key-file key left out, then what to do next."""
    lines = [f"{key}: already declared in {config} (profile '{profile}'); left as it is." for key, config, profile in skipped]
    for wt, decl in decls:
        lines.append(f"{wt.key}: {_declared(decl, dry_run)}")
        if decl.how == "new" and decl.closest:
            near = ", ".join(decl.closest)
            lines.append(f"  close to existing profiles: {near}; to switch to one: llmconf use PROFILE {os.path.relpath(wt.path, cwd)}")
        if decl.adds_api_key:
            lines.append(
                f"  its file has no {API_KEY}: plan will add {API_KEY}: \"\" (the one change there; "
                "the token is still what Claude Code sends)."
            )
    verb = "would be stored" if dry_run else "stored"
    lines += (f"Secret '{found.name}': {verb} from {found.origin} in {store} (0600)." for found in stored)
    lines += (f"{found.origin}: {found.var} not stored: {why}." for found, why in left_out)
    if dry_run:
        lines.append("Dry run: nothing changed.")
    elif extra := [wt.key for wt, decl in decls if decl.adds_api_key]:
        lines.append(
            f"Next: 'llmconf plan' shows no changes for them, except {API_KEY} for {', '.join(extra)} "
            "('llmconf apply' adds it); switch a worktree with 'llmconf use PROFILE WORKTREE'."
        )
    elif decls:
        lines.append("Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.")
    return "\n".join(lines)


def _declared(decl: Declaration, would: bool) -> str:
    verb = "would be declared" if would else "declared"
    if decl.how == "absent":
        return f"{verb} with profile '{decl.profile}' (no {SETTINGS_FILE} there: Anthropic direct, nothing to adopt)."
    if decl.how == "match":
        return f"{verb} with profile '{decl.profile}' (its settings are exactly that profile)."
    if decl.how == "reuse":
        return f"{verb} with new profile '{decl.profile}' (the same backend as above)."
    if decl.how == "new":
        return f"{verb} with new profile '{decl.profile}' ({PROFILES_DIR}/{decl.profile}.yaml)."
    fields = ", ".join(".".join(fp) for fp in decl.overrides)
    return f"{verb} with profile '{decl.profile}' and its own {fields} (as the file holds it)."
