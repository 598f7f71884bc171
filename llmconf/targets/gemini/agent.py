"""Gemini CLI as a target: the keys a profile becomes in a worktree's .gemini/settings.json,
and the 0600 file outside the repository that holds its gateway URL and key.

Gemini CLI (0.61.0, measured against a fake gateway) reads .gemini/settings.json from the
folder it starts in, and only in a trusted folder. `security.auth.selectedType:
"gemini-api-key"` and `model.name` there make it send POST
<base>/v1beta/models/<model>:streamGenerateContent?alt=sse with `x-goog-api-key: <key>`. The base
URL and the key come only from GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY: the environment, or
the nearest dotenv file up the folders (the environment wins).

So the project file holds no URL and no key. Both go into the worktree's key file, which apply
writes 0600 beside Claude Code's --settings files. `llmconf exec` / `activate` set them from it,
with GEMINI_CLI_TRUST_WORKSPACE=true: that trusts the worktrees llmconf manages, and only them
(exec finds no key file elsewhere). Being variables, they beat any dotenv, so a worktree nested
in the main checkout never takes the main checkout's .gemini/.env values for them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmconf.apply import jsonc
from llmconf.plan.model import Keys, dotted
from llmconf.targets.base import MAIN_MODEL, Found, KeyPath, ProjectFile, agent_command, dotenv_value, line_of, served

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.config.load import FieldPath, Sourced, WorktreeDecl

NAME = "gemini"
#: The project file Gemini CLI reads in the folder it starts in.
SETTINGS_FILE = Path(".gemini") / "settings.json"
#: The protocol Gemini CLI speaks, and so the endpoint a profile needs to serve it.
PROTOCOL = "gemini"
#: The auth type that sends the key as x-goog-api-key to GOOGLE_GEMINI_BASE_URL.
AUTH_TYPE = "gemini-api-key"

AUTH: KeyPath = ("security", "auth", "selectedType")
MODEL: KeyPath = ("model", "name")
#: Every key llmconf owns in .gemini/settings.json. Neither holds a secret by its name.
KEYS = Keys((AUTH, MODEL), dotted, looks_secret=lambda key: False, load=jsonc.load, edit=jsonc.edit)
#: The variables Gemini CLI takes its gateway from, and the one that trusts the folder.
KEY_VAR, URL_VAR, TRUST_VAR = "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMINI_CLI_TRUST_WORKSPACE"
KEY: KeyPath = ("env", KEY_VAR)
URL: KeyPath = ("env", URL_VAR)
#: The key file: the variables in an `env` object, as Claude Code's settings hold theirs.
KEY_FILE_KEYS = Keys((KEY, URL), dotted)

#: The profile fields Gemini CLI reads: its model is the main one (sonnet's, unless the profile's
#: agent_models.gemini.main says); it has no small model to set.
FIELDS: tuple[FieldPath, ...] = (("endpoints", PROTOCOL), ("auth_token",), MAIN_MODEL)


class Gemini(ProjectFile):
    """Gemini CLI: its project file, the keys a profile becomes there, and its key file."""

    name = NAME
    settings_file = SETTINGS_FILE
    command = agent_command(NAME)
    keys_spec = KEYS
    key_file_spec = KEY_FILE_KEYS
    fields = FIELDS

    def desired(self, decl: WorktreeDecl, fields: Mapping[FieldPath, Sourced], rendered: Mapping[FieldPath, str]) -> dict[KeyPath, Any]:
        """The keys of .gemini/settings.json a rendered profile becomes (a located error when
        the profile cannot serve Gemini CLI: no Gemini endpoint, or no main model)."""
        _, main = served(decl, rendered, NAME, PROTOCOL, "Gemini CLI speaks the Gemini API", "the URL that /v1beta/models/... follows")
        return {AUTH: AUTH_TYPE, MODEL: main}  # a model from secret() or env() stays Sensitive

    def key_keys(self, rendered: Mapping[FieldPath, str]) -> dict[KeyPath, str]:
        """What the worktree's key file holds: the gateway's URL, and the profile's token when
        it has one, for exec and activate to hand over."""
        url = rendered.get(("endpoints", PROTOCOL))
        token = rendered.get(("auth_token",))
        return {**({URL: url} if url is not None else {}), **({KEY: token} if token is not None else {})}

    def effective(self, worktree: Path, shell: Mapping[str, str]) -> str | None:
        return effective(worktree, shell)

    def shown(self, desired: Mapping[KeyPath, Any]) -> tuple[Any, Any, Any]:
        return desired.get(URL), desired.get(MODEL), None

    def launch(self, argv: list[str], kept: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        # The variables beat every dotenv file, and the trust lets Gemini CLI read the project
        # file and the auth type in it (untrusted, it exits 41).
        # Trust only for gemini itself: any other program (a shell, an agent's tool) that started
        # a gemini in another folder would have it trust that folder's settings too.
        trust = {TRUST_VAR: "true"} if argv and os.path.basename(argv[0]) == self.command else {}
        # With no key of the profile's, GEMINI_API_KEY is set empty: else Gemini CLI would send
        # the user's own (from the shell or a dotenv file) to the gateway. Measured on 0.61.0: an
        # empty one beats every dotenv file, and Gemini CLI stops (exit 41) before any request.
        handed = {URL_VAR: kept[URL_VAR], KEY_VAR: kept.get(KEY_VAR, "")} if URL_VAR in kept else {}
        return argv, {**handed, **trust}

    def adopt(self, worktree: Path) -> Found | None:
        return adopt(worktree)


def adopt(worktree: Path) -> Found | None:
    """What .gemini/settings.json in the worktree selects with security.auth.selectedType
    "gemini-api-key": model.name, sent to GOOGLE_GEMINI_BASE_URL with GEMINI_API_KEY, both from
    the worktree's own dotenv file (.gemini/.env, else .env: the one Gemini CLI loads there).
    None: no such file or selection, or no GOOGLE_GEMINI_BASE_URL there (Google's own API: no
    profile's gateway key belongs there)."""
    from llmconf import fs
    from llmconf.records import replace

    path = worktree / SETTINGS_FILE
    text, doc = fs.read_settings(path, jsonc.load)
    security = doc.get("security") if doc is not None else None
    auth = security.get("auth") if isinstance(security, dict) else None
    if text is None or doc is None or not isinstance(auth, dict) or auth.get("selectedType") != AUTH_TYPE:
        return None
    model = doc.get("model")
    main = model.get("name") if isinstance(model, dict) and isinstance(model.get("name"), str) else None
    switch = f"plan keeps {SETTINGS_FILE} as it is; the URL and key go to llmconf's key file, which 'llmconf exec' hands over"
    found = Found(path, line_of(text, '"selectedType"'), PROTOCOL, "", main, switch=switch)
    env_file = next((p for p in (worktree / ".gemini" / ".env", worktree / ".env") if p.is_file()), None)
    if env_file is None:
        return None  # Google's own API (or a gateway set only in the shell, which import cannot see)
    url = dotenv_value(env_file, URL_VAR)
    if url is None:
        return None  # Google's own API, with a Google key: no gateway a profile could serve it from
    found = replace(found, file=env_file, line=url[1], url=url[0])
    key = dotenv_value(env_file, KEY_VAR)
    if key is not None:
        found = replace(found, key=key[0], key_file=env_file, key_line=key[1])
    return found




#: The variable that beats model.name (measured: so does the nearest dotenv file that sets it),
#: and the system settings, which Gemini CLI merges over the project's.
MODEL_VAR = "GEMINI_MODEL"
SYSTEM_VAR = "GEMINI_CLI_SYSTEM_SETTINGS_PATH"
SYSTEM_FILE = "/etc/gemini-cli/settings.json"


def effective(worktree: Path, shell: Mapping[str, str]) -> str | None:
    """Why Gemini CLI started by exec at the worktree's root would not use what llmconf declares
    (None: nothing llmconf knows of beats it)."""
    if shell.get(MODEL_VAR):
        return f"{MODEL_VAR} is set"
    home = Path(shell.get("HOME") or Path.home())
    env_file = nearest_dotenv(worktree, home)
    if env_file is not None and _dotenv_sets(env_file, MODEL_VAR):
        return f"{_named(env_file, worktree)} sets {MODEL_VAR}"
    system = Path(shell.get(SYSTEM_VAR) or SYSTEM_FILE)
    doc = _json(system)
    auth = doc.get("security", {}).get("auth", {}) if isinstance(doc.get("security"), dict) else {}
    if isinstance(doc.get("model"), dict) and "name" in doc["model"]:
        return f"system settings {system} set model.name"
    if isinstance(auth, dict) and auth.get("selectedType") not in (None, AUTH_TYPE):
        return f"system settings {system} set security.auth.selectedType"
    return None


def nearest_dotenv(start: Path, home: Path) -> Path | None:
    """The one dotenv file Gemini CLI loads in a trusted folder: the first .gemini/.env or .env
    from `start` up to the root, else ~/.gemini/.env, else ~/.env."""
    here = Path(start).absolute()
    for folder in (here, *here.parents):
        for candidate in (folder / ".gemini" / ".env", folder / ".env"):
            if candidate.exists():
                return candidate
    for candidate in (home / ".gemini" / ".env", home / ".env"):
        if candidate.exists():
            return candidate
    return None


def _dotenv_sets(path: Path, name: str) -> bool:
    """Whether a dotenv file gives `name` a value, read as Gemini CLI reads it."""
    from llmconf.errors import LlmconfError

    try:
        return dotenv_value(path, name) is not None
    except (OSError, LlmconfError):
        return False


def _json(path: Path) -> dict[str, Any]:
    from llmconf import fs

    return fs.read_object(path, jsonc.loads) or {}  # Gemini CLI reads its settings with comments allowed


def _named(path: Path, worktree: Path) -> str:
    """A file as status names it: from the worktree when inside it, else its full path."""
    import os

    rel = os.path.relpath(path, Path(worktree).absolute())
    return str(path) if rel.startswith("..") else rel
