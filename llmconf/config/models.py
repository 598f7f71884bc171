"""Pydantic models of the files a user writes: profiles/*.yaml and worktrees.yaml."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator, model_validator

from llmconf.targets.base import CLAUDE_CODE, OTHER_AGENTS
from llmconf.targets.claude_code import settings as target

Slot = Literal[target.SLOTS]  # type: ignore[valid-type]
Capability = Literal[target.CAPABILITIES]  # type: ignore[valid-type]

#: The coding agents llmconf configures (`agents:`), by the name a config gives them.
AGENTS: tuple[str, ...] = (CLAUDE_CODE, *OTHER_AGENTS)
#: The agents llmconf will configure, named so that listing one says "not yet", not "unknown".
COMING_AGENTS: tuple[str, ...] = ()
Agent = Literal[AGENTS]  # type: ignore[valid-type]
#: The protocols a profile's `endpoints:` may give a URL for.
PROTOCOLS: tuple[str, ...] = ("anthropic", "openai", "gemini")
Protocol = Literal[PROTOCOLS]  # type: ignore[valid-type]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(name: str) -> str:
    if not _ENV_NAME.match(name):
        raise ValueError(f"'{name}' is not a valid environment variable name")
    if name in target.FIELD_VARS:
        raise ValueError(f"set {name} with the '{target.FIELD_VARS[name]}' field, not env")
    return name


#: An extra env var's name; checked as a dict key so an error points at its own line.
EnvName = Annotated[str, AfterValidator(_env_name)]


class _Strict(BaseModel):
    # Numbers are accepted where a string is wanted (API_TIMEOUT_MS: 600000): env values
    # are strings to Claude Code, and making users quote them buys nothing.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class PickerRow(_Strict):
    """One row of the /model picker: a slot (its model resolved through the slot's variable)
    or a model ID the gateway serves, with what the row says."""

    model: str
    label: str | None = None
    description: str | None = None
    #: The slot whose behaviour Claude Code gives this model (effort, thinking...): 2.1.257 on.
    behaves_as: Slot | None = None


class Picker(_Strict):
    """The /model picker's rows (Claude Code's modelPicker, 2.1.242 on). Claude Code reads it
    only from --settings, user and managed settings, so a worktree whose profile sets it gets
    its settings through its --settings delivery (`llmconf exec`, or the activate hook)."""

    #: In order; a string is a slot or a model ID. Default: a row per slot the profile maps.
    rows: list[PickerRow] | None = None
    #: true: only Default and these rows; false: these after Claude Code's own lineup.
    replace: bool = True

    @field_validator("rows", mode="before", json_schema_input_type=list[PickerRow | str] | None)
    @classmethod
    def _bare_rows(cls, rows: Any) -> Any:
        # `- sonnet` is short for `- {model: sonnet}`.
        return [{"model": r} if isinstance(r, str) else r for r in rows] if isinstance(rows, list) else rows


class AgentModels(_Strict):
    """The models an agent other than Claude Code is given: each a slot of the profile's
    `models:` (default: main sonnet, small haiku) or a model ID."""

    main: str | None = None
    small: str | None = None


class ProfileFields(_Strict):
    """The fields a profile sets and a worktree entry may override. `null` unsets one."""

    base_url: str | None = None
    #: One endpoint per protocol the backend serves: the agents that speak another protocol
    #: than Claude Code's (opencode: openai) are served from theirs.
    endpoints: dict[Protocol, str | None] | None = None
    auth_token: str | None = None
    models: dict[Slot, str | None] | None = None
    #: Per agent other than Claude Code, which slot (or model ID) is its main and small model.
    agent_models: dict[Agent, AgentModels | None] | None = None
    #: Per slot, what /model shows for it and what Claude Code may ask of its model.
    labels: dict[Slot, str | None] | None = None
    descriptions: dict[Slot, str | None] | None = None
    capabilities: dict[Slot, list[Capability] | None] | None = None
    subagent: str | None = None
    default: str | None = None
    picker: Picker | None = None
    #: false: no slot takes its label, description or capabilities from the model catalog.
    catalog_info: bool | None = None
    env: dict[EnvName, str | None] | None = None

    @field_validator("agent_models")
    @classmethod
    def _not_claude_code(cls, value: Any) -> Any:
        if value and "claude-code" in value:
            raise ValueError("Claude Code's models are its slots: set them under models:, not agent_models:")
        return value

    @field_validator("picker", mode="before", json_schema_input_type=Picker | Literal[True] | None)
    @classmethod
    def _picker_on(cls, value: Any) -> Any:
        return {} if value is True else value  # `picker: true`: the default rows
    @field_validator("capabilities", mode="before", json_schema_input_type=dict[Slot, list[Capability] | str | None] | None)
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # "effort,thinking", as Claude Code's variable holds it (and import writes it), is a list too.
        if isinstance(value, dict):
            return {k: [c.strip() for c in v.split(",") if c.strip()] if isinstance(v, str) else v for k, v in value.items()}
        return value

    #: settings: the token goes into the settings file; helper: only an apiKeyHelper command
    #: that prints it at run time, so the key stays in the 0600 secret store.
    key_via: Literal["settings", "helper"] | None = None


class Profile(ProfileFields):
    """One file in profiles/: a named backend."""

    description: str | None = None
    extends: str | None = None


def _agents(agents: list[str] | None) -> list[str] | None:
    if agents is not None and not agents:
        raise ValueError("list at least one agent, or leave agents out (then: claude-code)")
    return list(dict.fromkeys(agents)) if agents is not None else None


#: The agents a worktree configures; checked so that an empty list is an error at its line.
Agents = Annotated[list[Agent] | None, AfterValidator(_agents)]


class WorktreeEntry(ProfileFields):
    """One worktree in worktrees.yaml: a profile name plus per-worktree overrides."""

    profile: str
    #: The coding agents this worktree's profile configures (default: the top level's, else claude-code).
    agents: Agents = None
    #: Let apply write a secret into a settings file that git tracks (refused by default).
    allow_tracked_secret: bool = False


class SecretSource(_Strict):
    """Where one secret comes from, instead of llmconf's own store: exactly one of these."""

    env: str | None = None  # an environment variable
    file: str | None = None  # a file: all of it, or with `key`, one KEY=value line of it
    key: str | None = None
    command: list[str] | None = None  # argv, run without a shell; the first line of its stdout
    keyring: str | None = None  # the OS keychain (the keyring extra): this service name...
    username: str | None = None  # ...and this user name (default: the secret's name)

    @model_validator(mode="after")
    def _one(self) -> SecretSource:
        given = [n for n in ("env", "file", "command", "keyring") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of env, file, command, keyring")
        if self.key is not None and self.file is None:
            raise ValueError("'key' goes with 'file'")
        if self.username is not None and self.keyring is None:
            raise ValueError("'username' goes with 'keyring'")
        if self.command is not None and not self.command:
            raise ValueError("'command' needs at least the program")
        return self


class WorktreesFile(_Strict):
    """worktrees.yaml."""

    vars: dict[str, Any] | None = None
    secrets: dict[str, SecretSource] | None = None
    profile_paths: list[str] | None = None
    #: Lint warnings are errors for every command (plan, apply, use --apply, the git hook,
    #: validate), as --strict makes them: a mistyped model ID never reaches a session.
    strict: bool | None = None
    #: The Claude Code binary the worktrees run (default: `claude` on PATH), relative to this
    #: file's folder or ~; its version decides how llmconf delivers settings. $LLMCONF_CLAUDE wins.
    claude_code: str | None = None
    #: The coding agents every worktree configures unless its entry says otherwise (default: claude-code).
    agents: Agents = None
    worktrees: dict[str, WorktreeEntry] | None = None
    #: git repositories: each entry covers every worktree `git worktree list` reports for it
    #: (a worktree listed under `worktrees:` keeps its own entry).
    repos: dict[str, WorktreeEntry] | None = None

    @field_validator("worktrees", "repos", mode="before")
    @classmethod
    def _shorthand(cls, worktrees: Any) -> Any:
        # `path: profile` is short for `path: {profile: profile}`.
        if isinstance(worktrees, dict):
            return {k: {"profile": v} if isinstance(v, str) else v for k, v in worktrees.items()}
        return worktrees

    @model_validator(mode="after")
    def _keys_are_paths(self) -> WorktreesFile:
        for section, what in (("worktrees", "worktree"), ("repos", "repo")):
            for key in getattr(self, section) or {}:
                if not isinstance(key, str) or not key.strip():
                    raise ValueError(f"a {what} key must be a folder path")
        return self


def field_names(model: type[BaseModel]) -> list[str]:
    """The field names of a model, for 'did you mean' suggestions."""
    return list(model.model_fields)
