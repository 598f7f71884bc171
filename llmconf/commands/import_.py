"""llmconf import [PATH...]: adopt the settings files switch scripts left behind.

Everything is read and checked first: each folder and its settings file, the key files,
each worktree's declaration (rendered and diffed as plan would), and each key against the
secret store. Only then is anything written, in an order where a failure part-way leaves
nothing that matters: new profiles (unused until declared), then secrets, then
worktrees.yaml last. Like `use`, it asks nothing: it only adds declarations, and plan and
apply still gate every write to a settings file.
"""

from __future__ import annotations

import argparse
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from llmconf import fs, target
from llmconf.engine import open_workspace
from llmconf.errors import LlmconfError, LlmconfErrors, display_path
from llmconf.importer import Declaration, NewProfile, Worktree, declare
from llmconf.load import PROFILES_DIR, folder_identity, user_path
from llmconf.lock import locked
from llmconf.secrets import SecretStore, check_name, env_var
from llmconf.state import state_file
from llmconf.ui import Ui
from llmconf.yamledit import set_profile

#: Where the guide's save-openrouter-key.sh keeps keys: one .env.NAME file per gateway.
KEY_FILE_GLOB = ("~/.config/forgerank", ".env.*")
_KEY_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
_KEY_NAME = re.compile(r"^(.+?)_(?:API_KEY|AUTH_TOKEN|TOKEN|KEY)$")


@dataclass(frozen=True)
class _Found:
    """A key read from somewhere: which secret it belongs to and where it came from."""

    name: str
    value: str
    origin: str  # a file, as shown to the user (never the value)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Under the lock: worktrees.yaml and the secret store are read, checked and written.
    with locked(state_file().parent):
        return _import(args, ui)


def _import(args: argparse.Namespace, ui: Ui) -> int:
    ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
    errors: list[LlmconfError] = []
    declared = {w.path: w for w in ws.config.worktrees}
    identities = {folder_identity(w.path): w for w in ws.config.worktrees}
    identities.pop(None, None)
    seen: set[Path] = set()
    todo: list[tuple[Worktree, dict]] = []
    skipped: list[str] = []
    for arg in args.paths or ["."]:
        folder = user_path(ui.cwd, arg)
        if folder in seen:
            continue
        seen.add(folder)
        if not folder.is_dir():
            what = "not a folder" if folder.exists() else "no such folder"
            errors.append(LlmconfError(f"{what}; nothing changed", folder, hint="name a worktree folder"))
            continue
        known = declared.get(folder) or identities.get(folder_identity(folder))
        if known is not None:
            skipped.append(f"{known.key}: already declared in {ws.config.file.name} (profile '{known.profile.value}'); left as it is.")
            continue
        settings = target.settings_path(folder)
        try:
            _, doc = fs.read_settings(settings)
        except LlmconfError as e:
            errors.append(e)
            continue
        if doc is None:
            errors.append(
                LlmconfError(
                    "no settings file to import; nothing changed",
                    settings,
                    hint=f"a worktree without one has nothing to adopt: declare it with 'llmconf use PROFILE {arg}'",
                )
            )
            continue
        todo.append((Worktree(os.path.relpath(folder, ws.config.dir), folder, ws.config.file), doc))
    keys = _key_files(args.key_file, errors)
    _raise(errors)

    # What each worktree is: a profile, maybe with an override, or a new profile.
    pending: dict[str, NewProfile] = {}
    sources: dict[str, str] = {}  # new profile -> the settings file it came from
    decls: list[tuple[Worktree, Declaration]] = []
    for wt, doc in todo:
        try:
            decl = declare(
                doc, wt, ws.profiles, ws.secrets, ws.config.vars, ws.state.record(wt.settings), ws.state.fingerprint, pending
            )
        except LlmconfError as e:
            e.path = e.path or wt.settings
            errors.append(e)
            continue
        if decl.new_profile is not None:
            pending[decl.profile] = decl.new_profile
            sources[decl.profile] = display_path(wt.settings, ui.cwd)
        decls.append((wt, decl))
    _raise(errors)

    # Which keys go into the store: a worktree's own token must be what plan renders, so a
    # different value already there is an error; a key file's is only a candidate.
    store_now: dict[str, _Found] = {}
    notes: list[str] = []
    for wt, decl in decls:
        if decl.secret is None or decl.token is None:
            continue
        found = _Found(decl.secret, decl.token, display_path(wt.settings, ui.cwd))
        earlier = store_now.get(found.name)
        if earlier is not None:
            if earlier.value != found.value:
                errors.append(
                    LlmconfError(
                        f"its {target.AUTH_TOKEN} differs from the one in {earlier.origin}, and both would be "
                        f"secret '{found.name}'; nothing changed",
                        wt.settings,
                        hint="import them one at a time, or make the keys the same",
                    )
                )
            continue
        held, where = _held(ws.secrets, found.name)
        if held is None:
            store_now[found.name] = found
        elif held != found.value:
            errors.append(
                LlmconfError(
                    f"its {target.AUTH_TOKEN} differs from secret '{found.name}' {where}; nothing changed "
                    "(plan would replace the file's key)",
                    wt.settings,
                    hint=f"if the file's key is the right one: 'llmconf secret rm {found.name}' and import again",
                )
            )
    _raise(errors)
    for found in keys:
        earlier = store_now.get(found.name)
        held, where = _held(ws.secrets, found.name)
        if earlier is not None:
            if earlier.value != found.value:
                ui.warn(f"{found.origin}: its key for secret '{found.name}' differs from the one in {earlier.origin}; kept that one")
        elif held is None:
            store_now[found.name] = found
        elif held != found.value:
            ui.warn(
                f"{found.origin}: its key for secret '{found.name}' differs from the one {where}; kept that one "
                f"(to replace it: llmconf secret set {found.name})"
            )

    # worktrees.yaml, edited in memory and checked before anything is written.
    text = ws.config.file.read_text(encoding="utf-8")
    new_text = text
    for wt, decl in decls:
        new_text = _add_entry(new_text, wt.key, decl)

    for line in skipped:
        ui.out(line)
    for wt, decl in decls:
        ui.out(f"{wt.key}: {_describe(decl, args.dry_run)}")
        if decl.how == "new" and decl.closest:
            near = ", ".join(decl.closest)
            ui.out(f"  close to existing profiles: {near}; to switch to one: llmconf use PROFILE {os.path.relpath(wt.path, ui.cwd)}")
    for found in store_now.values():
        verb = "would be stored" if args.dry_run else "stored"
        ui.out(f"Secret '{found.name}': {verb} from {found.origin} in {ws.secrets.path} (0600).")
    if args.dry_run:
        ui.out("Dry run: nothing changed.")
        return 0

    profiles_dir = ws.config.dir / PROFILES_DIR
    for name, new in pending.items():
        path = profiles_dir / f"{name}.yaml"
        if path.exists():  # appeared since the profiles were listed
            raise LlmconfError("exists already; nothing changed", path, hint="run the import again")
    for name, new in pending.items():
        profiles_dir.mkdir(parents=True, exist_ok=True)
        fs.write_atomic(profiles_dir / f"{name}.yaml", new.text(sources[name]))
    for found in store_now.values():
        ws.secrets.set(found.name, found.value)
    if new_text != text:
        fs.write_atomic(ws.config.file, new_text)
    if decls:
        ui.out("Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.")
    return 0


def _raise(errors: list[LlmconfError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise LlmconfErrors(errors)


def _held(store: SecretStore, name: str) -> tuple[str | None, str]:
    """What a render of secret('NAME') reads now, and where that comes from (for messages)."""
    if os.environ.get(env_var(name)) is not None:
        where = f"set in ${env_var(name)}"
    elif name in store.sources:
        where = f"read through worktrees.yaml's secrets: source"
    else:
        where = f"already in {store.path}"
    return store.get(name), where


def _key_files(explicit: list[str], errors: list[LlmconfError]) -> list[_Found]:
    """Keys from the guide's key files (~/.config/forgerank/.env.*) and each --key-file."""
    folder, pattern = KEY_FILE_GLOB
    default = sorted(Path(os.path.expanduser(folder)).glob(pattern))
    found: list[_Found] = []
    for path, required in [*((p, False) for p in default), *((Path(os.path.expanduser(f)).absolute(), True) for f in explicit)]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            if required:
                what = "no such file" if isinstance(e, FileNotFoundError) else f"cannot read it ({e.__class__.__name__})"
                errors.append(LlmconfError(f"{what}; nothing changed", path, hint="name a key file holding NAME_API_KEY=..."))
            continue
        keys = []
        for line in text.splitlines():
            match = _KEY_LINE.match(line)
            if not match:
                continue
            var, value = match.group(1), match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            named = _KEY_NAME.match(var)
            if named and value:
                keys.append((named.group(1).lower().replace("_", "-"), value))
        if required and not keys:
            errors.append(LlmconfError("holds no NAME_API_KEY=... line; nothing changed", path, hint="name a key file"))
        for name, value in keys:
            try:
                check_name(name)
            except LlmconfError:
                continue
            found.append(_Found(name, value, display_path(path)))
    return found


def _describe(decl: Declaration, would: bool) -> str:
    verb = "would be declared" if would else "declared"
    if decl.how == "match":
        return f"{verb} with profile '{decl.profile}' (its settings are exactly that profile)."
    if decl.how == "reuse":
        return f"{verb} with new profile '{decl.profile}' (the same backend as above)."
    if decl.how == "new":
        return f"{verb} with new profile '{decl.profile}' ({PROFILES_DIR}/{decl.profile}.yaml)."
    fields = ", ".join(".".join(fp) for fp in decl.overrides)
    return f"{verb} with profile '{decl.profile}' and its own {fields} (as the file holds it)."


def _add_entry(text: str, key: str, decl: Declaration) -> str:
    """worktrees.yaml text with `key` declared; comments kept (yamledit, as `use` does)."""
    out = set_profile(text, key, decl.profile)
    if not decl.overrides:
        return out
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    yaml.width = 4096
    doc = yaml.load(out)
    entry = CommentedMap(profile=decl.profile)
    groups: dict[str, CommentedMap] = {}
    for fp, value in decl.overrides.items():
        if len(fp) == 1:
            entry[fp[0]] = value
        else:
            if fp[0] not in groups:
                groups[fp[0]] = CommentedMap()
                groups[fp[0]].fa.set_flow_style()
                entry[fp[0]] = groups[fp[0]]
            groups[fp[0]][fp[1]] = value
    doc["worktrees"][key] = entry
    buf = io.StringIO()
    yaml.dump(doc, buf)
    out = buf.getvalue()
    if not _has_entry(out, key, decl):
        raise LlmconfError(f"could not declare '{key}' safely; nothing changed")
    return out


def _has_entry(text: str, key: str, decl: Declaration) -> bool:
    from ruamel.yaml import YAML

    try:
        entry = (YAML(typ="safe", pure=True).load(text) or {}).get("worktrees", {})[key]
    except Exception:
        return False
    want: dict = {"profile": decl.profile}
    for fp, value in decl.overrides.items():
        if len(fp) == 1:
            want[fp[0]] = value
        else:
            want.setdefault(fp[0], {})[fp[1]] = value
    return bool(entry == want)

