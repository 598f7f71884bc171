"""Qwen Code as a target: the keys a profile becomes in a worktree's .qwen/settings.json, and
the 0600 file outside the repository that holds its key.

Qwen Code (0.24.4, measured against a fake gateway) reads .qwen/settings.json in the folder it
starts in, and ~/.qwen/settings.json under it. `modelProviders.openai` is an array of
`{id, name, baseUrl, envKey}`; `security.auth.selectedType: "openai"` and `model.name` set to
an entry's id choose it, and it sends POST <baseUrl>/chat/completions with
`Authorization: Bearer $<envKey>`. Of two entries with the same id the first wins, unless
`model.baseUrl` names the other's URL.

The array may hold the user's own providers, so llmconf owns one element of it, the one named
"llmconf" (plan.model.element), and leaves the others as they are. Its envKey is
LLMCONF_QWEN_API_KEY, which `llmconf exec` / `activate` set from the worktree's key file: the
environment beats every .env file Qwen Code reads (a nested worktree reads its main
checkout's .qwen/.env).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmconf.apply import jsonc
from llmconf.plan.model import Keys, dotted, element
from llmconf.targets.base import MAIN_MODEL, Found, KeyPath, ProjectFile, agent_command, dotenv_value, line_of, served

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.config.load import FieldPath, Sourced, WorktreeDecl

NAME = "qwen"
#: The project file Qwen Code reads, from the worktree root.
SETTINGS_FILE = Path(".qwen") / "settings.json"
#: The name of the modelProviders.openai entry llmconf owns, and the variable its envKey names.
PROVIDER = "llmconf"
KEY_VAR = "LLMCONF_QWEN_API_KEY"
#: The protocol Qwen Code's openai provider speaks, and so the endpoint a profile needs.
PROTOCOL = "openai"

ENTRY: KeyPath = ("modelProviders", "openai", element("name", PROVIDER))
AUTH: KeyPath = ("security", "auth", "selectedType")
MODEL: KeyPath = ("model", "name")
#: Picks llmconf's entry over one of the user's with the same model id (measured: the first wins).
MODEL_URL: KeyPath = ("model", "baseUrl")
#: Every key llmconf owns in .qwen/settings.json: a profile that sets none removes them all.
BACKEND_KEYS: tuple[KeyPath, ...] = (ENTRY, AUTH, MODEL, MODEL_URL)
#: No key of the file holds a secret by its name: envKey is the variable's name, never the key.
KEYS = Keys(BACKEND_KEYS, dotted, looks_secret=lambda key: False, load=jsonc.load, edit=jsonc.edit)
#: The key file: one variable in an `env` object, as Claude Code's settings hold theirs.
KEY_FILE_KEYS = Keys((("env", KEY_VAR),), dotted)

#: The profile fields Qwen Code reads: its model is the main one (sonnet, unless agent_models.qwen
#: says); it has no small model of its own.
FIELDS: tuple[FieldPath, ...] = (("endpoints", PROTOCOL), ("auth_token",), MAIN_MODEL)


class Qwen(ProjectFile):
    """Qwen Code: its project file, the keys a profile becomes there, and its key file."""

    name = NAME
    settings_file = SETTINGS_FILE
    command = agent_command(NAME)
    keys_spec = KEYS
    key_file_spec = KEY_FILE_KEYS
    fields = FIELDS

    def desired(self, decl: WorktreeDecl, fields: Mapping[FieldPath, Sourced], rendered: Mapping[FieldPath, str]) -> dict[KeyPath, Any]:
        """The keys of .qwen/settings.json a rendered profile becomes (a located error when the
        profile cannot serve Qwen Code: no OpenAI-protocol endpoint, or no main model)."""
        url, main = served(decl, rendered, NAME, PROTOCOL, "Qwen Code speaks OpenAI chat completions", "its OpenAI-compatible .../v1 URL")
        from llmconf.render import SensitiveMap, is_sensitive

        entry = {"id": str(main), "name": PROVIDER, "baseUrl": str(url), "envKey": KEY_VAR}
        hidden = is_sensitive(main) or is_sensitive(url)  # from secret() or env(): never shown
        return {ENTRY: SensitiveMap(entry) if hidden else entry, AUTH: "openai", MODEL: main, MODEL_URL: url}

    def key_keys(self, rendered: Mapping[FieldPath, str]) -> dict[KeyPath, str]:
        """What the worktree's key file holds: the profile's token, for exec and activate to hand over."""
        token = rendered.get(("auth_token",))
        return {} if token is None else {("env", KEY_VAR): token}

    def effective(self, worktree: Path, shell: Mapping[str, str]) -> str | None:
        return effective(worktree, shell, _declared_key(self.key_path(worktree)))

    def shown(self, desired: Mapping[KeyPath, Any]) -> tuple[Any, Any, Any]:
        return desired.get(MODEL_URL), desired.get(MODEL), None

    def launch(self, argv: list[str], kept: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        # Qwen Code reads the variable as it is (the environment beats its .env files).
        value = kept.get(KEY_VAR)
        return argv, ({KEY_VAR: value} if value is not None else {})

    def adopt(self, worktree: Path) -> Found | None:
        return adopt(worktree)


def adopt(worktree: Path) -> Found | None:
    """The OpenAI provider .qwen/settings.json in the worktree selects: with
    security.auth.selectedType "openai", the modelProviders.openai entry whose id is model.name
    (the one at model.baseUrl when it names one; else the first). Its key is the variable its
    envKey names: a reference Qwen Code resolves itself, or the value the worktree's own
    .qwen/.env (else .env) gives it. None: no such file or selection."""
    import json

    from llmconf import fs

    path = worktree / SETTINGS_FILE
    text, doc = fs.read_settings(path, jsonc.load)
    if text is None or doc is None or _get(doc, AUTH) != "openai":
        return None
    name, at = _get(doc, MODEL), _get(doc, MODEL_URL)
    providers = _get(doc, ("modelProviders", "openai"))
    if not isinstance(name, str) or not name or not isinstance(providers, list):
        return None
    entries = [e for e in providers if isinstance(e, dict) and e.get("id") == name and isinstance(e.get("baseUrl"), str)]
    entry = next((e for e in entries if e["baseUrl"] == at), entries[0] if entries else None)
    if entry is None:
        return None
    url, env_key = entry["baseUrl"], entry.get("envKey")
    switch = f"plan adds the '{PROVIDER}' entry to modelProviders.openai in {SETTINGS_FILE} and points model.name at it"
    if entry.get("name") != PROVIDER:
        # Measured on 0.24.4: of two entries with the same id and URL, the first wins; llmconf's goes first.
        switch = switch.replace("to modelProviders.openai", "ahead of your own entry in modelProviders.openai (Qwen Code takes the first that matches)")
    found = Found(path, line_of(text, json.dumps(url)), PROTOCOL, url, name, switch=switch)
    if isinstance(env_key, str) and env_key:
        import re

        from llmconf.records import replace

        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env_key):  # not a variable's name: a key pasted there, never shown
            return replace(found, key=env_key, key_file=path, key_line=line_of(text, json.dumps(env_key)))
        found = replace(found, key_ref=f"${env_key} (envKey)", key_file=path, key_line=line_of(text, json.dumps(env_key)))
        # The worktree's own .qwen/.env, else .env, may hold the key itself (Qwen Code reads it).
        env_file = next((p for p in (worktree / ".qwen" / ".env", worktree / ".env") if os.path.isfile(p)), None)
        value = dotenv_value(env_file, env_key) if env_file is not None else None
        if env_file is not None and value is not None:
            found = replace(found, key=value[0], key_ref=None, key_file=env_file, key_line=value[1])
    return found


def _declared_key(path: Path) -> str | None:
    """The key the worktree's key file holds (None: none, or it cannot be read)."""
    data = _read_json(path)
    env = data.get("env") if data is not None else None
    value = env.get(KEY_VAR) if isinstance(env, dict) else None
    return value if isinstance(value, str) else None


def _read_json(path: Path | str) -> dict[str, Any] | None:
    """A JSON object from a file (None: no such file, or not a JSON object)."""
    from llmconf import fs

    return fs.read_object(Path(path), jsonc.loads)  # Qwen Code reads its settings with comments allowed


#: Qwen Code's system settings, merged over the project's (QWEN_CODE_SYSTEM_SETTINGS_PATH moves
#: them), and its list of trusted folders (QWEN_CODE_TRUSTED_FOLDERS_PATH moves it).
SYSTEM_VAR, SYSTEM_FILE = "QWEN_CODE_SYSTEM_SETTINGS_PATH", "/etc/qwen-code/settings.json"
TRUSTED_VAR, TRUSTED_FILE = "QWEN_CODE_TRUSTED_FOLDERS_PATH", "trustedFolders.json"


def effective(worktree: Path, shell: Mapping[str, str], declared: str | None) -> str | None:
    """Why Qwen Code started in the worktree would not use what llmconf declares (None:
    nothing llmconf knows of beats it). `declared`: the key in the worktree's key file.

    Measured on 0.24.4: its system settings beat the project file; with folder trust on, it
    ignores the project file of a folder not trusted. And a plain `qwen`, started without
    `llmconf exec`, takes LLMCONF_QWEN_API_KEY from the shell, else from the first .qwen/.env
    or .env up from the worktree (in a nested worktree: its main checkout's), ~/.qwen/.env or
    ~/.env, else from an `env` object in its settings: one that holds another key than the
    key file sends that one."""
    home = Path(shell.get("HOME") or Path.home())
    qwen_home = Path(shell["QWEN_HOME"]) if shell.get("QWEN_HOME") else home / ".qwen"
    system_path = shell.get(SYSTEM_VAR) or SYSTEM_FILE
    system = _read_json(system_path) or {}
    model, providers = system.get("model"), system.get("modelProviders")
    if (
        (isinstance(model, dict) and ("name" in model or "baseUrl" in model))
        or (isinstance(providers, dict) and "openai" in providers)
        or _get(system, AUTH) is not None
    ):
        return f"{system_path} sets the model or provider"
    user = _read_json(qwen_home / "settings.json") or {}
    trust = ("security", "folderTrust", "enabled")
    if (_get(user, trust) is True or _get(system, trust) is True) and not _trusted(worktree, shell, qwen_home):
        return "folder trust is on and the worktree is not a trusted folder: Qwen Code ignores its .qwen/settings.json"
    found = _plain_key(worktree, home, qwen_home, shell)
    if found is not None and found[1] != declared:
        return f"a plain qwen, without llmconf exec, takes {KEY_VAR} from {found[0]}"
    return None


def _get(doc: Mapping[str, Any], key: KeyPath) -> Any:
    from llmconf.plan.model import ABSENT, get_key

    value = get_key(dict(doc), key)
    return None if value is ABSENT else value


def _trusted(worktree: Path, shell: Mapping[str, str], qwen_home: Path) -> bool:
    """Whether Qwen Code's trusted folders trust the worktree: TRUST_FOLDER on it or a folder
    above it, or TRUST_PARENT on a folder inside one of those (measured: either trusts it)."""
    rules = _read_json(shell.get(TRUSTED_VAR) or qwen_home / TRUSTED_FILE) or {}
    folder = Path(os.path.realpath(worktree))
    above = {folder, *folder.parents}
    for path, level in rules.items():
        try:
            rule = Path(os.path.realpath(path))
        except (TypeError, ValueError):  # a NUL in the path: no folder Qwen Code could trust
            continue
        if (level == "TRUST_FOLDER" and rule in above) or (level == "TRUST_PARENT" and rule.parent in above):
            return True
    return False


def _plain_key(worktree: Path, home: Path, qwen_home: Path, shell: Mapping[str, str]) -> tuple[str, str] | None:
    """Where a plain `qwen` in the worktree takes LLMCONF_QWEN_API_KEY from, and its value
    (None: nowhere), in Qwen Code's order (measured on 0.24.4; an empty value counts as unset)."""
    if shell.get(KEY_VAR):
        return "the shell", shell[KEY_VAR]
    for path in (*_project_dotenv(worktree, home), qwen_home / ".env", home / ".env"):
        value = _dotenv_value(path)
        if value:
            return str(path), value
    for path in (worktree / SETTINGS_FILE, qwen_home / "settings.json"):  # the project's env wins
        doc = _read_json(path)
        env = doc.get("env") if doc is not None else None
        value = env.get(KEY_VAR) if isinstance(env, dict) else None
        if isinstance(value, str) and value:
            return f"env in {path}", value
    return None


def _project_dotenv(worktree: Path, home: Path) -> tuple[Path, ...]:
    """The one .env file Qwen Code loads walking up from the worktree (none at or above HOME)."""
    folder = Path(os.path.realpath(worktree))
    for here in (folder, *folder.parents):
        if here == home:
            break
        for path in (here / ".qwen" / ".env", here / ".env"):
            if os.path.isfile(path):
                return (path,)
    return ()


def _dotenv_value(path: Path) -> str | None:
    """LLMCONF_QWEN_API_KEY's value in a .env file, read as Qwen Code reads it (None: not set
    there, or no such file)."""
    from llmconf.errors import LlmconfError

    try:
        found = dotenv_value(path, KEY_VAR)
    except (OSError, LlmconfError):
        return None
    return found[0] if found is not None else None
