"""llmconf use PROFILE [WORKTREE...]: switch worktrees' profile in worktrees.yaml."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from llmconf import fs
from llmconf.commands.apply import apply_worktrees
from llmconf.engine import Workspace, open_workspace
from llmconf.errors import LlmconfError, did_you_mean
from llmconf.config.load import Sourced, user_path
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.console import Ui
from llmconf.config.yamledit import set_profile


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Under the lock: worktrees.yaml is read, edited and written back, maybe then applied.
    with locked(state_file().parent):
        return _use(args, ui)


def _use(args: argparse.Namespace, ui: Ui) -> int:
    ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
    if ws.profiles.path(args.profile) is None:
        names = ws.profiles.names()
        raise LlmconfError(
            f"unknown profile '{args.profile}'", hint=did_you_mean(args.profile, names) or f"profiles: {', '.join(names)}"
        )
    # A profile that does not load is refused before worktrees.yaml changes.
    ws.profiles.resolve(args.profile, Sourced(args.profile, ws.config.file, ()))
    keys = [_key_for(ws, arg, ui.cwd) for arg in args.worktrees] or [_enclosing(ws, ui.cwd)]
    text = ws.config.file.read_text(encoding="utf-8")
    new = text
    for key in keys:
        new = set_profile(new, key, args.profile)
    if new != text:
        fs.write_atomic(ws.config.file, new)
    overridden = {w.key: w.overrides for w in ws.config.worktrees if w.repo is None}  # a repo's are its own
    for key in keys:
        ui.out(f"{key}: now uses profile '{args.profile}'.")
        if overridden.get(key):
            # Overrides were written for the old profile; they stay, and may not suit the new one.
            fields = ", ".join(sorted({".".join(fp) for fp in overridden[key]}))
            ui.warn(f"{key} keeps its own overrides in {ws.config.file.name}: {fields}")
    if not args.apply:
        ui.out("Run 'llmconf apply' to write the settings files.")
        return 0
    # The switch and its apply succeed or fail together: declined or failed, worktrees.yaml is
    # put back, so a later plain `apply` cannot carry out a switch the user turned down.
    done = 1
    try:
        # A new workspace, read from the file as now written: the old one's cache key is the
        # old file's, and a plan saved under it would make the next run see the old config.
        ws = open_workspace(str(ws.config.dir), ui.cwd)
        names = [str(ws.config.dir / os.path.expanduser(k)) for k in keys]
        done = apply_worktrees(ws, names, args.yes, ui)
    finally:
        if done != 0 and new != text:
            fs.write_atomic(ws.config.file, text)
            ui.warn(f"{ws.config.file.name} put back as it was: the switch is undone with the apply")
    return done


def _key_for(ws: Workspace, arg: str, cwd: Path) -> str:
    """The worktrees.yaml key for a WORKTREE argument; an existing undeclared folder gets a new key."""
    try:
        decl = ws.select([arg], cwd)[0]
    except LlmconfError:
        folder = user_path(cwd, arg)
        if not folder.is_dir():
            raise
        return os.path.relpath(folder, ws.config.dir)
    if decl.error is not None:  # a repos: entry git could not expand: fix that first
        raise decl.error
    return decl.key


def _enclosing(ws: Workspace, cwd: Path) -> str:
    here = Path(os.path.normpath(cwd))
    holding = [w for w in ws.config.worktrees if here == w.path or w.path in here.parents]
    if not holding:
        raise LlmconfError(
            "the current folder is not inside any declared worktree", hint="name the worktree: llmconf use PROFILE WORKTREE"
        )
    return max(holding, key=lambda w: len(w.path.parts)).key
