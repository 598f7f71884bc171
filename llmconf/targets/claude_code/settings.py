"""Claude Code's settings file: where a worktree's lives, and which keys in it mean what."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

#: Where a worktree's local, git-ignored settings live, relative to the worktree.
SETTINGS_FILE = Path(".claude") / "settings.local.json"

#: Claude Code's model slots, each mapped by ANTHROPIC_DEFAULT_<SLOT>_MODEL and picked by
#: `--model SLOT`. fable is read from 2.1.170 on (see client.KEY_SINCE).
SLOTS: tuple[str, ...] = ("haiku", "sonnet", "opus", "fable")
#: The slots Claude Code picks by itself: opus is the default, haiku runs background calls,
#: sonnet is the usual /model pick. A gateway profile must map these; fable only when it is asked for.
IMPLICIT_SLOTS: tuple[str, ...] = ("haiku", "sonnet", "opus")

BASE_URL = "ANTHROPIC_BASE_URL"
AUTH_TOKEN = "ANTHROPIC_AUTH_TOKEN"
API_KEY = "ANTHROPIC_API_KEY"
SUBAGENT = "CLAUDE_CODE_SUBAGENT_MODEL"
#: `subagent: inherit`: each subagent on its own frontmatter model, or the session's (no override).
SUBAGENT_INHERIT = "inherit"
#: The default model when no settings file sets `model` (2.1.236 on): what a profile's
#: `default` writes where the client reads it, so a /model pick (saved as `model`) still wins.
DEFAULT_MODEL_VAR = "ANTHROPIC_DEFAULT_MODEL"

#: A key in the settings file, as a path: ("env", NAME) or a top-level key such as ("model",).
KeyPath = tuple[str, ...]

ENV = "env"
DEFAULT_MODEL_KEY: KeyPath = ("model",)
KEY_HELPER_KEY: KeyPath = ("apiKeyHelper",)
#: The /model picker's own rows (2.1.242 on): {options: [{model, label, description,
#: behavesAs}], replaceBuiltInOptions}. behavesAs is read from 2.1.257 on (BEHAVES_AS_KEY
#: stands for it in client.KEY_SINCE).
PICKER_KEY: KeyPath = ("modelPicker",)
BEHAVES_AS_KEY: KeyPath = ("modelPicker", "behavesAs")
#: Keys Claude Code reads only from managed, --settings and user settings, never from a
#: checkout's own files: they reach a worktree only through its --settings delivery.
FLAG_ONLY_KEYS: frozenset[KeyPath] = frozenset({PICKER_KEY})


def slot_var(slot: str) -> str:
    """The env var that maps one slot to a model ID."""
    return f"ANTHROPIC_DEFAULT_{slot.upper()}_MODEL"


#: What Claude Code shows and believes of a slot's model, by profile field: its row in /model
#: (name, description) and what it may ask of it (capabilities, comma-separated). Each
#: applies only while the slot's model var is set to that model.
SLOT_INFO: dict[str, str] = {"labels": "NAME", "descriptions": "DESCRIPTION", "capabilities": "SUPPORTED_CAPABILITIES"}
#: The capabilities Claude Code recognises in _SUPPORTED_CAPABILITIES (2.1.197 and 2.1.332 alike).
CAPABILITIES: tuple[str, ...] = (
    "effort", "max_effort", "xhigh_effort", "thinking", "adaptive_thinking", "interleaved_thinking", "temperature",
    "mid_conversation_system",
)


def slot_info_var(slot: str, field: str) -> str:
    """ANTHROPIC_DEFAULT_SONNET_MODEL_NAME for ("sonnet", "labels")."""
    return f"{slot_var(slot)}_{SLOT_INFO[field]}"


#: Env vars that choose the backend. A worktree llmconf manages owns all of them: a
#: profile that does not set one declares it absent, so switching back to Anthropic
#: direct leaves none behind, even ones an old switch script wrote. ANTHROPIC_MODEL and
#: the deprecated ANTHROPIC_SMALL_FAST_MODEL are here because a stray one silently
#: overrides the profile's default and haiku slot.
BACKEND_VARS: tuple[str, ...] = (
    BASE_URL,
    AUTH_TOKEN,
    API_KEY,
    *(slot_var(s) for s in SLOTS),
    *(slot_info_var(s, f) for s in SLOTS for f in SLOT_INFO),
    SUBAGENT,
    DEFAULT_MODEL_VAR,
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
)
BACKEND_KEYS: tuple[KeyPath, ...] = tuple((ENV, v) for v in BACKEND_VARS)

#: Env vars a profile must set through its own field, not through `env:`.
FIELD_VARS: dict[str, str] = {
    BASE_URL: "base_url",
    AUTH_TOKEN: "auth_token",
    API_KEY: "auth_token",
    SUBAGENT: "subagent",
    DEFAULT_MODEL_VAR: "default",
    **{slot_var(s): f"models.{s}" for s in SLOTS},
    **{slot_info_var(s, f): f"{f}.{s}" for s in SLOTS for f in SLOT_INFO},
}

def field_of(key: KeyPath) -> str:
    """The profile field that writes a key: `models.fable` for its env var, `picker` for modelPicker."""
    if key[:1] == PICKER_KEY:
        return "picker rows' behaves_as" if key == BEHAVES_AS_KEY else "picker"
    if key == DEFAULT_MODEL_KEY:
        return "default"
    return FIELD_VARS.get(key[-1], key_name(key))


#: A key whose name ends so (any case) holds a secret: ANTHROPIC_AUTH_TOKEN, X_API_KEY, ...
_SECRET_ENDINGS = ("TOKEN", "KEY", "SECRET", "PASSWORD", "CREDENTIAL", "CREDENTIALS")


#: The slot Claude Code uses when neither --model nor the `model` setting picks one. Seen
#: with Claude Code 2.1.197 on a gateway: opus, not sonnet (the e2e tests pin this, so a
#: release that changes it fails them rather than misleading `status`).
DEFAULT_SLOT = "opus"


#: Values of ANTHROPIC_DEFAULT_MODEL that Claude Code passes over, as if unset: the alias haiku
#: among them (2.1.332 measured: a full ID, even a haiku one, is taken; the alias is not).
_INERT_DEFAULTS = ("", "default", "inherit", "haiku")


def default_model(keys: dict[KeyPath, str], env_default: bool = True) -> tuple[str | None, str | None]:
    """(slot, model ID) a session starts on without --model: the `model` setting when it is
    set, else ANTHROPIC_DEFAULT_MODEL where the client reads it (`env_default`), else
    DEFAULT_SLOT. A slot alias resolves through the slot vars. The model is None where Claude
    Code picks it itself (no slot var: Anthropic's own model for that slot)."""
    chosen = keys.get(DEFAULT_MODEL_KEY)
    if chosen is None and env_default and keys.get((ENV, DEFAULT_MODEL_VAR)) not in (None, *_INERT_DEFAULTS):
        chosen = keys[(ENV, DEFAULT_MODEL_VAR)]
    if chosen is not None and chosen not in SLOTS:
        return None, chosen  # a full model ID, or an alias llmconf does not resolve
    slot = chosen or DEFAULT_SLOT
    return slot, keys.get((ENV, slot_var(slot)))


#: Every key default_model reads.
DEFAULT_MODEL_READS: tuple[KeyPath, ...] = (DEFAULT_MODEL_KEY, (ENV, DEFAULT_MODEL_VAR), *((ENV, slot_var(s)) for s in SLOTS))


#: Keys whose value has a known type: a wrong one makes Claude Code drop the whole file,
#: silently (seen with "model": 42 on 2.1.197: no env, so "Not logged in").
KNOWN_TYPES: dict[str, type] = {
    "model": str,
    "env": dict,
    "apiKeyHelper": str,
    "availableModels": list,
    "permissions": dict,
    "hooks": dict,
    "enforceAvailableModels": bool,
}


def layer_paths(worktree: Path, common: dict[str, Path] | None = None) -> dict[str, Path]:
    """Where each settings layer lives for a worktree, lowest precedence first: managed
    settings win over everything, and every layer's env wins over the shell's. `common`: the
    user and managed paths, when the caller worked them out already (see common_layer_paths)."""
    common = common or common_layer_paths()
    return {
        "user": common["user"],
        "project": worktree / ".claude" / "settings.json",
        "local": settings_path(worktree),
        "managed": common["managed"],
    }


def common_layer_paths() -> dict[str, Path]:
    """The layers every worktree shares: the user's settings and the managed settings."""
    import os
    import sys

    config = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    if override := os.environ.get("LLMCONF_CLAUDE_MANAGED_SETTINGS"):  # tests, unusual installs
        managed = Path(override)
    elif sys.platform == "darwin":
        managed = Path("/Library/Application Support/ClaudeCode/managed-settings.json")
    elif sys.platform == "win32":
        managed = Path(r"C:\Program Files\ClaudeCode\managed-settings.json")
    else:
        managed = Path("/etc/claude-code/managed-settings.json")
    return {"user": config / "settings.json", "managed": managed}


def settings_path(worktree: Path) -> Path:
    """The settings file llmconf manages inside one worktree."""
    return worktree / SETTINGS_FILE


def key_name(key: KeyPath) -> str:
    """`env.ANTHROPIC_BASE_URL`, `model`: how a key is shown to people (and named in the state)."""
    return ".".join(key)


@functools.lru_cache(maxsize=1024)  # a fleet has a few dozen distinct key names
def parse_key(name: str) -> KeyPath:
    """The key a key_name names."""
    return (ENV, name[len(ENV) + 1 :]) if name.startswith(ENV + ".") else (name,)


@functools.lru_cache(maxsize=1024)  # a fleet has a few dozen keys, asked about per worktree
def looks_secret(key: KeyPath) -> bool:
    """Whether a key's value is treated as a secret whatever rendered it."""
    return key[-1].upper().endswith(_SECRET_ENDINGS)


#: The picker's default rows, in Claude Code's own lineup order (fable after it).
PICKER_ORDER: tuple[str, ...] = ("opus", "sonnet", "haiku", "fable")


def picker_value(
    spec: dict[str, Any],
    models: dict[str, str],
    info: dict[str, dict[str, str]],
    named: Callable[[str], tuple[str, str | None] | None],
) -> dict[str, Any]:
    """The modelPicker a profile's `picker` becomes: its rows (default: one per mapped slot),
    each with a label and description: the row's own, else for a slot its `labels` and
    `descriptions` (and its model ID), else for a model ID `named` (its catalog name and
    description), else none (then Claude Code shows the ID)."""
    rows = spec.get("rows")
    if rows is None:
        rows = [slot for slot in PICKER_ORDER if slot in models]
    options = []
    for row in rows:
        row = {"model": row} if isinstance(row, str) else row
        model = row["model"]
        if model in SLOTS:
            # Claude Code's own words for a slot row with none: "Custom model (opus)"; its model reads better.
            told = (info.get("labels", {}).get(model), info.get("descriptions", {}).get(model) or models.get(model))
        else:
            told = named(model) or (None, None)
        option: dict[str, Any] = {"model": model}
        for name, value in (("label", row.get("label") or told[0]), ("description", row.get("description") or told[1])):
            if value:
                option[name] = value
        if row.get("behaves_as"):
            option["behavesAs"] = row["behaves_as"]
        options.append(option)
    return {"options": options, "replaceBuiltInOptions": spec.get("replace", True)}


def to_keys(
    fields: dict[str, str],
    models: dict[str, str],
    env: dict[str, str],
    lacks: frozenset[KeyPath] = frozenset(),
    unwritten: set[KeyPath] | None = None,
    info: dict[str, dict[str, str]] | None = None,
    picker: dict[str, Any] | None = None,
) -> dict[KeyPath, Any]:
    """Map a rendered profile onto settings keys, in the order a new file shows them.

    `fields` holds base_url, auth_token, key_helper, subagent and default when set. `lacks`:
    the keys the client ignores (client.Rules.lacks); a key it ignores is not written, and
    `default` goes to `model` where ANTHROPIC_DEFAULT_MODEL is one of them, or would not take
    the value. `unwritten`
    collects each key left out for that reason. `info`: per SLOT_INFO field, its value per
    slot (written beside the slot's model; a slot without a model has none to describe).
    """
    keys: dict[KeyPath, Any] = {}
    if "base_url" in fields:
        keys[(ENV, BASE_URL)] = fields["base_url"]
        if "key_helper" in fields:
            # Claude Code runs the helper and sends its output as both Authorization: Bearer
            # and x-api-key, so neither token variable is written.
            keys[KEY_HELPER_KEY] = fields["key_helper"]
        elif "auth_token" in fields:
            keys[(ENV, AUTH_TOKEN)] = fields["auth_token"]
            # Claude Code sends ANTHROPIC_API_KEY as x-api-key and prefers it; blank it so
            # only the gateway token goes out (the guide's templates do the same).
            keys[(ENV, API_KEY)] = ""
    info = info or {}
    for slot in SLOTS:
        if slot not in models:
            continue
        wanted = {(ENV, slot_var(slot)): models[slot]}
        if wanted.keys().isdisjoint(lacks):  # a slot the client lacks has nothing to describe either
            wanted.update({(ENV, slot_info_var(slot, f)): info[f][slot] for f in SLOT_INFO if slot in info.get(f, {})})
        for key, value in wanted.items():
            if key not in lacks:
                keys[key] = value
            elif unwritten is not None:
                unwritten.add(key)
    if "subagent" in fields:
        keys[(ENV, SUBAGENT)] = fields["subagent"]
    # The default goes where a /model pick (saved as `model`) still wins over it, where the
    # client reads that and takes the value; else to `model`.
    env_default = "default" in fields and (ENV, DEFAULT_MODEL_VAR) not in lacks and fields["default"] not in _INERT_DEFAULTS
    if env_default:
        keys[(ENV, DEFAULT_MODEL_VAR)] = fields["default"]
    for name, value in env.items():
        keys[(ENV, name)] = value
    if "default" in fields and not env_default:
        keys[DEFAULT_MODEL_KEY] = fields["default"]
    if picker is not None:
        if PICKER_KEY in lacks:
            if unwritten is not None:
                unwritten.add(PICKER_KEY)
        else:
            if BEHAVES_AS_KEY in lacks and any("behavesAs" in row for row in picker["options"]):
                picker = {**picker, "options": [{k: v for k, v in row.items() if k != "behavesAs"} for row in picker["options"]]}
                if unwritten is not None:
                    unwritten.add(BEHAVES_AS_KEY)
            keys[PICKER_KEY] = picker
    return keys
