"""Adopt a settings file a switch script left: the profile it is on, or the profile it needs.

Pure: a settings document and the workspace (its profiles, vars, secret store and llmconf's
record of that file) in, a declaration out. Every candidate is judged the way `plan` judges it (render, then diff
against the file with the same ownership rules), so an import is in sync by construction.

Key values never enter a render: each secret('NAME') renders as a marker naming the secret,
and the file's token is compared as that marker. That is also how the secret a profile
reads is found. The value itself only travels to the secret store, never into YAML.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from llmconf import fs
from llmconf.apply.state import FileRecord
from llmconf.catalog.catalog import Describer
from llmconf.config.load import PROFILES_DIR, FieldPath, Sourced, WorktreeDecl, merge
from llmconf.config.profiles import Profiles
from llmconf.config.yamledit import yaml_scalar
from llmconf.errors import LlmconfError
from llmconf.plan.model import ABSENT, Action, KeyChange, diff, get_key
from llmconf.records import dataclass, field, replace
from llmconf.render import as_literal, render
from llmconf.secrets.mask import holds_key, keys_in
from llmconf.secrets.store import SecretStore
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.session import Session

_TOKEN: target.KeyPath = (target.ENV, target.AUTH_TOKEN)
_API_KEY: target.KeyPath = (target.ENV, target.API_KEY)
_BASE_URL: target.KeyPath = (target.ENV, target.BASE_URL)
#: Keys that say which gateway and which key: a profile that differs in one is another backend.
_IDENTITY = (_BASE_URL, _TOKEN, _API_KEY)
_MARKER = re.compile(r"^\x00llmconf-secret:(.+)\x00$")
_FIELD_ORDER = (
    "description", "extends", "base_url", "endpoints", "auth_token", "models", "agent_models", "labels", "descriptions", "capabilities", "subagent",
    "default", "catalog_info", "env",
)
#: The override (or profile field) that keeps the catalog's slot labels out of a file without them.
_NO_CATALOG_INFO: FieldPath = ("catalog_info",)
#: An override's value: a field's text, a switch (catalog_info: false), or null (unset).
Override = str | bool | None
_SECRET_CALL = re.compile(r"""secret\(\s*(['"])([^'"]+)\1\s*\)""")


def marker(name: str) -> str:
    """What secret('NAME') renders as while importing: names the secret, holds no value."""
    return f"\x00llmconf-secret:{name}\x00"


def secret_named(text: str) -> str | None:
    """The secret a rendered value is, when it is one marker and nothing else (see marker)."""
    match = _MARKER.match(text)
    return match.group(1) if match else None


class Markers(SecretStore):
    """A store whose every secret is its marker; path and sources are the real store's, so a
    `key_via: helper` command renders exactly as plan renders it."""

    def __init__(self, store: SecretStore) -> None:
        super().__init__(store.path, store.sources, store.config_dir)

    def get(self, name: str) -> str | None:
        return marker(name)


@dataclass(frozen=True)
class Folder:
    """A folder being imported, as worktrees.yaml will declare it (a worktree-to-be)."""

    key: str
    path: Path
    config_file: Path

    @property
    def settings(self) -> Path:
        return target.settings_path(self.path)


@dataclass(frozen=True)
class NewProfile:
    """A profile the import writes to profiles/NAME.yaml."""

    name: str
    fields: dict[FieldPath, str | bool]  # flat: ("extends",), ("models", "sonnet"), ...

    def text(self, source: str, modeline: str = "") -> str:
        """The profile file, commented with where it came from (after the editor's schema line, if any)."""
        lines = [modeline, f"# Written by 'llmconf import' from {source}: the backend a switch script left there.\n"]
        done: set[str] = set()
        for name in _FIELD_ORDER:
            sub = [(fp[1], v) for fp, v in self.fields.items() if fp[0] == name and len(fp) == 2]
            # Three levels (agent_models.opencode.main): one flow mapping per agent.
            deep: dict[str, list[str]] = {}
            for fp, v in self.fields.items():
                if fp[0] == name and len(fp) == 3:
                    deep.setdefault(fp[1], []).append(f"{yaml_scalar(fp[2], key=True)}: {yaml_scalar(v, flow=True)}")
            if (name,) in self.fields:
                lines.append(f"{name}: {yaml_scalar(self.fields[(name,)])}\n")
            elif sub:
                lines.append(f"{name}:\n" + "".join(f"  {k}: {yaml_scalar(v)}\n" for k, v in sub))
            elif deep:
                lines.append(f"{name}:\n" + "".join(f"  {k}: {{{', '.join(v)}}}\n" for k, v in deep.items()))
            done.add(name)
        assert {fp[0] for fp in self.fields} <= done, "every field has a place"
        return "".join(lines)


@dataclass(frozen=True)
class Declaration:
    """How one worktree is declared so that plan finds it in sync."""

    profile: str
    how: str  # "match" | "override" | "new" | "reuse" (a profile this import writes, again) | "absent" (no file)
    overrides: dict[FieldPath, Override] = field(default_factory=dict)
    new_profile: NewProfile | None = None
    secret: str | None = None  # the secret the token goes under
    token: str | None = field(default=None, repr=False)  # never shown
    #: For a new profile: the existing profiles (same gateway) one or two settings away, if any.
    closest: tuple[str, ...] = ()
    #: Every secret the declaration renders (secret('NAME')): what the store must hold for it.
    reads: frozenset[str] = frozenset()
    #: The file has a token but no ANTHROPIC_API_KEY (how z.ai and DeepSeek document it):
    #: plan adds `ANTHROPIC_API_KEY: ""`, the one change it makes there.
    adds_api_key: bool = False
    #: The file holds the key and others may read it: its mode (plan makes it 0600).
    loose_mode: int | None = None
    #: Keys found inside other values (a URL with a key in its path, a model, an env value),
    #: by the secret each goes under: they go to the store, the YAML reads them by secret().
    moved: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass
class _Candidate:
    name: str
    fields: dict[FieldPath, Sourced]
    rank: tuple[Any, ...]
    pending: NewProfile | None = None


def declare(session: Session, wt: Folder, doc: Mapping[str, Any], pending: Mapping[str, NewProfile]) -> Declaration:
    """The declaration that makes plan leave this settings document exactly as it is.

    In order: a profile that renders exactly what the file holds (the user's own first,
    then shared, then shipped; the fewest owned keys, then the shortest `extends` chain);
    with no gateway, `anthropic` plus overrides; a profile one setting away, when only one
    is, plus that override; else a new profile (extending the gateway profile whose URL
    and key match, when there is one). Raises when nothing llmconf can declare leaves the
    file as it is.
    """
    profiles = session.profiles
    check = _Checker(session, wt, doc)
    candidates = _candidates(profiles, pending, wt)
    outcomes = []
    for c in candidates:
        try:
            outcomes.append((c, check.changes(c.name, c.fields, {})))
        except LlmconfError:
            continue  # a profile that does not render (a missing var, a broken file) is no match
    # Profiles that render the same keys are one backend: keep the best-ranked of each.
    groups: dict[tuple[Any, ...], tuple[_Candidate, tuple[KeyChange, ...], int]] = {}
    for c, (changes, desired) in outcomes:
        sig = tuple(sorted((k, str(v)) for k, v in desired.items()))
        best = groups.get(sig)
        if best is None or c.rank < best[0].rank:
            groups[sig] = (c, changes, len(desired))

    exact = [(size, c.rank, c) for c, changes, size in groups.values() if not changes]
    if exact:
        c = min(exact, key=lambda x: (x[0], x[1]))[2]
        return check.result(c.name, c.fields, {}, "reuse" if c.pending else "match")

    # A file a profile renders exactly but for the catalog's /model labels: that profile, without them.
    unlabelled = [
        (size, c.rank, c) for c, changes, size in groups.values() if changes and all(_from_catalog(ch) for ch in changes)
    ]
    if unlabelled:
        c = min(unlabelled, key=lambda x: (x[0], x[1]))[2]
        return check.result(c.name, c.fields, {_NO_CATALOG_INFO: False}, "override")

    if _BASE_URL not in _owned_present(doc, check.record):
        anthropic = next((c for c in candidates if c.name == "anthropic"), None)
        if anthropic is None:
            raise LlmconfError("no 'anthropic' profile to declare a worktree without a gateway", wt.settings)
        changes, _ = check.changes(anthropic.name, anthropic.fields, {})
        overrides = _overrides(changes, doc, check.hidden)
        if overrides is None:
            raise check.unrepresentable(changes)
        return check.result(anthropic.name, anthropic.fields, overrides, "override")

    near = []
    for c, changes, _ in groups.values():
        overrides = _overrides(changes, doc, check.hidden)
        if overrides is not None and len(overrides.keys() - {_NO_CATALOG_INFO}) == 1 and c.pending is None:
            near.append((c, overrides))
    if len(near) == 1:  # one profile, one setting away: clearly that profile, with that setting
        c, overrides = near[0]
        return check.result(c.name, c.fields, overrides, "override")

    new = _new_profile(doc, check.record, wt, groups.values(), profiles, pending, check.hidden)
    fields = pending_fields(new, profiles, wt)
    changes, _ = check.changes(new.name, fields, {})
    if changes and all(_from_catalog(c) for c in changes):  # the file has no labels: the profile adds none
        new = NewProfile(new.name, {**new.fields, _NO_CATALOG_INFO: False})
        fields = pending_fields(new, profiles, wt)
    near_misses = [  # how many settings away, the catalog's /model labels aside
        (n, c.rank, c.name)
        for c, ch, _ in groups.values()
        if c.pending is None and _same_gateway(ch) and (n := sum(not _from_catalog(x) for x in ch))
    ]
    fewest = min((n for n, *_ in near_misses), default=0)
    closest = tuple(name for n, _, name in sorted(near_misses, key=lambda m: m[1]) if n == fewest and n <= 2)
    decl = check.result(new.name, fields, {}, "new")
    return replace(decl, how="new", overrides={}, new_profile=new, closest=closest)


def declare_absent(session: Session, wt: Folder) -> Declaration:
    """A folder without a settings file is on Anthropic direct: `anthropic`, checked as plan would."""
    check = _Checker(session, wt, {})
    try:
        fields = session.profiles.resolve("anthropic", Sourced("anthropic", wt.config_file, ()))
    except LlmconfError as e:
        raise LlmconfError(
            f"no settings file, and no 'anthropic' profile to declare it with: {e.message}", wt.settings
        ) from None
    return check.result("anthropic", fields, {}, "absent")


def secrets_read(session: Session, decl: WorktreeDecl) -> set[str]:
    """The secrets a declared worktree's profile reads (rendered with markers, no value fetched).

    A declaration that does not render (plan reports why) is read for literal secret('NAME') refs.
    """
    fields: dict[FieldPath, Sourced] = {}
    try:
        fields = merge(session.profiles.resolve(decl.profile.value, decl.profile), decl.overrides)
        reads: dict[str, str | None] = {}
        render(decl, fields, session.config.vars, Markers(session.secrets), reads)
        return _secret_names(reads)
    except LlmconfError:
        return {m.group(2) for s in fields.values() if isinstance(s.value, str) for m in _SECRET_CALL.finditer(s.value)}


class _Checker:
    """Renders a declaration for one worktree and diffs it against the file, as plan would."""

    def __init__(self, session: Session, wt: Folder, doc: Mapping[str, Any]) -> None:
        self.doc, self.wt, self.markers, self.variables = doc, wt, Markers(session.secrets), session.config.vars
        self.record, self.fingerprint = session.state.record(wt.settings), session.state.fingerprint
        self.describe = Describer(session.config.dir)  # as plan renders: slots labelled from the catalog
        #: Each key-shaped part of the file's other values -> the secret it goes under. The
        #: file is compared with those parts as markers, as the token is: no key enters a render.
        self.hidden = _hidden_keys(doc, self.record)

    def _decl(self, profile: str, overrides: Mapping[FieldPath, Override]) -> WorktreeDecl:
        loc = ("worktrees", self.wt.key)
        return WorktreeDecl(
            self.wt.key,
            self.wt.path,
            self.wt.path.name,
            Sourced(profile, self.wt.config_file, loc),
            {fp: Sourced(v, self.wt.config_file, loc + fp) for fp, v in overrides.items()},
        )

    def changes(
        self,
        profile: str,
        fields: dict[FieldPath, Sourced],
        overrides: Mapping[FieldPath, Override],
        reads: dict[str, str | None] | None = None,
    ) -> tuple[tuple[KeyChange, ...], dict[target.KeyPath, str]]:
        """What plan would change, and the keys it renders (with secret markers).

        One change is let through: `ANTHROPIC_API_KEY: ""` where the file has none (z.ai's and
        DeepSeek's own instructions leave it out); `adds_api_key` says so, and the output too.
        """
        decl = self._decl(profile, overrides)
        desired = render(decl, merge(fields, decl.overrides), self.variables, self.markers, reads, describe=self.describe)
        current = _as_markers(self.doc, self.hidden, self.record)
        token = desired.get(_TOKEN)
        env = current.get(target.ENV)
        if token is not None and _MARKER.match(token) and isinstance(env, dict) and isinstance(env.get(target.AUTH_TOKEN), str):
            current[target.ENV] = env = {**env, target.AUTH_TOKEN: token}  # the file's key, as that secret
        if self.adds_api_key(desired):
            current[target.ENV] = {**(env if isinstance(env, dict) else {}), target.API_KEY: ""}
        changes, _ = diff(desired, current, self.record.keys, self.fingerprint, self.record.created, self.record.secret)
        return changes, desired

    def adds_api_key(self, desired: Mapping[target.KeyPath, str]) -> bool:
        """Plan would add a blank ANTHROPIC_API_KEY beside the file's own token, and nothing else for it."""
        env = self.doc.get(target.ENV)
        return (
            desired.get(_API_KEY) == ""
            and isinstance(env, dict)
            and target.API_KEY not in env
            and isinstance(env.get(target.AUTH_TOKEN), str)
        )

    def result(
        self, profile: str, fields: dict[FieldPath, Sourced], overrides: dict[FieldPath, Override], how: str
    ) -> Declaration:
        """The declaration, checked once more as a whole: plan must find nothing to change."""
        reads: dict[str, str | None] = {}
        try:
            changes, desired = self.changes(profile, fields, overrides, reads)
        except LlmconfError as e:
            raise LlmconfError(
                f"cannot be declared so that plan leaves it as it is: {e.message}", self.wt.settings, hint=_HINT
            ) from None
        if changes:
            raise self.unrepresentable(changes)
        token = None
        secret = secret_named(desired.get(_TOKEN, ""))
        if secret is not None:
            token = self.doc[target.ENV][target.AUTH_TOKEN]
        read = _secret_names(reads)
        moved = {name: part for part, name in self.hidden.items() if name in read and name != secret}
        return Declaration(
            profile,
            how,
            overrides,
            secret=secret,
            token=token,
            moved=moved,
            reads=frozenset(read),
            adds_api_key=self.adds_api_key(desired),
            loose_mode=fs.loose_mode(self.wt.settings) if token is not None or moved else None,
        )

    def unrepresentable(self, changes: tuple[KeyChange, ...]) -> LlmconfError:
        env = self.doc.get(target.ENV)
        env = env if isinstance(env, dict) else {}
        # The catalog's /model labels aside: catalog_info: false keeps those out.
        named = [c for c in changes if not _from_catalog(c)] or changes
        keys = ", ".join(target.key_name(c.key) for c in named)
        if env.get(target.API_KEY):
            hint = (
                "llmconf sends a gateway key as ANTHROPIC_AUTH_TOKEN with ANTHROPIC_API_KEY blank; "
                "move the key there by hand and import again, or leave this worktree out and use 'llmconf use'"
            )
        elif target.AUTH_TOKEN in env and target.BASE_URL not in env:
            hint = "a token without ANTHROPIC_BASE_URL goes nowhere; remove it by hand, or leave this worktree out"
        else:
            hint = _HINT
        return LlmconfError(
            f"cannot be declared so that plan leaves it as it is (plan would change {keys}); nothing changed",
            self.wt.settings,
            hint=hint,
        )


_HINT = "fix those keys by hand and import again, or leave this worktree out and use 'llmconf use PROFILE WORKTREE'"


def _secret_names(reads: Mapping[str, str | None]) -> set[str]:
    """The secrets a render looked up (its reads hold "secret:NAME" and "env:NAME")."""
    return {k.split(":", 1)[1] for k in reads if k.startswith("secret:")}


def _candidates(profiles: Profiles, pending: Mapping[str, NewProfile], wt: Folder) -> list[_Candidate]:
    out = []
    for name in profiles.names():
        path = profiles.path(name)
        if path is None:
            continue
        try:
            fields = profiles.resolve(name, Sourced(name, wt.config_file, ()))
            depth = _depth(profiles, name)
        except LlmconfError:
            continue
        folder = next((i for i, d in enumerate(profiles.dirs) if path.parent.resolve() == d), len(profiles.dirs))
        out.append(_Candidate(name, fields, (folder, depth, name)))
    for name, new in pending.items():
        try:
            out.append(_Candidate(name, pending_fields(new, profiles, wt), (0, 0, name), new))
        except LlmconfError:
            continue
    return out


def _depth(profiles: Profiles, name: str) -> int:
    depth = 0
    while name is not None and depth < 50:
        profile, _ = profiles.load(name, Sourced(name, Path(name), ()))
        name, depth = profile.extends, depth + 1
    return depth


def pending_fields(new: NewProfile, profiles: Profiles, wt: Folder) -> dict[FieldPath, Sourced]:
    """A profile not yet written, resolved as Profiles would resolve it."""
    where = wt.config_file.parent / PROFILES_DIR / f"{new.name}.yaml"
    layer = {fp: Sourced(v, where, fp) for fp, v in new.fields.items() if fp != ("extends",)}
    base = new.fields.get(("extends",))
    return merge(profiles.resolve(str(base), Sourced(base, where, ("extends",))) if base else {}, layer)


def _owned_present(doc: Mapping[str, Any], record: FileRecord) -> dict[target.KeyPath, Any]:
    """The keys plan would own in this file (backend keys, and what llmconf wrote before) that it holds."""
    written = (target.parse_key(k) for k in record.keys)
    keys = dict.fromkeys([*target.BACKEND_KEYS, *written])
    return {k: v for k in keys if (v := get_key(doc, k)) is not ABSENT}


def _field_of(key: target.KeyPath) -> FieldPath | None:
    """The profile field that renders a settings key; None for the gateway and key themselves."""
    if key in _IDENTITY:
        return None
    if key == target.DEFAULT_MODEL_KEY:
        return ("default",)
    if len(key) != 2 or key[0] != target.ENV:
        return None
    if key[1] == target.SUBAGENT:
        return ("subagent",)
    if key[1] == target.DEFAULT_MODEL_VAR:
        return ("default",)
    for slot in target.SLOTS:
        if key[1] == target.slot_var(slot):
            return ("models", slot)
        for info in target.SLOT_INFO:
            if key[1] == target.slot_info_var(slot, info):
                return (info, slot)
    return ("env", key[1])


def _overrides(
    changes: tuple[KeyChange, ...], doc: Mapping[str, Any], hidden: Mapping[str, str]
) -> dict[FieldPath, Override] | None:
    """Overrides that undo these changes (each key back to what the file holds, its key-shaped
    parts read by secret()), or None."""
    out: dict[FieldPath, Override] = {}
    unlabelled = False
    for change in changes:
        if _from_catalog(change):
            unlabelled = True
            continue
        fp = _field_of(change.key)
        value = get_key(doc, change.key)
        if fp is None or not (value is ABSENT or isinstance(value, str)):
            return None
        if change.sensitive and not (isinstance(value, str) and _templated(value, hidden) != as_literal(value)):
            return None  # a secret that is not one of the parts this import moves to the store
        out[fp] = None if value is ABSENT else _templated(value, hidden)
    if unlabelled:
        out[_NO_CATALOG_INFO] = False  # last: the one switch beside the file's own values
    return out


def _from_catalog(change: KeyChange) -> bool:
    """A slot's label, description or capabilities the file lacks and the catalog would add."""
    return change.action is Action.ADD and (fp := _field_of(change.key)) is not None and fp[0] in target.SLOT_INFO


def _same_gateway(changes: tuple[KeyChange, ...]) -> bool:
    return not any(c.key in _IDENTITY for c in changes)


def _new_profile(
    doc: Mapping[str, Any],
    record: FileRecord,
    wt: Folder,
    groups: Any,
    profiles: Profiles,
    pending: Mapping[str, NewProfile],
    hidden: Mapping[str, str],
) -> NewProfile:
    """A profile holding what the file says: the gateway profile it matches as `extends`
    (its URL and key rendered the same), the rest as fields."""
    present = _owned_present(doc, record)
    base = None
    bases = []
    for c, changes, _ in groups:
        # A gateway profile sets no slot: every change is then a slot or extra the file adds.
        if c.pending is None and ("base_url",) in c.fields and not any(fp[0] == "models" for fp in c.fields):
            if all(ch.before is not None and ch.after is None and _field_of(ch.key) for ch in changes):
                bases.append((-len(c.fields), c.rank, c))
    if bases:
        base = min(bases, key=lambda x: (x[0], x[1]))[2]
    fields: dict[FieldPath, str | bool] = {}
    if base is not None:
        fields[("extends",)] = base.name
    base_keys = set(_IDENTITY) if base is not None else set()  # the base renders the gateway and key
    url = present.get(_BASE_URL)
    host = _host_label(url if isinstance(url, str) else "")
    for key, value in present.items():
        if key in base_keys or not isinstance(value, str):
            continue
        if key not in (_TOKEN, _API_KEY) and (target.looks_secret(key) or target.key_name(key) in record.secret):
            continue  # never a key into YAML: the final check then says the file cannot be declared
        if key == _BASE_URL:
            fields[("base_url",)] = _templated(value, hidden)
        elif key == _TOKEN:
            fields[("auth_token",)] = "{{ secret('" + host + "') }}"
        elif key == _API_KEY:
            continue  # rendered beside auth_token as ""; anything else fails the final check
        elif (fp := _field_of(key)) is not None:
            fields[fp] = _templated(value, hidden)
    ordered = dict(sorted(fields.items(), key=lambda kv: (_FIELD_ORDER.index(kv[0][0]), _slot_order(kv[0]))))
    name = _free_name(_name_choices(host, present), set(profiles.names()) | set(pending))
    return NewProfile(name, ordered)


def _slot_order(fp: FieldPath) -> int:
    return target.SLOTS.index(fp[1]) if fp[0] == "models" and fp[1] in target.SLOTS else 0


def _host_label(url: str) -> str:
    """openrouter.ai -> openrouter, api.deepseek.com -> deepseek, api.z.ai -> zai (as the
    guide's ZAI_API_KEY); an address or localhost -> gateway-PORT."""
    try:
        split = urlsplit(url)
        host, port = (split.hostname or "").lower(), split.port
    except ValueError:
        host, port = "", None
    local = host == "localhost" or host.endswith(".localhost")
    try:
        ipaddress.ip_address(host)
        local = True
    except ValueError:
        pass
    parts = [p for p in host.split(".") if p]
    if local or not parts:
        return f"gateway-{port}" if port else "gateway"
    if len(parts) >= 3 and parts[-2] in ("co", "com", "net", "org", "ac", "gov", "edu"):
        parts = parts[:-1]  # api.example.co.uk: the name is the label before co.uk
    label = parts[-2] if len(parts) >= 2 else parts[0]
    if len(label) <= 2 and len(parts) >= 2:
        label += parts[-1]
    label = _slug(label)
    return label if label and not holds_key(label) else "gateway"


def _hidden_keys(doc: Mapping[str, Any], record: FileRecord) -> dict[str, str]:
    """Each key-shaped part of the values plan owns (the token aside: it has its own secret)
    -> the secret it goes under: the gateway's name when it is the token itself, else
    NAME-key, NAME-key-2, ..."""
    present = _owned_present(doc, record)
    url = present.get(_BASE_URL)
    host = _host_label(url if isinstance(url, str) else "")
    token = present.get(_TOKEN)
    out: dict[str, str] = {}
    for key, value in present.items():
        if key in (_TOKEN, _API_KEY) or not isinstance(value, str):
            continue
        for part in keys_in(value):
            if part not in out:
                n = sum(1 for name in out.values() if name != host)
                out[part] = host if part == token else f"{host}-key" + (f"-{n + 1}" if n else "")
    return out


def _as_markers(doc: Mapping[str, Any], hidden: Mapping[str, str], record: FileRecord) -> dict[str, Any]:
    """The document with each hidden key part of an owned value as its secret's marker."""
    out = dict(doc)
    if not hidden:
        return out
    env = out.get(target.ENV)
    if isinstance(env, dict):
        out[target.ENV] = env = dict(env)
    for key, value in _owned_present(doc, record).items():
        if key in (_TOKEN, _API_KEY) or not isinstance(value, str):
            continue
        for part, name in hidden.items():
            value = value.replace(part, marker(name))
        if len(key) == 1:
            out[key[0]] = value
        elif len(key) == 2 and key[0] == target.ENV and isinstance(env, dict):
            env[key[1]] = value
    return out


def _templated(value: str, hidden: Mapping[str, str]) -> str:
    """A value as a field: each hidden key part read by secret('NAME'), the rest literal."""
    pieces = [value]
    for part, name in hidden.items():
        pieces = [p for piece in pieces for p in _split(piece, part, name)]
    return "".join(p if isinstance(p, _Ref) else as_literal(p) for p in pieces if p)


class _Ref(str):
    """A piece of a field that is already a template: secret('NAME')."""


def _split(piece: str, part: str, name: str) -> list[str]:
    if isinstance(piece, _Ref) or part not in piece:
        return [piece]
    out: list[str] = []
    for i, chunk in enumerate(piece.split(part)):
        if i:
            out.append(_Ref("{{ secret('" + name + "') }}"))
        out.append(chunk)
    return out


def _name_choices(host: str, present: Mapping[target.KeyPath, Any]) -> list[str]:
    sonnet = present.get((target.ENV, target.slot_var("sonnet")))
    model = _slug(sonnet.rsplit("/", 1)[-1].split(":", 1)[0]) if isinstance(sonnet, str) else ""
    model = "" if holds_key(model) else model  # a profile's name is shown and committed
    return [n for n in (host, model, f"{host}-{model}" if model else "") if n]


def _free_name(choices: list[str], taken: set[str]) -> str:
    for name in choices:
        if name not in taken:
            return name
    n = 2
    while f"{choices[-1]}-{n}" in taken:
        n += 1
    return f"{choices[-1]}-{n}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")





