"""JSON Schemas of profiles/*.yaml and worktrees.yaml, for editors (init, import and `llmconf schema`).

The schemas are generated from the pydantic models, so a field added to a model shows up
in them without a change here. What pydantic accepts but its own JSON Schema would reject
is widened here, generically: numbers where a string is wanted (coerce_numbers_to_str),
lax booleans (`yes`, `on`, 1), and input shorthands of before-validators. A before-validator
that this module does not know is an error, so a new shorthand cannot silently drift.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmconf.errors import LlmconfError

#: Where init and `llmconf schema` put the schemas, relative to the config folder.
SCHEMA_DIR = Path(".llmconf") / "schema"
PROFILE_SCHEMA = "profile.schema.json"
WORKTREES_SCHEMA = "worktrees.schema.json"
_DIALECT = "http://json-schema.org/draft-07/schema#"  # what the YAML language server knows best
_MODELINE = "# yaml-language-server: $schema="

#: Editor help per field, looked up along each model's MRO, so ProfileFields' entries serve
#: Profile and WorktreeEntry alike. A field missing here still gets a schema, without help.
_HELP: dict[str, dict[str, str]] = {
    "ProfileFields": {
        "base_url": "Gateway URL (env.ANTHROPIC_BASE_URL). Absent: Anthropic direct. null unsets an inherited one.",
        "endpoints": "One URL per protocol the backend serves: anthropic (base_url wins for Claude Code), openai "
        "(opencode, Qwen Code, Codex: …/v1), gemini (Gemini CLI). An agent whose protocol has none cannot use the profile.",
        "auth_token": "Gateway token (env.ANTHROPIC_AUTH_TOKEN; ANTHROPIC_API_KEY is set to \"\"). "
        "Use a template: \"{{ secret('openrouter') }}\", never a literal key.",
        "models": "A model ID per Claude Code slot: haiku, sonnet, opus, fable (--model fable, Claude Code 2.1.170+). null unsets an inherited one.",
        "agent_models": "Per agent other than Claude Code, its main and small model: a slot (its model comes from "
        "models.SLOT) or a model ID. Default: main sonnet, small haiku.",
        "labels": "Per slot, its name in Claude Code's /model picker (env.ANTHROPIC_DEFAULT_<SLOT>_MODEL_NAME).",
        "descriptions": "Per slot, its description in /model (env.ANTHROPIC_DEFAULT_<SLOT>_MODEL_DESCRIPTION).",
        "capabilities": "Per slot, what Claude Code may ask of its model: effort, thinking, adaptive_thinking... "
        "(env.ANTHROPIC_DEFAULT_<SLOT>_MODEL_SUPPORTED_CAPABILITIES).",
        "subagent": "Model ID every subagent runs on, over its own frontmatter (env.CLAUDE_CODE_SUBAGENT_MODEL); inherit: each on its own or the session's model.",
        "default": "The model a session starts on (a slot name or a model ID): env.ANTHROPIC_DEFAULT_MODEL from Claude Code 2.1.236 on, else the top-level \"model\".",
        "picker": "Claude Code's /model picker rows (modelPicker, 2.1.242+): true for a row per mapped slot, or "
        "{rows: [slot, model ID, or {model, label, description, behaves_as}], replace: true}. Read only from "
        "--settings, so the worktree runs it through llmconf exec or the activate hook.",
        "catalog_info": "Default true: on a gateway the catalog lists, each slot without its own labels, descriptions "
        "or capabilities takes the catalog's (name; price and context). false: none from the catalog.",
        "env": "Extra environment variables for Claude Code, templated. Backend variables have their own fields.",
        "key_via": "settings: the token goes into the settings file. helper: only an apiKeyHelper "
        "command, so the key stays in the secret store.",
    },
    "Profile": {
        "description": "One line about this backend, shown by llmconf.",
        "extends": "Parent profile name: its fields are deep-merged under this one's.",
    },
    "Picker": {
        "rows": "The rows, in order: a slot (haiku, sonnet, opus, fable), a model ID the gateway serves, or "
        "{model, label, description, behaves_as}. Default: a row per slot the profile maps.",
        "replace": "true (default): /model shows only Default and these rows. false: these after Claude Code's own.",
    },
    "AgentModels": {
        "main": "The agent's main model: a slot (haiku, sonnet, opus, fable) or a model ID. Default: sonnet.",
        "small": "The agent's small model (titles, summaries), where it has one: a slot or a model ID. Default: haiku.",
    },
    "PickerRow": {
        "model": "A slot name (its model comes from models.SLOT) or a model ID the gateway serves.",
        "label": "The row's name in /model (default: the slot's label, or the catalog's name for the model).",
        "description": "The row's second column in /model (default: the slot's description, or the catalog's).",
        "behaves_as": "The slot whose behaviour Claude Code gives this model: effort, thinking... (2.1.257+).",
    },
    "WorktreeEntry": {
        "profile": "The profile this worktree uses: a file in profiles/ (or a profile_paths folder) or a shipped one.",
        "allow_tracked_secret": "Let apply write a key into a settings file that git tracks (refused by default).",
        "agents": "The coding agents this worktree's backend is set for: claude-code, opencode, gemini, qwen, codex (default: the top level's agents, else claude-code).",
    },
    "SecretSource": {
        "env": "Read the secret from this environment variable.",
        "file": "Read it from this file (relative to worktrees.yaml; ~ works): all of it, or one KEY=value line with 'key'.",
        "key": "With 'file': the KEY of the KEY=value line to read.",
        "command": "Run this argv (no shell) and take its stdout, e.g. [pass, show, openrouter].",
        "keyring": "Read it from the OS keychain under this service name (the keyring extra).",
        "username": "With 'keyring': the user name (default: the secret's name).",
    },
    "WorktreesFile": {
        "vars": "Values for templates, as {{ vars.NAME }}.",
        "secrets": "Where secrets come from instead of llmconf's store: one source per secret name "
        "(exactly one of env, file, command, keyring).",
        "profile_paths": "More folders of profiles, relative to worktrees.yaml (the local profiles/ wins).",
        "strict": "Lint warnings are errors for every command (plan, apply, the git hook, validate), as --strict makes them.",
        "claude_code": "The Claude Code binary the worktrees run (default: claude on PATH), relative to worktrees.yaml or ~; its version decides how llmconf delivers settings. LLMCONF_CLAUDE wins.",
        "agents": "The coding agents every worktree's backend is set for, unless its entry lists its own: claude-code, opencode, gemini, qwen, codex (default: claude-code).",
        "worktrees": "Worktree folder (relative to worktrees.yaml; ~ works) -> a profile name, or a "
        "profile plus per-worktree overrides.",
        "repos": "Git repository folder -> a profile name, or a profile plus overrides, for every worktree "
        "'git worktree list' reports for it (an entry under worktrees: wins).",
    },
}

_MODEL_HELP = {
    "AgentModels": "Which of the profile's models an agent other than Claude Code uses.",
    "Profile": "An llmconf profile (profiles/NAME.yaml): one LLM backend for Claude Code.",
    "WorktreesFile": "llmconf's worktrees.yaml: which backend profile each worktree uses.",
}


def _string_shorthand(help: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A mapping field whose values may also be written as a plain string."""

    def widen(prop: dict[str, Any]) -> dict[str, Any]:
        for branch in prop.get("anyOf", [prop]):
            if branch.get("type") == "object" and isinstance(branch.get("additionalProperties"), dict):
                value = branch["additionalProperties"]
                branch["additionalProperties"] = {"anyOf": [{"type": "string", "description": help}, value]}
        return prop

    return widen


#: What a before-validator accepts beyond its fields' type: (model, validator) -> schema
#: change, applied to every field the validator covers. A validator can declare it in
#: model.py instead (field_validator(..., json_schema_input_type=...)); then its entry goes.
_SHORTHANDS: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("WorktreesFile", "_shorthand"): _string_shorthand("Shorthand for {profile: NAME}: the profile to use."),
}


def _lax_bool() -> dict[str, Any]:
    # pydantic's lax bool: true/false, 0/1, and these words in any case.
    words = ("true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0")
    pattern = "^(" + "|".join("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in w) for w in words) + ")$"
    return {"anyOf": [{"type": "boolean"}, {"type": "integer", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": pattern}]}


def _generator() -> type:
    from pydantic.json_schema import GenerateJsonSchema

    class Generator(GenerateJsonSchema):
        """pydantic's generator, widened to what pydantic's lax validation accepts."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._configs: list[dict[str, Any]] = []

        def model_schema(self, schema: Any) -> Any:
            self._configs.append(schema.get("config") or {})
            try:
                out = super().model_schema(schema)
            finally:
                self._configs.pop()
            _annotate(schema["cls"], out)
            return out

        def str_schema(self, schema: Any) -> Any:
            out = super().str_schema(schema)
            if self._configs and self._configs[-1].get("coerce_numbers_to_str") and not schema.get("strict"):
                out["type"] = ["string", "number"]  # API_TIMEOUT_MS: 600000 is fine
            return out

        def bool_schema(self, schema: Any) -> Any:
            if schema.get("strict") or (self._configs and self._configs[-1].get("strict")):
                return super().bool_schema(schema)
            return _lax_bool()

        def dict_schema(self, schema: Any) -> Any:
            out = super().dict_schema(schema)
            names = out.get("propertyNames")
            if isinstance(names, dict):
                if names.get("type") == ["string", "number"] and len(names) == 1:
                    del out["propertyNames"]  # keys are strings in YAML and JSON anyway
                elif isinstance(names.get("enum"), list) and isinstance(out.get("additionalProperties"), dict):
                    # A closed set of keys (the model slots): list them, so editors complete them.
                    value = out["additionalProperties"]
                    out["properties"] = {k: dict(value, title=k) for k in names["enum"]}
                    out["additionalProperties"] = False
            return out

    return Generator


def _annotate(cls: type, out: dict[str, Any]) -> None:
    """Help texts and shorthands for one model's schema; refuse a before-validator we cannot describe."""
    from pydantic_core import PydanticUndefined

    from llmconf.targets.claude_code import settings as target

    name = cls.__name__
    if name in _MODEL_HELP:
        out["description"] = _MODEL_HELP[name]
    props = out.get("properties", {})
    for field, prop in props.items():
        help = next((_HELP[c.__name__][field] for c in cls.__mro__ if field in _HELP.get(c.__name__, {})), None)
        if help and "description" not in prop:
            prop["description"] = help
        prop["title"] = field  # as written in the file, not pydantic's "Base Url"
        for branch in prop.get("anyOf", [prop]):
            if field == "models" and isinstance(branch.get("properties"), dict):
                for slot, sub in branch["properties"].items():
                    if slot in target.SLOTS:
                        sub["description"] = f"Model ID for the {slot} slot (env.{target.slot_var(slot)})."
            if field == "env" and branch.get("type") == "object":
                branch["propertyNames"] = {
                    "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                    "not": {"enum": sorted(target.FIELD_VARS)},
                }
    for validator, decorator in cls.__pydantic_decorators__.field_validators.items():  # type: ignore[attr-defined]
        info = decorator.info
        if info.mode == "after" or info.json_schema_input_type is not PydanticUndefined:
            continue
        shorthand = _SHORTHANDS.get((name, validator))
        if shorthand is None:
            raise RuntimeError(
                f"{name}.{validator} is a {info.mode} validator whose input the schema cannot know: "
                f"give it json_schema_input_type, or an entry in llmconf.config.schema._SHORTHANDS"
            )
        for field in info.fields:
            if field in props:
                props[field] = shorthand(props[field])


def _draft7(schema: dict[str, Any], title: str) -> dict[str, Any]:
    defs = schema.pop("$defs", None)
    out = {"$schema": _DIALECT, "title": title, **{k: v for k, v in schema.items() if k != "title"}}
    if defs:
        out["definitions"] = defs
    return out


def schemas() -> dict[str, dict[str, Any]]:
    """The schema files, by file name, generated from the models."""
    from llmconf.config import models as m

    generator = _generator()
    ref = "#/definitions/{model}"
    return {
        PROFILE_SCHEMA: _draft7(m.Profile.model_json_schema(ref_template=ref, schema_generator=generator), "llmconf profile"),
        WORKTREES_SCHEMA: _draft7(
            m.WorktreesFile.model_json_schema(ref_template=ref, schema_generator=generator), "llmconf worktrees.yaml"
        ),
    }


def write_schemas(folder: Path, hint: str) -> list[Path]:
    """Write (or refresh) the schema files in `folder`; return their paths. `hint`: what to
    do when the folder cannot be created (init and `schema --out` have different answers)."""
    from llmconf import fs

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LlmconfError(f"cannot create {folder}: {e.strerror or e.__class__.__name__}", hint=hint) from None
    written = []
    for name, schema in schemas().items():
        path = folder / name
        text = json.dumps(schema, indent=2) + "\n"
        try:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                fs.write_atomic(path, text)
        except OSError as e:
            raise LlmconfError(f"cannot write the schema: {e.strerror or e.__class__.__name__}", path) from None
        written.append(path)
    return written


def modeline(yaml_file: Path, schema: Path) -> str:
    """The YAML language server's first line for `yaml_file`, pointing at `schema` relatively."""
    return f"{_MODELINE}{Path(os.path.relpath(schema, yaml_file.parent)).as_posix()}\n"
