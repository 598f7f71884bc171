"""Adopting the settings files switch scripts left: `llmconf import`, and `llmconf init` given
worktrees (a worktree a script had switched is declared as what it is, never as `anthropic`).

Everything is read and checked first: each folder and its settings file (none: Anthropic
direct), the key files, each worktree's declaration (rendered and diffed as plan would), and
each key against the secret store. Only then is anything written: new profiles (unused until
declared), then secrets, then worktrees.yaml last; a failure undoes what this run wrote, and
nothing is reported as done before it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from llmconf import fs
from llmconf.config import discover
from llmconf.config.load import PROFILES_DIR, folder_identity, user_path
from llmconf.config.transaction import add_to_config
from llmconf.config.yamledit import add_entry
from llmconf.console import Ui
from llmconf.errors import LlmconfError, LlmconfErrors, display_path
from llmconf.records import dataclass
from llmconf.secrets.keyfiles import FoundKey, held, key_files
from llmconf.session import Session
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.adopt import Declaration, Folder, NewProfile, declare, declare_absent, secrets_read


@dataclass(frozen=True)
class Adoption:
    """What one adoption did (or, dry, would do)."""

    #: (key, config file name, profile) of each folder worktrees.yaml declares already.
    skipped: list[tuple[str, str, str]]
    decls: list[tuple[Folder, Declaration]]
    #: The keys stored (or that would be).
    stored: list[FoundKey]
    #: Each --key-file key left out, with why.
    left_out: list[tuple[FoundKey, str]]


def adopt(session: Session, paths: list[str], key_file_args: list[str], ui: Ui, dry_run: bool) -> Adoption:
    """Declare each folder in `paths` as what its settings file holds. The caller holds the lock."""
    errors: list[LlmconfError] = []
    todo, skipped = _folders(session, paths, ui.cwd, errors)
    keys = key_files(key_file_args, ui.cwd, errors)
    _raise(errors)
    decls = _declarations(session, todo, errors)
    _raise(errors)
    store_now = _tokens(session, decls, ui.cwd, errors)
    _raise(errors)
    notes = _from_key_files(session, decls, keys, store_now, ui)

    # worktrees.yaml, edited in memory and checked before anything is written.
    text = fs.read_text(session.config.file, fs.CONFIG_LIMIT)
    new_text = text
    for wt, decl in decls:
        new_text = add_entry(new_text, wt.key, _entry(decl))

    if not dry_run:
        _write(session, decls, store_now, new_text if new_text != text else None, ui.cwd)
        # So that a command run inside these worktrees finds this config with no -C.
        discover.remember(session.config.dir, [wt.path for wt, _ in decls])
    return Adoption(skipped, decls, list(store_now.values()), notes)


def _folders(
    session: Session, paths: list[str], cwd: Path, errors: list[LlmconfError]
) -> tuple[list[tuple[Folder, dict[str, Any] | None]], list[tuple[str, str, str]]]:
    """Each folder to import with its settings document (None: no file), and a line for each
    folder worktrees.yaml declares already (by path, or as the same folder through a link)."""
    declared = {w.path: w for w in session.config.worktrees}
    identities = {folder_identity(w.path): w for w in session.config.worktrees}
    identities.pop(None, None)
    todo: list[tuple[Folder, dict[str, Any] | None]] = []
    skipped: list[tuple[str, str, str]] = []  # (key, config file name, profile)
    for folder in dict.fromkeys(user_path(cwd, arg) for arg in paths):
        if not folder.is_dir():
            what = "not a folder" if folder.exists() else "no such folder"
            errors.append(LlmconfError(f"{what}; nothing changed", folder, hint="name a worktree folder"))
            continue
        known = declared.get(folder) or identities.get(folder_identity(folder))
        if known is not None:
            skipped.append((known.key, session.config.file.name, str(known.profile.value)))
            continue
        try:
            _, doc = fs.read_settings(target.settings_path(folder))
        except LlmconfError as e:
            errors.append(e)
            continue
        # No file: Claude Code on its own login, what switch-claude.sh leaves; declared `anthropic`.
        todo.append((Folder(os.path.relpath(folder, session.config.dir), folder, session.config.file), doc))
    return todo, skipped


def _declarations(
    session: Session, todo: list[tuple[Folder, dict[str, Any] | None]], errors: list[LlmconfError]
) -> list[tuple[Folder, Declaration]]:
    """What each worktree is: a profile, maybe with an override, or a new profile (which a
    later worktree on the same backend reuses)."""
    pending: dict[str, NewProfile] = {}
    decls: list[tuple[Folder, Declaration]] = []
    for wt, doc in todo:
        try:
            decl = declare_absent(session, wt) if doc is None else declare(session, wt, doc, pending)
        except LlmconfError as e:
            e.path = e.path or wt.settings
            errors.append(e)
            continue
        if decl.new_profile is not None:
            pending[decl.profile] = decl.new_profile
        decls.append((wt, decl))
    return decls


def _tokens(
    session: Session, decls: list[tuple[Folder, Declaration]], cwd: Path, errors: list[LlmconfError]
) -> dict[str, FoundKey]:
    """The worktrees' own keys the store must take. Each must be what plan renders, so a
    different value already there (or in another imported file) is an error."""
    store_now: dict[str, FoundKey] = {}
    for wt, decl in decls:
        # The token, and each key found inside another value (a URL's path, a model...).
        taken = [(decl.secret, decl.token, target.AUTH_TOKEN)] if decl.secret is not None and decl.token is not None else []
        taken += [(name, value, "key inside a value") for name, value in decl.moved.items()]
        for name, value, what in taken:
            _take(session, FoundKey(name, value, display_path(wt.settings, cwd)), what, wt.settings, store_now, errors)
    return store_now


def _take(
    session: Session, found: FoundKey, what: str, settings: Path, store_now: dict[str, FoundKey], errors: list[LlmconfError]
) -> None:
    """One key for the store, unless a different value is already there (or in another file)."""
    earlier = store_now.get(found.name)
    if earlier is not None:
        if earlier.value != found.value:
            errors.append(
                LlmconfError(
                    f"its {what} differs from the one in {earlier.origin}, and both would be "
                    f"secret '{found.name}'; nothing changed",
                    settings,
                    hint="import them one at a time, or make the keys the same",
                )
            )
        return
    value, where = held(session.secrets, found.name)
    if value is None:
        store_now[found.name] = found
    elif value != found.value:
        errors.append(
            LlmconfError(
                f"its {what} differs from secret '{found.name}' {where}; nothing changed "
                "(plan would replace the file's key)",
                settings,
                hint=f"if the file's key is the right one: 'llmconf secret rm {found.name}' and import again",
            )
        )


def _from_key_files(
    session: Session, decls: list[tuple[Folder, Declaration]], keys: list[FoundKey], store_now: dict[str, FoundKey], ui: Ui
) -> list[tuple[FoundKey, str]]:
    """Adds to store_now the key files' keys the store lacks; returns each --key-file key left
    out, with why. A key is stored only for a secret some profile in worktrees.yaml reads once this
    import is done (the guide's folder holds other tools' keys too), and never replaces one."""
    needed: set[str] = set()
    if decls:
        needed = needed.union(*(decl.reads for _, decl in decls), *(secrets_read(session, w) for w in session.config.worktrees))
    notes: list[tuple[FoundKey, str]] = []  # (key, why it is not stored)
    for found in keys:
        if found.name not in needed:
            if found.explicit:
                reason = "no worktree is imported" if not decls else f"no declared worktree reads secret('{found.name}')"
                notes.append((found, reason))
            continue
        earlier = store_now.get(found.name)
        if earlier is not None:
            if earlier.value != found.value:
                ui.warn(f"{found.origin}: its key for secret '{found.name}' differs from the one in {earlier.origin}; kept that one")
            continue
        value, where = held(session.secrets, found.name)
        if value is None:
            store_now[found.name] = found
        elif value != found.value:
            ui.warn(
                f"{found.origin}: its key for secret '{found.name}' differs from the one {where}; kept that one "
                f"(to replace it: llmconf secret set {found.name})"
            )
    return notes


def _write(
    session: Session, decls: list[tuple[Folder, Declaration]], store_now: dict[str, FoundKey], new_text: str | None, cwd: Path
) -> None:
    """New profiles, each with a comment naming the settings file it came from, then the
    secrets, then worktrees.yaml: one transaction (config/transaction.py)."""
    from llmconf.config.schema import PROFILE_SCHEMA, SCHEMA_DIR, modeline

    schemas = session.config.dir / SCHEMA_DIR
    new_files = []
    for wt, decl in decls:
        if decl.new_profile is not None:
            path = session.config.dir / PROFILES_DIR / f"{decl.profile}.yaml"
            line = modeline(path, schemas / PROFILE_SCHEMA) if schemas.is_dir() else ""
            new_files.append((path, decl.new_profile.text(display_path(wt.settings, cwd), line)))
    secrets = {found.name: found.value for found in store_now.values()}
    add_to_config(new_files, secrets, session.secrets, session.config.file, new_text, cwd)


def _raise(errors: list[LlmconfError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise LlmconfErrors(errors)


def _entry(decl: Declaration) -> str | dict[str, Any]:
    """The worktrees.yaml entry for a declaration: its profile, or a mapping with its overrides."""
    if not decl.overrides:
        return decl.profile
    entry: dict[str, Any] = {"profile": decl.profile}
    for fp, value in decl.overrides.items():
        if len(fp) == 1:
            entry[fp[0]] = value
        else:
            entry.setdefault(fp[0], {})[fp[1]] = value
    return entry
