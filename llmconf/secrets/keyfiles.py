"""The key files switch scripts left behind (the guide's ~/.config/forgerank/.env.NAME), read
for `llmconf import`; and where a secret's value comes from now, for its messages."""

from __future__ import annotations

import os
import re
from pathlib import Path

from llmconf import fs
from llmconf.config.load import user_path
from llmconf.errors import LlmconfError, display_path
from llmconf.records import dataclass
from llmconf.secrets.store import SecretStore, check_name, env_lines, env_var

#: Where the guide's save-openrouter-key.sh keeps keys: one .env.NAME file per gateway.
KEY_FILE_GLOB = ("~/.config/forgerank", ".env.*")
#: Only NAME_API_KEY lines: the guide's folder may hold GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY...
_KEY_NAME = re.compile(r"^(.+?)_API_KEY$")


@dataclass(frozen=True)
class FoundKey:
    """A key read from somewhere: which secret it belongs to and where it came from."""

    name: str
    value: str
    origin: str  # a file, as shown to the user (never the value)
    var: str = ""  # the key file's variable (OPENROUTER_API_KEY)
    explicit: bool = False  # from --key-file


def key_files(explicit: list[str], cwd: Path, errors: list[LlmconfError]) -> list[FoundKey]:
    """Keys from the guide's key files (~/.config/forgerank/.env.*) and each --key-file. A
    --key-file that cannot be read, or holds no key, is an error; a default one is passed over."""
    folder, pattern = KEY_FILE_GLOB
    default = sorted(Path(os.path.expanduser(folder)).glob(pattern))
    found: list[FoundKey] = []
    for path, required in [*((p, False) for p in default), *((user_path(cwd, f), True) for f in explicit)]:
        try:
            data = fs.read_bytes(path, fs.SECRETS_LIMIT)  # a FIFO or /dev/zero is refused, not waited on
        except (OSError, LlmconfError) as e:
            if required:
                what = "no such file" if isinstance(e, OSError) else e.message
                errors.append(LlmconfError(f"{what}; nothing changed", path, e.line if isinstance(e, LlmconfError) else None,
                                           "name a key file holding NAME_API_KEY=..."))
            continue
        text, bad = _text(data)
        if bad is not None:  # its line is never quoted: it may be the key
            if required:
                errors.append(
                    LlmconfError("not valid UTF-8 (not shown); nothing changed", path, bad, hint="save the key file as UTF-8 text")
                )
            continue
        keys = _api_keys(text)
        if required and not keys:
            errors.append(LlmconfError("holds no NAME_API_KEY=... line; nothing changed", path, hint="name a key file"))
        found += (FoundKey(name, value, display_path(path, cwd), var, required) for name, value, var in keys if _valid(name))
    return found


def _text(data: bytes) -> tuple[str, int | None]:
    """A key file's text, or the number of its first line that is not UTF-8."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return "", data[: e.start].count(b"\n") + 1


def held(store: SecretStore, name: str) -> tuple[str | None, str]:
    """What a render of secret('NAME') reads now, and where that comes from (for messages)."""
    if os.environ.get(env_var(name)) is not None:
        where = f"set in ${env_var(name)}"
    elif name in store.sources:
        where = "read through worktrees.yaml's secrets: source"
    else:
        where = f"already in {store.path}"
    return store.get(name), where


def _api_keys(text: str) -> list[tuple[str, str, str]]:
    """A key file's NAME_API_KEY=value lines as (secret name, value, variable): OPENROUTER_API_KEY -> openrouter."""
    keys = []
    for var, value in env_lines(text):
        named = _KEY_NAME.match(var)
        if named and value:
            keys.append((named.group(1).lower().replace("_", "-"), value, var))
    return keys


def _valid(name: str) -> bool:
    try:
        check_name(name)
    except LlmconfError:
        return False
    return True
