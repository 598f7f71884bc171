"""What llmconf needs to know of an agent it configures: the seam every target implements.

A target says where its settings live, which keys it owns, what keys a profile becomes, how
one plan delivers those keys (its own file, or another layer the agent reads above it), and
what the agent will really use once it has merged its layers. Claude Code (claude_code/) is
the first; adding an agent means adding a folder beside it that implements these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmconf.records import dataclass, field

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any, Protocol

    from llmconf.config.load import Sourced, WorktreeDecl
    from llmconf.errors import LlmconfError
    from llmconf.plan.model import Delivery, Keys, Plan, WorktreePlan
else:
    Protocol = object  # the protocols below are the type checker's: nothing checks them at run time

#: A settings key: ("model",), or ("env", "ANTHROPIC_BASE_URL").
KeyPath = tuple[str, ...]
#: A profile field, flattened (config.load.FieldPath): ("models", "sonnet").
FieldPath = tuple[str, ...]


class Renders(Protocol):
    """What a delivery asks of the plan it is part of: the keys a declared worktree renders to."""

    def desired(self, decl: WorktreeDecl) -> dict[KeyPath, str]: ...


class Deliveries(Protocol):
    """One plan's delivery decisions for a target (what it finds on the way is kept for the plan)."""

    def of(self, decl: WorktreeDecl, desired: Mapping[KeyPath, str]) -> Delivery:
        """How a worktree's keys reach the agent."""
        ...

    def refused(self, desired: Mapping[KeyPath, str]) -> LlmconfError | None:
        """Why no write can give the worktree these keys (a layer above every delivery sets one)."""
        ...

    def extra(self, decl: WorktreeDecl, wp: WorktreePlan) -> tuple[Path, dict[KeyPath, str]] | None:
        """The file, beside the worktree's own, that its delivery needs and the keys it should
        hold (none: to be deleted, when an earlier apply left it); None when there is none."""
        ...


class Target(Protocol):
    name: str
    #: The keys that say which backend the agent uses: a profile that leaves one unset removes it.
    backend_keys: tuple[KeyPath, ...]

    def settings_path(self, worktree: Path) -> Path:
        """The worktree's own settings file."""
        ...

    def keys(self, fields: dict[str, str], models: dict[str, str], env: dict[str, str]) -> dict[KeyPath, str]:
        """The settings keys a rendered profile becomes."""
        ...

    def own_file(self, desired: Mapping[KeyPath, Any]) -> Mapping[KeyPath, Any]:
        """The keys the worktree's own file holds: those the agent reads from it (a key it reads
        only from another layer goes with the delivery)."""
        ...

    def deliveries(self, plan: Renders, declared: tuple[WorktreeDecl, ...], owned: Mapping[str, Any]) -> Deliveries:
        """The delivery decisions of one plan (`owned`: the files llmconf's state records)."""
        ...

    def effective(self, plan: Plan, shell: Mapping[str, str]) -> Mapping[Path, Any]:
        """Each worktree of a plan as the agent will see it after merging its layers."""
        ...


#: The fields an agent's target reads for its main and small model: the planner fills them
#: from the slot (or model ID) the profile's `agent_models:` names for it, by default these.
MAIN_MODEL: FieldPath = ("model", "main")
SMALL_MODEL: FieldPath = ("model", "small")
DEFAULT_SLOTS: dict[FieldPath, str] = {MAIN_MODEL: "sonnet", SMALL_MODEL: "haiku"}


def model_fields(agent: str, wanted: tuple[FieldPath, ...], fields: Mapping[FieldPath, Sourced]) -> dict[FieldPath, FieldPath]:
    """The profile field each of `wanted` is rendered from, for `agent`: a slot's model (the
    one `agent_models.AGENT.main`/`small` names, else the default slot), a model ID that
    field gives, or the field itself."""
    from llmconf.targets.claude_code.settings import SLOTS

    out: dict[FieldPath, FieldPath] = {}
    for fp in wanted:
        if fp not in DEFAULT_SLOTS:
            out[fp] = fp
            continue
        chosen = ("agent_models", agent, fp[1])
        named = fields[chosen].value if chosen in fields else DEFAULT_SLOTS[fp]
        out[fp] = ("models", named) if named in SLOTS else chosen
    return out


#: Claude Code's name in `agents:`; the planner's own path (Target above) serves it.
CLAUDE_CODE = "claude-code"
#: The other agents, by name: the module and class of each one's AgentTarget, and the program
#: that starts it (here, so that activate and exec know it without loading the target).
_TARGETS: dict[str, tuple[str, str, str]] = {
    "opencode": ("llmconf.targets.opencode.agent", "OpenCode", "opencode"),
    "gemini": ("llmconf.targets.gemini.agent", "Gemini", "gemini"),
    "qwen": ("llmconf.targets.qwen.agent", "Qwen", "qwen"),
    "codex": ("llmconf.targets.codex.agent", "Codex", "codex"),
}
OTHER_AGENTS: tuple[str, ...] = tuple(_TARGETS)
#: How the paths of the files their targets write end (the planner looks for them among the
#: state's records, once per plan): a file name, or the ending of one (Codex's profile files,
#: $CODEX_HOME/llmconf-<worktree>.config.toml).
OTHER_AGENT_FILES: tuple[str, ...] = (
    os.sep + "opencode.json",
    os.sep + "opencode.jsonc",
    os.sep + str(Path(".gemini", "settings.json")),
    os.sep + str(Path(".qwen", "settings.json")),
    ".config.toml",
    *(f"{os.sep}{name}-key.json" for name in _TARGETS),
)


@dataclass(frozen=True)
class Found:
    """The backend an agent's own files in a worktree configure, for `import`: what it sends
    where (its protocol's URL), which models, and with which key. The key is either a literal
    value (`key`: never shown) or a reference the agent resolves itself (`key_ref`:
    `{env:VAR}`, an envKey's variable), with the file and line it came from."""

    file: Path  # the file that names the backend
    line: int | None
    protocol: str  # the `endpoints:` protocol the agent speaks
    url: str
    main: str | None
    small: str | None = None
    key: str | None = field(default=None, repr=False)
    key_file: Path | None = None
    key_line: int | None = None
    key_ref: str | None = None
    #: What plan then does to the agent's file (import says so).
    switch: str = ""


def line_of(text: str, needle: str) -> int | None:
    """The line (from 1) where `needle` first occurs in `text` (None: nowhere)."""
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def dotenv_value(path: Path, name: str) -> tuple[str, int] | None:
    """The value a dotenv file gives `name`, and its line, read as Gemini CLI and Qwen Code read
    it (the npm dotenv package's rules: `NAME=value`, `export NAME=value`, `NAME: value`; a
    quoted value as it is, `\\n` in double quotes a newline; an unquoted one ends at `#`); the
    last one wins. None: not set there (or empty)."""
    import re

    from llmconf import fs

    text = fs.read_text(path, fs.SETTINGS_LIMIT).replace("\r\n", "\n")
    line = re.compile(
        r"^[ \t]*(?:export[ \t]+)?" + re.escape(name) + r"(?:[ \t]*=[ \t]*?|:[ \t]+?)"
        r"(\s*'(?:\\'|[^'])*'|\s*\"(?:\\\"|[^\"])*\"|\s*`(?:\\`|[^`])*`|[^#\n]+)?\s*(?:#.*)?$",
        re.MULTILINE,
    )
    found = None
    for match in line.finditer(text):
        value = (match.group(1) or "").strip()
        quote = value[:1]
        if len(value) > 1 and quote in "'\"`" and value[-1] == quote:
            value = value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n").replace("\\r", "\r")
        found = (value, text.count("\n", 0, match.start()) + 1) if value else None
    return found


def key_path(worktree: Path, agent: str) -> Path:
    """An agent's key file for a worktree: in that worktree's folder of llmconf's delivery
    files, beside Claude Code's --settings file, outside every repository."""
    from llmconf.targets.claude_code.layers import delivery_path

    return delivery_path(worktree).with_name(key_file_name(agent))


def served(decl: WorktreeDecl, rendered: Mapping[FieldPath, Any], agent: str, protocol: str, speaks: str, url_hint: str) -> tuple[Any, Any]:
    """The endpoint URL and main model a profile gives an agent that speaks `protocol`; a
    located error, naming the profile and the agent, when it gives either none."""
    profile = decl.profile.value
    url = rendered.get(("endpoints", protocol))
    if url is None:
        raise decl.profile.error(
            f"profile '{profile}' cannot serve {agent}: it gives no {protocol} endpoint ({speaks})",
            f"add endpoints: {{{protocol}: URL}} to the profile ({url_hint}), or leave {agent} out of agents:",
        )
    main = rendered.get(MAIN_MODEL)
    if main is None:
        raise decl.profile.error(
            f"profile '{profile}' gives {agent} no main model",
            f"set models.sonnet in the profile (or agent_models.{agent}.main: a slot or a model ID), or leave {agent} out of agents:",
        )
    return url, main


def key_file_name(agent: str) -> str:
    """The name of an agent's key file, in its worktree's folder of llmconf's delivery files
    (exec and activate look for it without loading the agent's target)."""
    return f"{agent}-key.json"


class AgentTarget(Protocol):
    """An agent other than Claude Code (`agents:`): the seam the planner asks about it. Its
    project file holds the keys a profile becomes, key by key (everything else in it is the
    user's); its key never goes there but into a 0600 key file outside the repository, which
    `llmconf exec` and `activate` hand to the agent."""

    name: str
    #: The program that starts it (what `llmconf exec -- PROGRAM` and `activate` recognise).
    command: str
    #: How its project file and its key file are keyed (the backend keys it owns in each).
    keys_spec: Keys
    key_file_spec: Keys
    #: The profile fields it reads, rendered for it (render.render_fields).
    fields: tuple[FieldPath, ...]

    def settings_path(self, worktree: Path) -> Path:
        """The worktree's project file for this agent."""
        ...

    def project_files(self, worktree: Path) -> tuple[Path, ...]:
        """Every project file of the worktree llmconf may write for this agent (settings_path
        is the one it writes now; an earlier apply may have written another)."""
        ...

    def key_path(self, worktree: Path) -> Path:
        """The worktree's key file, outside the repository."""
        ...

    def desired(self, decl: WorktreeDecl, fields: Mapping[FieldPath, Sourced], rendered: Mapping[FieldPath, str]) -> dict[KeyPath, Any]:
        """The project file's keys (a located error when the profile cannot serve the agent)."""
        ...

    def key_keys(self, rendered: Mapping[FieldPath, str]) -> dict[KeyPath, str]:
        """The key file's keys (none: no key, and the file goes)."""
        ...

    def effective(self, worktree: Path, shell: Mapping[str, str]) -> str | None:
        """What would make the agent, started in the worktree from this shell, use something
        else than its project file declares (None: nothing llmconf knows of)."""
        ...

    def shown(self, desired: Mapping[KeyPath, Any]) -> tuple[Any, Any, Any]:
        """What status shows of the project file's keys (with the key file's under them): the
        backend URL, the main model and the small model (None where the keys give none)."""
        ...

    def launch(self, argv: list[str], kept: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        """How `llmconf exec` starts `argv` in a worktree whose key file holds the variables
        `kept`: the command line (its program is this agent's, or any other) and the variables
        to set."""
        ...

    def adopt(self, worktree: Path) -> Found | None:
        """For `import`: the backend the agent's own files in the worktree configure by hand
        (None: none it can take over). Reads, never writes; a file it cannot read raises a
        located error."""
        ...


class ProjectFile:
    """What most agents share (a base for their targets): one project file, `settings_file`
    under the worktree, and a key file beside Claude Code's delivery file."""

    name: str
    settings_file: str | Path

    def settings_path(self, worktree: Path) -> Path:
        return worktree / self.settings_file

    def project_files(self, worktree: Path) -> tuple[Path, ...]:
        return (self.settings_path(worktree),)

    def key_path(self, worktree: Path) -> Path:
        return key_path(worktree, self.name)


def agent_command(name: str) -> str:
    """The program that starts an agent other than Claude Code (its target's `command`)."""
    return _TARGETS[name][2]


def agent_target(name: str) -> AgentTarget:
    """The target of an agent `agents:` names, other than Claude Code."""
    import importlib

    try:
        module, cls, _ = _TARGETS[name]
    except KeyError:
        raise ValueError(f"no target for agent {name!r}") from None  # config validation lists the agents there are
    target: AgentTarget = getattr(importlib.import_module(module), cls)()
    return target
