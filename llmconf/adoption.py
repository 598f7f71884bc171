"""Adopting the settings files switch scripts left: `llmconf import`, and `llmconf init` given
worktrees (a worktree a script had switched is declared as what it is, never as `anthropic`).

Everything is read and checked first: each folder and its settings file (none: Anthropic
direct), the key files, each worktree's declaration (rendered and diffed as plan would), and
each key against the secret store. Only then is anything written: new profiles (unused until
declared), then secrets, then worktrees.yaml last; a failure undoes what this run wrote, and
nothing is reported as done before it is.

The other agents come through their targets (`AgentTarget.adopt`): what each one's own files
in the folder configure by hand. The worktree's one profile must serve it: its entry lists the
agent, and gets the endpoint and models where the profile's differ (a new profile gets them
itself); the agent's key must be the profile's.
"""

from __future__ import annotations

import os
from pathlib import Path

from llmconf import fs
from llmconf.config import discover
from llmconf.config.load import DEFAULT_AGENTS, PROFILES_DIR, FieldPath, Sourced, WorktreeDecl, folder_identity, merge, user_path
from llmconf.config.transaction import add_to_config
from llmconf.config.yamledit import add_entry
from llmconf.console import Ui
from llmconf.errors import LlmconfError, LlmconfErrors, display_path
from llmconf.records import dataclass, field, replace
from llmconf.secrets.keyfiles import FoundKey, held, key_files
from llmconf.secrets.mask import holds_key
from llmconf.session import Session
from llmconf.targets.base import Found
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.adopt import (
    Declaration,
    Folder,
    NewProfile,
    Override,
    declare,
    declare_absent,
    secrets_read,
)

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


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
    #: By worktree key: each other agent found configured there, adopted or left out.
    agents: dict[str, list[AgentAdopted]] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentAdopted:
    """An agent other than Claude Code that a folder's own files configure by hand."""

    agent: str
    found: Found
    #: The fields given for it so that its profile serves it as its files do, and where:
    #: "entry" (the worktree's entry) or "profile" (the new profile this import writes).
    fields: tuple[FieldPath, ...] = ()
    where: str = "entry"
    #: Its key: "same" (the profile's), "stored" (stored as the profile's secret), "ref" (a
    #: reference the agent resolves; the profile's key replaces it), or "none".
    key: str = "none"
    secret: str | None = None
    #: Why it is not adopted (None: it is).
    left_out: str | None = None
    #: The host the profile's key will now go to, when that is not the profile's own gateway
    #: and the agent's files did not show the same key going there.
    other_host: str | None = None


@dataclass(frozen=True)
class _Extra:
    """What a worktree's entry gets for its other agents: their fields, and its `agents:`."""

    overrides: dict[FieldPath, Override] = field(default_factory=dict)
    agents: list[str] | None = None


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
    decls, extras, agents = _other_agents(session, decls, store_now, _default_agents(text), ui.cwd, errors)
    _raise(errors)
    new_text = text
    for wt, decl in decls:
        new_text = add_entry(new_text, wt.key, _entry(decl, extras.get(wt.key, _Extra())))

    if not dry_run:
        _write(session, decls, store_now, new_text if new_text != text else None, ui.cwd)
        # So that a command run inside these worktrees finds this config with no -C.
        discover.remember(session.config.dir, [wt.path for wt, _ in decls])
    return Adoption(skipped, decls, list(store_now.values()), notes, agents)


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


def _entry(decl: Declaration, extra: _Extra) -> str | dict[str, Any]:
    """The worktrees.yaml entry for a declaration: its profile, or a mapping with its agents
    and overrides."""
    overrides = {**decl.overrides, **extra.overrides}
    if not overrides and not extra.agents:
        return decl.profile
    entry: dict[str, Any] = {"profile": decl.profile}
    if extra.agents:
        entry["agents"] = list(extra.agents)  # written in flow style: agents: [claude-code, opencode]
    for fp, value in overrides.items():
        node = entry
        for part in fp[:-1]:
            node = node.setdefault(part, {})
        node[fp[-1]] = value
    return entry


def _default_agents(text: str) -> tuple[str, ...]:
    """The agents worktrees.yaml gives an entry that names none (its top-level `agents:`)."""
    from ruamel.yaml import YAML

    doc = YAML(typ="safe", pure=True).load(text)
    agents = doc.get("agents") if isinstance(doc, dict) else None
    return tuple(agents) if isinstance(agents, list) and agents else DEFAULT_AGENTS


def _other_agents(
    session: Session,
    decls: list[tuple[Folder, Declaration]],
    store_now: dict[str, FoundKey],
    defaults: tuple[str, ...],
    cwd: Path,
    errors: list[LlmconfError],
) -> tuple[list[tuple[Folder, Declaration]], dict[str, _Extra], dict[str, list[AgentAdopted]]]:
    """Each folder's other agents, as their targets find them: the declarations (a new profile
    may gain their endpoint and models), what each entry gets for them, and what was found."""
    from llmconf.targets.base import OTHER_AGENTS, agent_target

    pending: dict[str, NewProfile] = {}
    out: list[tuple[Folder, Declaration]] = []
    extras: dict[str, _Extra] = {}
    found_by: dict[str, list[AgentAdopted]] = {}
    for wt, decl in decls:
        new = decl.new_profile
        if new is not None:
            pending[decl.profile] = new
        extra: dict[FieldPath, Override] = {}
        adopted: list[AgentAdopted] = []
        for name in OTHER_AGENTS:
            target = agent_target(name)
            try:
                found = target.adopt(wt.path)
                if found is None:
                    continue
                one, want = _serve(session, wt, decl, pending.get(decl.profile), extra, name, found, store_now, cwd)
            except LlmconfError as e:
                errors.append(e)
                continue
            if new is not None and want:  # the new profile serves the agent itself
                new = pending[decl.profile] = NewProfile(new.name, {**new.fields, **want})
                one = replace(one, where="profile")
            else:
                extra.update(want)
            adopted.append(one)
        if new is not None:
            decl = replace(decl, new_profile=new)
        names = [a.agent for a in adopted if a.left_out is None]
        listed = list(dict.fromkeys([*defaults, *names])) if any(n not in defaults for n in names) else None
        if extra or listed:
            extras[wt.key] = _Extra(extra, listed)
        if adopted:
            found_by[wt.key] = adopted
        out.append((wt, decl))
    return out, extras, found_by


def _serve(
    session: Session,
    wt: Folder,
    decl: Declaration,
    new: NewProfile | None,
    extra: dict[FieldPath, Override],
    agent: str,
    found: Found,
    store_now: dict[str, FoundKey],
    cwd: Path,
) -> tuple[AgentAdopted, dict[FieldPath, str]]:
    """How the worktree's profile serves `agent` as its own files do: the fields that make its
    endpoint and models the agent's (none where the profile's already are). Raises when the
    agent's key is not the profile's: a worktree's agents share one profile, so one key."""
    from llmconf.render import as_literal, render_fields
    from llmconf.targets.base import MAIN_MODEL, SMALL_MODEL, agent_target, model_fields
    from llmconf.targets.claude_code.adopt import Markers, pending_fields, secret_named

    target = agent_target(agent)
    where = Sourced(decl.profile, wt.config_file, ("worktrees", wt.key))
    base = pending_fields(new, session.profiles, wt) if new is not None else session.profiles.resolve(decl.profile, where)
    overrides = {**decl.overrides, **extra}
    wdecl = WorktreeDecl(
        wt.key, wt.path, wt.path.name, where, {fp: Sourced(v, wt.config_file, ("worktrees", wt.key, *fp)) for fp, v in overrides.items()}
    )
    fields = merge(base, wdecl.overrides)
    markers, variables = Markers(session.secrets), session.config.vars
    adopted = AgentAdopted(agent, found)

    # The key: the profile's, one secret.
    has_key = found.key is not None or found.key_ref is not None
    own = render_fields(wdecl, fields, (("auth_token",), ("base_url",)), variables, markers)
    token = own.get(("auth_token",))
    if token is None and has_key:
        why = (
            f"its backend takes a key, and profile '{decl.profile}' (Claude Code's here) has none; "
            "a worktree's agents share one profile and its one key"
        )
        return replace(adopted, left_out=why), {}
    if token is not None and found.key is not None:
        name = secret_named(str(token))
        value = None
        if name is not None:
            value = store_now[name].value if name in store_now else held(session.secrets, name)[0]
        if name is None or (value is not None and value != found.key):
            what = f"secret '{name}'" if name is not None else "its auth_token"
            raise LlmconfError(
                f"{agent}'s key here is not the key of profile '{decl.profile}' ({what}), which Claude Code uses: "
                "a worktree's agents share one profile and its one key; nothing changed",
                found.key_file,
                found.key_line,
                hint=f"make the two keys the same, or take the key out of this file and import again ({agent} then gets the profile's)",
            )
        if value is None:
            store_now[name] = FoundKey(name, found.key, display_path(found.key_file or found.file, cwd))
        adopted = replace(adopted, key="same" if value is not None else "stored", secret=name)
    elif found.key_ref is not None:
        adopted = replace(adopted, key="ref")

    # The endpoint and models: the agent's own, where the profile's differ.
    source = model_fields(agent, target.fields, fields)
    got = render_fields(wdecl, fields, tuple(source.values()), variables, markers)
    rendered = {fp: str(got[src]) for fp, src in source.items() if src in got}
    want: dict[FieldPath, str] = {}
    url_field = ("endpoints", found.protocol)
    if rendered.get(url_field) != found.url:
        want[url_field] = as_literal(found.url)
    for fp, model in ((MAIN_MODEL, found.main), (SMALL_MODEL, found.small)):
        if model is not None and fp in target.fields and rendered.get(fp) != model:
            want[("agent_models", agent, fp[1])] = as_literal(model)
    if any(holds_key(value) for value in (found.url, found.main, found.small) if value is not None):
        raise LlmconfError(
            f"{agent}'s URL or model here holds what looks like a key, which llmconf never writes into worktrees.yaml; nothing changed",
            found.file,
            found.line,
            hint="put the key where the agent reads its key from, and import again",
        )
    if found.main is None and MAIN_MODEL not in rendered:
        raise LlmconfError(
            f"{agent} here names no model, and profile '{decl.profile}' gives it none; nothing changed",
            found.file,
            found.line,
            hint="name the model in the agent's settings, or set models.sonnet in the profile, and import again",
        )
    # A key the import did not see go to that URL (by reference, or none) may go somewhere new.
    gateways = {_host(str(url)) for url in (rendered.get(url_field), own.get(("base_url",))) if url is not None}
    if token is not None and adopted.key in ("ref", "none") and url_field in want and _host(found.url) not in gateways:
        adopted = replace(adopted, other_host=_host(found.url) or "another address")
    return replace(adopted, fields=tuple(want)), want


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
