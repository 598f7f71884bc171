"""opencode as a target: the keys a profile becomes in a worktree's opencode.json, and the
0600 file outside the repository that holds its key.

opencode (1.18.33, measured against a fake gateway) reads opencode.json from the current
folder up to the worktree root. A custom provider with npm "@ai-sdk/openai-compatible" sends
POST <options.baseURL>/chat/completions with `Authorization: Bearer <options.apiKey>`; the
top-level `model` and `small_model` name a provider's model as PROVIDER/MODEL. apiKey may be
`{env:VAR}`, which opencode reads from its environment when it starts.

opencode.json is usually committed, so the key never goes into it: its apiKey is
`{env:LLMCONF_OPENCODE_API_KEY}`, and `llmconf exec` / `activate` set that variable from the
worktree's key file, which apply writes 0600 beside Claude Code's --settings files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmconf.apply import jsonc
from llmconf.plan.model import Keys, dotted
from llmconf.targets import base

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.config.load import FieldPath, Sourced, WorktreeDecl

NAME = "opencode"
#: The project file opencode reads at the worktree root.
SETTINGS_FILE = "opencode.json"
#: The project files opencode reads, each beating those before it (1.18.33, measured): llmconf
#: writes the last of them that exists (opencode.json when none does), so that its keys win.
PROJECT_FILES = (Path(SETTINGS_FILE), Path("opencode.jsonc"), Path(".opencode", "opencode.json"), Path(".opencode", "opencode.jsonc"))
#: The provider llmconf adds to it, and the variable its apiKey reads.
PROVIDER = "llmconf"
KEY_VAR = "LLMCONF_OPENCODE_API_KEY"
#: The protocol opencode's provider speaks, and so the endpoint a profile needs to serve it.
PROTOCOL = "openai"

_P = ("provider", PROVIDER)
NPM: base.KeyPath = (*_P, "npm")
LABEL: base.KeyPath = (*_P, "name")
BASE_URL: base.KeyPath = (*_P, "options", "baseURL")
API_KEY: base.KeyPath = (*_P, "options", "apiKey")
MODELS: base.KeyPath = (*_P, "models")
MODEL: base.KeyPath = ("model",)
SMALL_MODEL: base.KeyPath = ("small_model",)
#: Every key llmconf owns in opencode.json: a profile that sets none of them removes them all.
BACKEND_KEYS: tuple[base.KeyPath, ...] = (NPM, LABEL, BASE_URL, API_KEY, MODELS, MODEL, SMALL_MODEL)
#: No key of opencode.json holds a secret by its name: options.apiKey is `{env:VAR}`, never the key.
KEYS = Keys(BACKEND_KEYS, dotted, looks_secret=lambda key: False, load=jsonc.load, edit=jsonc.edit)
#: The key file: one variable in an `env` object, as Claude Code's settings hold theirs.
KEY_FILE_KEYS = Keys((("env", KEY_VAR),), dotted)

#: The profile fields opencode reads.
FIELDS: tuple[FieldPath, ...] = (("endpoints", PROTOCOL), ("auth_token",), base.MAIN_MODEL, base.SMALL_MODEL)


class OpenCode(base.ProjectFile):
    """opencode: its project file, the keys a profile becomes there, and its key file."""

    name = NAME
    command = base.agent_command(NAME)
    keys_spec = KEYS
    key_file_spec = KEY_FILE_KEYS
    fields = FIELDS

    def settings_path(self, worktree: Path) -> Path:
        for rel in reversed(PROJECT_FILES):
            if os.path.isfile(worktree / rel):
                return worktree / rel
        return worktree / SETTINGS_FILE

    def project_files(self, worktree: Path) -> tuple[Path, ...]:
        return tuple(worktree / rel for rel in PROJECT_FILES)

    def desired(self, decl: WorktreeDecl, fields: Mapping[FieldPath, Sourced], rendered: Mapping[FieldPath, str]) -> dict[base.KeyPath, Any]:
        """The keys of opencode.json a rendered profile becomes (a located error when the
        profile cannot serve opencode: no OpenAI-protocol endpoint, or no main model)."""
        profile = decl.profile.value
        url, main = base.served(decl, rendered, NAME, PROTOCOL, "opencode speaks OpenAI chat completions", "its OpenAI-compatible .../v1 URL")
        small = rendered.get(base.SMALL_MODEL, main)
        models = {str(m): {"name": str(m)} for m in dict.fromkeys((main, small))}
        keys: dict[base.KeyPath, Any] = {NPM: "@ai-sdk/openai-compatible", LABEL: f"llmconf ({profile})", BASE_URL: url}
        if ("auth_token",) in rendered:
            keys[API_KEY] = "{env:" + KEY_VAR + "}"
        from llmconf.render import Sensitive, SensitiveMap, is_sensitive

        hidden = is_sensitive(main) or is_sensitive(small)  # a model from secret() or env(): never shown
        chosen = f"{PROVIDER}/{main}", f"{PROVIDER}/{small}"
        keys[MODELS] = SensitiveMap(models) if hidden else models
        keys[MODEL], keys[SMALL_MODEL] = (Sensitive(chosen[0]), Sensitive(chosen[1])) if hidden else chosen
        return keys

    def effective(self, worktree: Path, shell: Mapping[str, str]) -> str | None:
        return effective(worktree, shell)

    def shown(self, desired: Mapping[base.KeyPath, Any]) -> tuple[Any, Any, Any]:
        def model(key: base.KeyPath) -> Any:  # "llmconf/MODEL" -> MODEL
            value = desired.get(key)
            return value.split("/", 1)[1] if isinstance(value, str) and "/" in value else None

        return desired.get(BASE_URL), model(MODEL), model(SMALL_MODEL)

    def launch(self, argv: list[str], kept: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        # opencode puts {env:VAR} into the file's text before it parses it (1.18.33: a key with a
        # quote made the file invalid JSON, and its error printed the key). So the value goes
        # escaped as inside a JSON string: once parsed, the provider's apiKey is the key itself.
        import json

        value = kept.get(KEY_VAR)
        return argv, ({KEY_VAR: json.dumps(value)[1:-1]} if value is not None else {})

    def key_keys(self, rendered: Mapping[FieldPath, str]) -> dict[base.KeyPath, str]:
        """What the worktree's key file holds: the profile's token, for exec and activate to hand over."""
        token = rendered.get(("auth_token",))
        return {} if token is None else {("env", KEY_VAR): token}

    def adopt(self, worktree: Path) -> base.Found | None:
        return adopt(worktree)


#: The packages whose provider speaks OpenAI chat completions at options.baseURL.
OPENAI_NPM = (None, "@ai-sdk/openai-compatible", "@ai-sdk/openai")


def adopt(worktree: Path) -> base.Found | None:
    """The custom provider opencode's project files in the worktree point `model` at: its
    options.baseURL, the model and small model on it, and its options.apiKey (a key, or
    `{env:VAR}` / `{file:PATH}`, which opencode resolves itself). None: no `model`, or it names
    a provider of opencode's own (no baseURL there) or one that speaks another protocol."""
    import json
    import re

    from llmconf import fs
    from llmconf.records import replace

    files = []
    for rel in PROJECT_FILES:  # each beats the ones before it
        path = worktree / rel
        text, doc = fs.read_settings(path, jsonc.load)
        if text is not None and doc is not None:
            files.append((path, text, doc))

    def last(get: Any) -> tuple[Path, str, Any] | None:
        return next(((p, t, v) for p, t, d in reversed(files) if (v := get(d)) is not None), None)

    chosen = last(lambda d: d.get("model") if isinstance(d.get("model"), str) else None)
    if chosen is None or "/" not in chosen[2]:
        return None
    name, main = chosen[2].split("/", 1)

    def provider(d: dict[str, Any]) -> dict[str, Any] | None:
        p = d.get("provider")
        entry = p.get(name) if isinstance(p, dict) else None
        options = entry.get("options") if isinstance(entry, dict) else None
        return entry if isinstance(options, dict) and isinstance(options.get("baseURL"), str) else None

    found = last(provider)
    if found is None or found[2].get("npm") not in OPENAI_NPM:
        return None
    path, text, entry = found
    url, api_key = entry["options"]["baseURL"], entry["options"].get("apiKey")
    small = last(lambda d: d.get("small_model") if isinstance(d.get("small_model"), str) else None)
    small_model = small[2].split("/", 1)[1] if small is not None and small[2].startswith(name + "/") else None
    switch = f"plan adds provider '{PROVIDER}' to {chosen[0].name} and points model and small_model at it"
    out = base.Found(path, base.line_of(text, json.dumps(url)), PROTOCOL, url, main, small_model, switch=switch)
    if not isinstance(api_key, str) or not api_key:
        return out
    key_line = base.line_of(text, json.dumps(api_key)) or base.line_of(text, '"apiKey"')
    if re.fullmatch(r"\{(env|file):[^}]*\}", api_key):  # wholly a reference; anything else is a key, never shown
        return replace(out, key_ref=api_key, key_file=path, key_line=key_line)
    return replace(out, key=api_key, key_file=path, key_line=key_line)


#: What beats every project file: OPENCODE_CONFIG_CONTENT (measured, 1.18.33).
CONTENT_VAR = "OPENCODE_CONFIG_CONTENT"


def effective(worktree: Path, shell: Mapping[str, str]) -> str | None:
    """Why opencode started in the worktree would not use what llmconf declares in its
    project file (None: nothing llmconf knows of beats it)."""
    if shell.get(CONTENT_VAR):
        return f"{CONTENT_VAR} is set"
    return None
