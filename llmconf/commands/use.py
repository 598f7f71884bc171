"""llmconf use PROFILE [WORKTREE...] [--reset] [--model SLOT=ID]: switch worktrees' profile in
worktrees.yaml, dropping their overrides or setting one slot's model on the way."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from llmconf import fs, pipeline
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.config.load import Sourced, user_path
from llmconf.config.yamledit import entry_of, replace_entry, set_profile
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.session import Session, open_for
from llmconf.views import done


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Under the lock: worktrees.yaml is read, edited and written back, maybe then applied.
    with locked(state_file().parent):
        return _use(args, ui)


def _use(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    if session.profiles.path(args.profile) is None:
        raise LlmconfError(f"unknown profile '{args.profile}'", hint=session.profiles.unknown_hint(args.profile))
    # A profile that does not load is refused before worktrees.yaml changes.
    session.profiles.resolve(args.profile, Sourced(args.profile, session.config.file, ()))
    models = _models(args.model or [])
    keys = [_key_for(session, arg, ui.cwd) for arg in args.worktrees] or [_enclosing(session, ui.cwd)]
    text = fs.read_text(session.config.file, fs.CONFIG_LIMIT)
    new = text
    for key in keys:
        new = set_profile(new, key, args.profile)
        if args.reset or models:
            entry = _entry(entry_of(new, key), args.profile, args.reset, models)
            new = replace_entry(new, key, entry, keep_comments=not args.reset)  # --reset: old notes go too
    if new != text:
        fs.write_atomic(session.config.file, new)
    overridden = {w.key: w.overrides for w in session.config.worktrees if w.repo is None}  # a repo's are its own
    for key in keys:
        ui.out(done.switched(key, args.profile))
        for slot, model in models.items():
            ui.out(done.slot_set(key, slot, model))
        kept = {".".join(fp) for fp in overridden.get(key, {}) if fp[:2] not in {("models", s) for s in models}}
        if kept and not args.reset:
            # Overrides were written for the old profile; they stay, and may not suit the new one.
            ui.warn(done.kept_overrides(key, session.config.file.name, kept))
    if not args.apply:
        ui.out(done.APPLY_NEXT)
        return 0
    # The switch and its apply succeed or fail together: declined or failed, worktrees.yaml is
    # put back, so a later plain `apply` cannot carry out a switch the user turned down.
    code = 1
    try:
        # A new session, of the file as now written: the old one's cache key is the old file's,
        # and a plan saved under it would make the next run see the old config. Where only
        # profiles of worktrees.yaml's own entries changed, it is the old session with those
        # profiles changed; else the file is read again.
        declared = {w.key for w in session.config.worktrees if w.repo is None}
        if args.reset or models or not set(keys) <= declared:
            session = open_for(str(session.config.dir), ui.cwd)
        else:
            session = session.switched(keys, args.profile, fs.read_bytes(session.config.file, fs.CONFIG_LIMIT))
        names = [str(session.config.dir / os.path.expanduser(k)) for k in keys]
        code = pipeline.apply_worktrees(session, names, args.yes, ui)
    finally:
        if code != 0 and new != text:
            fs.write_atomic(session.config.file, text)
            ui.warn(f"{session.config.file.name} put back as it was: the switch is undone with the apply")
    return code


def _models(pairs: list[str]) -> dict[str, str]:
    """--model SLOT=ID options as {slot: model ID}."""
    from llmconf.targets.claude_code.settings import SLOTS

    out = {}
    for pair in pairs:
        slot, sep, model = pair.partition("=")
        if not sep or slot not in SLOTS or not model.strip():
            raise LlmconfError(
                f"--model takes SLOT=ID, not '{pair}'",
                hint=f"SLOT is one of {', '.join(SLOTS)}: --model sonnet=z-ai/glm-4.7",
            )
        out[slot] = model.strip()
    return out


def _entry(old: object, profile: str, reset: bool, models: dict[str, str]) -> str | dict[str, object]:
    """A worktree's new entry: `profile`, its old overrides unless `reset`, then `models` on top."""
    entry: dict[str, object] = dict(old) if isinstance(old, dict) and not reset else {}
    entry["profile"] = profile
    if models:
        before = entry.get("models")
        entry["models"] = {**(before if isinstance(before, dict) else {}), **models}
    return profile if list(entry) == ["profile"] else entry


def _key_for(session: Session, arg: str, cwd: Path) -> str:
    """The worktrees.yaml key for a WORKTREE argument; an existing undeclared folder gets a new key."""
    try:
        decl = session.select([arg], cwd)[0]
    except LlmconfError:
        folder = user_path(cwd, arg)
        if not folder.exists():
            raise LlmconfError(
                f"no folder {folder}: it is not a worktree declared in {session.config.file.name} either",
                hint="create it first (git worktree add ...), or check the path; 'llmconf status' lists the declared ones",
            ) from None
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
