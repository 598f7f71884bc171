"""llmconf import [PATH...]: adopt the settings files switch scripts left behind.

Everything is read and checked first: each folder and its settings file (none: Anthropic
direct), the key files, each worktree's declaration (rendered and diffed as plan would), and
each key against the secret store. Only then is anything written: new profiles (unused until
declared), then secrets, then worktrees.yaml last; a failure undoes what this run wrote, and
nothing is reported as done before it is. Like `use`, it asks nothing: it only adds
declarations, and plan and apply still gate every write to a settings file.
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
from llmconf.importer import Declaration, NewProfile, Worktree, declare, declare_absent, secrets_read
from llmconf.load import PROFILES_DIR, folder_identity, user_path
from llmconf.lock import locked
from llmconf.secrets import SecretStore, check_name, env_var
from llmconf.state import state_file
from llmconf.ui import Ui
from llmconf.yamledit import add_entry, set_profile

#: Where the guide's save-openrouter-key.sh keeps keys: one .env.NAME file per gateway.
KEY_FILE_GLOB = ("~/.config/forgerank", ".env.*")
_KEY_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
#: Only NAME_API_KEY lines: the guide's folder may hold GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY...
_KEY_NAME = re.compile(r"^(.+?)_API_KEY$")


@dataclass(frozen=True)
class _Found:
    """A key read from somewhere: which secret it belongs to and where it came from."""

    name: str
    value: str
    origin: str  # a file, as shown to the user (never the value)
    var: str = ""  # the key file's variable (OPENROUTER_API_KEY)
    explicit: bool = False  # from --key-file


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
    todo: list[tuple[Worktree, dict | None]] = []
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
        try:
            _, doc = fs.read_settings(target.settings_path(folder))
        except LlmconfError as e:
            errors.append(e)
            continue
        # No file: Claude Code on its own login, what switch-claude.sh leaves; declared `anthropic`.
        todo.append((Worktree(os.path.relpath(folder, ws.config.dir), folder, ws.config.file), doc))
    keys = _key_files(args.key_file, errors)
    _raise(errors)

    # What each worktree is: a profile, maybe with an override, or a new profile.
    pending: dict[str, NewProfile] = {}
    sources: dict[str, str] = {}  # new profile -> the settings file it came from
    decls: list[tuple[Worktree, Declaration]] = []
    for wt, doc in todo:
        record = ws.state.record(wt.settings)
        try:
            if doc is None:
                decl = declare_absent(wt, ws.profiles, ws.secrets, ws.config.vars, record, ws.state.fingerprint)
            else:
                decl = declare(doc, wt, ws.profiles, ws.secrets, ws.config.vars, record, ws.state.fingerprint, pending)
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
    # A key file's key is stored only for a secret some profile in worktrees.yaml reads once
    # this import is done: the guide's folder holds other tools' keys too.
    notes: list[str] = []
    needed: set[str] = set()
    if decls:
        for decl in (d for _, d in decls):
            needed |= decl.reads
        for w in ws.config.worktrees:
            needed |= secrets_read(w, ws.profiles, ws.secrets, ws.config.vars)
    for found in keys:
        if found.name not in needed:
            if found.explicit:
                reason = "no worktree is imported" if not decls else f"no declared worktree reads secret('{found.name}')"
                notes.append(f"{found.origin}: {found.var} not stored: {reason}.")
            continue
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

    lines = [*skipped]
    for wt, decl in decls:
        lines.append(f"{wt.key}: {_describe(decl, args.dry_run)}")
        if decl.how == "new" and decl.closest:
            near = ", ".join(decl.closest)
            lines.append(f"  close to existing profiles: {near}; to switch to one: llmconf use PROFILE {os.path.relpath(wt.path, ui.cwd)}")
        if decl.adds_api_key:
            lines.append(
                f"  its file has no {target.API_KEY}: plan will add {target.API_KEY}: \"\" (the one change there; "
                "the token is still what Claude Code sends)."
            )
    for found in store_now.values():
        verb = "would be stored" if args.dry_run else "stored"
        lines.append(f"Secret '{found.name}': {verb} from {found.origin} in {ws.secrets.path} (0600).")
    lines += notes
    if args.dry_run:
        for line in lines:
            ui.out(line)
        ui.out("Dry run: nothing changed.")
        return 0

    changed = new_text if new_text != text else None
    _write(ws.config.dir / PROFILES_DIR, pending, sources, store_now, ws.secrets, ws.config.file, changed, ui)
    for line in lines:
        ui.out(line)
    if decls:
        extra = [wt.key for wt, decl in decls if decl.adds_api_key]
        if extra:
            ui.out(
                f"Next: 'llmconf plan' shows no changes for them, except {target.API_KEY} for {', '.join(extra)} "
                "('llmconf apply' adds it); switch a worktree with 'llmconf use PROFILE WORKTREE'."
            )
        else:
            ui.out("Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.")
    return 0


def _write(
    profiles_dir: Path,
    pending: dict[str, NewProfile],
    sources: dict[str, str],
    store_now: dict[str, _Found],
    store: SecretStore,
    config: Path,
    new_text: str | None,
    ui: Ui,
) -> None:
    """New profiles (unused until declared), then secrets, then worktrees.yaml. A failure
    undoes what this run wrote (new files deleted, new secrets removed) and says what is left."""
    from llmconf.commands.schema import PROFILE_SCHEMA, SCHEMA_DIR, modeline

    for name in pending:
        path = profiles_dir / f"{name}.yaml"
        if path.exists():  # appeared since the profiles were listed
            raise LlmconfError("exists already; nothing changed", path, hint="run the import again")
    schemas = config.parent / SCHEMA_DIR
    created: list[Path] = []
    stored: list[str] = []
    try:
        for name, new in pending.items():
            path = profiles_dir / f"{name}.yaml"
            line = modeline(path, schemas / PROFILE_SCHEMA) if schemas.is_dir() else ""
            _write_file(path, new.text(sources[name], line))
            created.append(path)
        for found in store_now.values():
            store.set(found.name, found.value)
            stored.append(found.name)
        if new_text is not None:
            _write_file(config, new_text)
    except LlmconfError as e:
        left = _undo(created, stored, store, ui.cwd)
        raise LlmconfError(f"{e.message}; {left}", e.path, e.line, e.hint) from None


def _write_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fs.write_atomic(path, text)
    except OSError as e:
        reason = e.strerror or e.__class__.__name__
        if e.filename and Path(e.filename) != path:
            reason += f": {e.filename}"
        raise LlmconfError(f"cannot write it ({reason})", path) from None


def _undo(created: list[Path], stored: list[str], store: SecretStore, cwd: Path) -> str:
    """Delete what this run wrote; what could not be undone, as the end of the error message."""
    left = []
    for path in created:
        try:
            path.unlink()
        except OSError:
            left.append(display_path(path, cwd))
    for name in stored:
        try:
            store.remove(name)
        except (LlmconfError, OSError):
            left.append(f"secret '{name}'")
    if not left:
        return "nothing changed"
    return f"written before it and left in place: {', '.join(left)}; worktrees.yaml unchanged"


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
                keys.append((named.group(1).lower().replace("_", "-"), value, var))
        if required and not keys:
            errors.append(LlmconfError("holds no NAME_API_KEY=... line; nothing changed", path, hint="name a key file"))
        for name, value, var in keys:
            try:
                check_name(name)
            except LlmconfError:
                continue
            found.append(_Found(name, value, display_path(path), var, required))
    return found


def _describe(decl: Declaration, would: bool) -> str:
    verb = "would be declared" if would else "declared"
    if decl.how == "absent":
        return f"{verb} with profile '{decl.profile}' (no {target.SETTINGS_FILE} there: Anthropic direct, nothing to adopt)."
    if decl.how == "match":
        return f"{verb} with profile '{decl.profile}' (its settings are exactly that profile)."
    if decl.how == "reuse":
        return f"{verb} with new profile '{decl.profile}' (the same backend as above)."
    if decl.how == "new":
        return f"{verb} with new profile '{decl.profile}' ({PROFILES_DIR}/{decl.profile}.yaml)."
    fields = ", ".join(".".join(fp) for fp in decl.overrides)
    return f"{verb} with profile '{decl.profile}' and its own {fields} (as the file holds it)."


def _add_entry(text: str, key: str, decl: Declaration) -> str:
    """worktrees.yaml text with `key` declared: appended as lines under `worktrees:` in the
    file's own indentation when its layout allows (yamledit.add_entry), else through ruamel's
    round trip, which keeps comments but may reindent. Checked by parsing back either way."""
    entry: str | dict = decl.profile
    if decl.overrides:
        entry = {"profile": decl.profile}
        for fp, value in decl.overrides.items():
            if len(fp) == 1:
                entry[fp[0]] = value
            else:
                entry.setdefault(fp[0], {})[fp[1]] = value
    appended = add_entry(text, key, entry)
    if appended is not None and _has_entry(appended, key, decl):
        return appended
    out = set_profile(text, key, decl.profile)
    if not decl.overrides:
        return out
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    yaml.width = 4096
    doc = yaml.load(out)
    cm = CommentedMap(profile=decl.profile)
    groups: dict[str, CommentedMap] = {}
    for fp, value in decl.overrides.items():
        if len(fp) == 1:
            cm[fp[0]] = value
        else:
            if fp[0] not in groups:
                groups[fp[0]] = CommentedMap()
                groups[fp[0]].fa.set_flow_style()
                cm[fp[0]] = groups[fp[0]]
            groups[fp[0]][fp[1]] = value
    doc["worktrees"][key] = cm
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

