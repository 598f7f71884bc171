"""Codex as a target: a profile file llmconf owns whole, one per worktree, and the 0600 file
outside the repository that holds its key.

Codex (0.171.0, measured against a fake gateway) reads no provider from a project: a trusted
project's .codex/config.toml may set `model`, but `model_provider`, `model_providers` and
`openai_base_url` there are ignored. What works is a profile, `$CODEX_HOME/<name>.config.toml`
(CODEX_HOME: ~/.codex unless set), layered on the user's config by `codex -p <name>`. Its
provider `[model_providers.X]` with `wire_api = "responses"` sends `POST <base_url>/responses`
with `Authorization: Bearer $<env_key>`; `wire_api = "chat"` is refused, so Codex needs an
endpoint that serves the Responses API.

So apply writes `$CODEX_HOME/llmconf-<worktree>-<hash>.config.toml` for each worktree that
lists codex (a name unique to the worktree's path), and the worktree's key file beside Claude
Code's --settings files: the key, and the main model. `llmconf exec -- codex ...` finds that
file, puts `-p <profile> -c model="<model>"` in front of codex's arguments (a trusted
project's `model` beats the profile's; `-c` beats both) and sets the key's variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmconf.plan.model import KeyChange, Keys, apply_changes, dotted
from llmconf.targets.base import MAIN_MODEL, Found, KeyPath, ProjectFile, agent_command, key_file_name, served
from llmconf.targets.codex import toml

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.config.load import FieldPath, Sourced, WorktreeDecl

NAME = "codex"
#: The provider llmconf adds to the profile, and the variables its key file holds.
PROVIDER = "llmconf"
KEY_VAR = "LLMCONF_CODEX_API_KEY"
MODEL_VAR = "LLMCONF_CODEX_MODEL"  # exec's `-c model=...`; never handed to codex as a variable
KEY_FILE = key_file_name(NAME)
#: The protocol Codex's provider speaks (the Responses API), so the endpoint a profile needs.
PROTOCOL = "openai"
#: Profile files llmconf writes: `llmconf-<name>.config.toml` in CODEX_HOME.
PREFIX, SUFFIX = "llmconf-", ".config.toml"

_P = ("model_providers", PROVIDER)
MODEL: KeyPath = ("model",)
MODEL_PROVIDER: KeyPath = ("model_provider",)
LABEL: KeyPath = (*_P, "name")
BASE_URL: KeyPath = (*_P, "base_url")
ENV_KEY: KeyPath = (*_P, "env_key")
WIRE_API: KeyPath = (*_P, "wire_api")
BACKEND_KEYS: tuple[KeyPath, ...] = (MODEL, MODEL_PROVIDER, LABEL, BASE_URL, ENV_KEY, WIRE_API)

HEADER = (
    "# Written by llmconf, which owns this file and rewrites it on apply: change the profile in\n"
    "# llmconf's config instead. 'llmconf exec -- codex' (or activate's codex) selects it with -p.\n\n"
)


def _edit(text: str | None, changes: tuple[KeyChange, ...]) -> str:
    """The profile file's new text: written whole (llmconf owns it), from its new document."""
    return HEADER + toml.dumps(apply_changes(toml.loads(text) if text is not None else None, changes))


#: No key of the profile file holds a secret by its name: env_key names the variable, never the key.
KEYS = Keys(BACKEND_KEYS, dotted, looks_secret=lambda key: False, load=toml.loads, edit=_edit)
#: The key file: the key and the main model, as variables in an `env` object.
KEY_FILE_KEYS = Keys((("env", KEY_VAR), ("env", MODEL_VAR)), dotted)
#: The profile fields Codex reads: its main model is `sonnet`'s unless `agent_models.codex.main` names another.
FIELDS: tuple[FieldPath, ...] = (("endpoints", PROTOCOL), ("auth_token",), MAIN_MODEL)


def codex_home(env: Mapping[str, str] = os.environ) -> Path:
    """The folder Codex reads profiles from: CODEX_HOME, else ~/.codex (plan and exec must see the same)."""
    home = env.get("CODEX_HOME")
    return Path(os.path.abspath(home)) if home else Path.home() / ".codex"


def profile_name(worktree: Path | str) -> str:
    """The worktree's Codex profile: `llmconf-<folder name>-<hash of its path>`. Stable, one
    per path, and only the characters `codex -p` takes (0.171.0 refuses `.`, `/`, spaces and
    anything not ASCII)."""
    from llmconf.hashing import sha256

    folder = os.path.normpath(os.path.abspath(worktree))
    base = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "-" for c in os.path.basename(folder))
    digest = sha256(folder.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{PREFIX}{base.strip('-')[:32] or 'root'}-{digest}"


class Codex(ProjectFile):
    """Codex: its profile file (llmconf's whole), the keys a profile becomes there, and its key file."""

    name = NAME
    command = agent_command(NAME)
    keys_spec = KEYS
    key_file_spec = KEY_FILE_KEYS
    fields = FIELDS

    def settings_path(self, worktree: Path) -> Path:
        return codex_home() / f"{profile_name(worktree)}{SUFFIX}"

    def desired(self, decl: WorktreeDecl, fields: Mapping[FieldPath, Sourced], rendered: Mapping[FieldPath, str]) -> dict[KeyPath, Any]:
        """The profile file's keys (a located error when the profile cannot serve Codex: no
        OpenAI-protocol endpoint, or no main model)."""
        profile = decl.profile.value
        url, main = served(decl, rendered, NAME, PROTOCOL, "Codex speaks the OpenAI Responses API", "a .../v1 URL that serves POST /responses")
        keys: dict[KeyPath, Any] = {MODEL: main, MODEL_PROVIDER: PROVIDER, LABEL: f"llmconf ({profile})", BASE_URL: url}
        if ("auth_token",) in rendered:  # without one, Codex sends no Authorization header
            keys[ENV_KEY] = KEY_VAR
        keys[WIRE_API] = "responses"
        return keys

    def key_keys(self, rendered: Mapping[FieldPath, str]) -> dict[KeyPath, str]:
        """What the worktree's key file holds: the profile's token and the main model, for exec.
        It is there whenever the worktree lists codex: it is how exec knows to add -p."""
        keys: dict[KeyPath, str] = {}
        if ("auth_token",) in rendered:
            keys[("env", KEY_VAR)] = rendered[("auth_token",)]
        if MAIN_MODEL in rendered:
            from llmconf.render import is_sensitive

            # A model from secret() or env() never goes on a command line (`ps` shows it to
            # every user): empty, and exec adds no -c; the profile file still names it.
            model = rendered[MAIN_MODEL]
            keys[("env", MODEL_VAR)] = "" if is_sensitive(model) else model
        return keys

    def effective(self, worktree: Path, shell: Mapping[str, str]) -> str | None:
        return effective(worktree, shell)

    def shown(self, desired: Mapping[KeyPath, Any]) -> tuple[Any, Any, Any]:
        return desired.get(BASE_URL), desired.get(MODEL), None  # Codex has no small model

    def launch(self, argv: list[str], kept: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        """codex (a command run `codex`) gets `-p <the worktree's profile> -c model="<model>"`
        in front of its arguments, unless they name a profile themselves or start a subcommand
        that refuses -p (login, features...); every command gets the key's variable."""
        env = {KEY_VAR: kept[KEY_VAR]} if KEY_VAR in kept else {}
        if os.path.basename(argv[0]) != self.command or not takes_profile(argv[1:]):
            return argv, env
        profile = _profile_here()
        extra = ["-p", profile]
        if kept.get(MODEL_VAR):
            extra += ["-c", f"model={toml.string(kept[MODEL_VAR])}"]
        return [argv[0], *extra, *argv[1:]], env

    def adopt(self, worktree: Path) -> Found | None:
        """Nothing to adopt: Codex keeps no backend in a project (a trusted project's
        .codex/config.toml may set `model`, never a provider); its providers live in
        $CODEX_HOME, shared by every folder."""
        return None


def _profile_here() -> str:
    """The profile of the worktree whose key file exec found, which must be in CODEX_HOME
    (given a profile it cannot find, Codex 0.171.0 falls back to its built-in OpenAI provider
    without a word)."""
    from llmconf.errors import LlmconfError
    from llmconf.targets.claude_code.layers import deliveries_dir, find_delivery

    found = find_delivery(Path.cwd(), name=KEY_FILE)  # what exec found, from the same folder
    if found is None:
        raise LlmconfError("no Codex key file for this folder", hint="run 'llmconf apply'")
    rel = os.path.relpath(found.parent, deliveries_dir())
    worktree = os.sep if rel == os.curdir else os.sep + rel
    profile = profile_name(worktree)
    path = codex_home() / f"{profile}{SUFFIX}"
    if not path.is_file():
        raise LlmconfError(
            f"no Codex profile file for the worktree {worktree}: codex would use its own provider",
            path,
            hint="run 'llmconf apply' with CODEX_HOME as it is here (apply writes the profile into CODEX_HOME, else ~/.codex)",
        )
    return profile


#: Codex 0.171.0's options (before its subcommand) that take a value, and its subcommands.
_VALUED = frozenset(
    ("-c", "--config", "--enable", "--disable", "--remote", "--remote-auth-token-env", "-i", "--image", "-m", "--model",
     "--local-provider", "-s", "--sandbox", "-C", "--cd", "--add-dir", "-a", "--ask-for-approval")
)  # fmt: skip
#: Its subcommands that refuse -p ("--profile only applies to runtime commands"): exec, review,
#: resume, fork, agents, mcp, sandbox... take it; `debug` takes it only as `debug prompt-input`.
_NO_PROFILE = frozenset(
    ("login", "logout", "plugin", "app-server", "remote-control", "completion", "update", "doctor", "apply", "a",
     "migrate-rollouts", "cloud", "exec-server", "features", "help")
)  # fmt: skip


def takes_profile(args: Sequence[str]) -> bool:
    """Whether codex started with these arguments should get llmconf's -p: they name no
    profile (two -p before a subcommand are an error; one after it wins), and start the
    interactive session, a prompt, or a subcommand that takes -p."""
    words = list(args[: args.index("--")] if "--" in args else args)
    if any(a in ("-p", "--profile") or a.startswith("--profile=") or (a.startswith("-p") and not a.startswith("--")) for a in words):
        return False
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-"):
            i += 2 if word in _VALUED else 1
            continue
        if word == "debug":
            return words[i + 1 : i + 2] == ["prompt-input"]
        return word not in _NO_PROFILE  # a subcommand, or the prompt of a session
    return True


#: The project's file Codex reads in a trusted project (only `model` and the like: never a provider).
PROJECT_FILE = Path(".codex") / "config.toml"


def effective(worktree: Path, shell: Mapping[str, str]) -> str | None:
    """What would make Codex in the worktree use something else than llmconf's profile
    declares (None: nothing llmconf knows of). A trusted project's `model` beats the
    profile's: exec passes the model with -c, which beats it again, but a `codex -p` typed
    by hand gets the project's."""
    from llmconf import fs
    from llmconf.errors import LlmconfError

    try:
        doc = toml.loads(fs.read_text(worktree / PROJECT_FILE, fs.SETTINGS_LIMIT))
    except (OSError, LlmconfError):
        return None
    if "model" not in doc or not _trusted(worktree, shell):
        return None
    return f"{PROJECT_FILE} sets model, which beats the profile's unless codex starts through llmconf exec"


def _trusted(worktree: Path, shell: Mapping[str, str]) -> bool:
    """Whether Codex trusts the worktree: `[projects."<path>"] trust_level = "trusted"` in
    $CODEX_HOME/config.toml, for its folder or (a linked worktree) its main checkout."""
    from llmconf import fs
    from llmconf.errors import LlmconfError

    try:
        projects = toml.loads(fs.read_text(codex_home(shell) / "config.toml", fs.SETTINGS_LIMIT)).get("projects")
    except (OSError, LlmconfError):
        return False
    if not isinstance(projects, dict):
        return False
    folders = {os.path.realpath(worktree)}
    git = worktree / ".git"
    if git.is_file():
        from llmconf.targets.claude_code.layers import main_checkout

        main = main_checkout(git)
        if main is not None:
            folders.add(os.path.realpath(main))
    return any(isinstance(p := projects.get(f), dict) and p.get("trust_level") == "trusted" for f in folders)
