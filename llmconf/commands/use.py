"""llmconf use PROFILE [WORKTREE...]: switch worktrees' profile in worktrees.yaml."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from llmconf import fs, pipeline
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.config.load import Sourced, user_path
from llmconf.config.yamledit import set_profile
from llmconf.console import Ui
from llmconf.errors import LlmconfError, did_you_mean
from llmconf.session import Session, open_for
from llmconf.views import done


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Under the lock: worktrees.yaml is read, edited and written back, maybe then applied.
    with locked(state_file().parent):
        return _use(args, ui)


def _use(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    if session.profiles.path(args.profile) is None:
        names = session.profiles.names()
        raise LlmconfError(
            f"unknown profile '{args.profile}'", hint=did_you_mean(args.profile, names) or f"profiles: {', '.join(names)}"
        )
    # A profile that does not load is refused before worktrees.yaml changes.
    session.profiles.resolve(args.profile, Sourced(args.profile, session.config.file, ()))
    keys = [_key_for(session, arg, ui.cwd) for arg in args.worktrees] or [_enclosing(session, ui.cwd)]
    text = fs.read_text(session.config.file, fs.CONFIG_LIMIT)
    new = text
    for key in keys:
        new = set_profile(new, key, args.profile)
    if new != text:
        fs.write_atomic(session.config.file, new)
    overridden = {w.key: w.overrides for w in session.config.worktrees if w.repo is None}  # a repo's are its own
    for key in keys:
        ui.out(done.switched(key, args.profile))
        if overridden.get(key):
            # Overrides were written for the old profile; they stay, and may not suit the new one.
            ui.warn(done.kept_overrides(key, session.config.file.name, {".".join(fp) for fp in overridden[key]}))
    if not args.apply:
        ui.out(done.APPLY_NEXT)
        return 0
    # The switch and its apply succeed or fail together: declined or failed, worktrees.yaml is
    # put back, so a later plain `apply` cannot carry out a switch the user turned down.
    code = 1
    try:
        # A new session, read from the file as now written: the old one's cache key is the
        # old file's, and a plan saved under it would make the next run see the old config.
        session = open_for(str(session.config.dir), ui.cwd)
        names = [str(session.config.dir / os.path.expanduser(k)) for k in keys]
        code = pipeline.apply_worktrees(session, names, args.yes, ui)
    finally:
        if code != 0 and new != text:
            fs.write_atomic(session.config.file, text)
            ui.warn(f"{session.config.file.name} put back as it was: the switch is undone with the apply")
    return code


def _key_for(session: Session, arg: str, cwd: Path) -> str:
    """The worktrees.yaml key for a WORKTREE argument; an existing undeclared folder gets a new key."""
    try:
        decl = session.select([arg], cwd)[0]
    except LlmconfError:
        folder = user_path(cwd, arg)
        if not folder.is_dir():
            raise
        return os.path.relpath(folder, session.config.dir)
    if decl.error is not None:  # a repos: entry git could not expand: fix that first
        raise decl.error
    return decl.key


def _enclosing(session: Session, cwd: Path) -> str:
    here = Path(os.path.normpath(cwd))
    holding = [w for w in session.config.worktrees if here == w.path or w.path in here.parents]
    if not holding:
        raise LlmconfError(
            "the current folder is not inside any declared worktree", hint="name the worktree: llmconf use PROFILE WORKTREE"
        )
    return max(holding, key=lambda w: len(w.path.parts)).key
