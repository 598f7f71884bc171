"""The secret store: a 0600 file of NAME=<JSON string> lines, overridable from the environment.

Values are JSON-quoted so any character survives (quotes, $, {{, #, spaces, newlines).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from llmconf.errors import LlmconfError
from llmconf.fs import write_atomic

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HEADER = "# llmconf secrets: NAME=\"value\" (JSON-quoted). Edit with 'llmconf secret'; keep this file 0600.\n"


def secrets_file() -> Path:
    """$LLMCONF_SECRETS_FILE, else the default location."""
    if explicit := os.environ.get("LLMCONF_SECRETS_FILE"):
        return Path(explicit).expanduser()
    return default_secrets_file()


def default_secrets_file() -> Path:
    """$XDG_CONFIG_HOME/llmconf/secrets.env, else ~/.config/llmconf/secrets.env."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(config_home) / "llmconf" / "secrets.env"


def env_var(name: str) -> str:
    """The environment variable that overrides one secret: LLMCONF_SECRET_<NAME>."""
    return "LLMCONF_SECRET_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise LlmconfError(
            f"invalid secret name '{name}'",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


class SecretStore:
    """Reads the store lazily: a run that needs no secret never opens the file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or secrets_file()
        self._values: dict[str, str] | None = None
        self.warnings: list[str] = []

    def _load(self) -> dict[str, str]:
        if self._values is None:
            self._values = {}
            try:
                text = self.path.read_text(encoding="utf-8")
                mode = self.path.stat().st_mode
            except FileNotFoundError:
                return self._values
            except OSError as e:
                raise LlmconfError(f"cannot read secrets: {e.strerror or e.__class__.__name__}", self.path) from None
            if mode & 0o077:
                self.warnings.append(
                    f"{self.path} can be read by other users (mode {mode & 0o777:o}); run: chmod 600 {self.path}"
                )
            for lineno, line in enumerate(text.splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                name, sep, raw = line.partition("=")
                try:
                    value = json.loads(raw) if sep else None
                except json.JSONDecodeError:
                    value = None
                if not isinstance(value, str) or not _NAME.match(name):
                    # Never echo the line: it may hold a key.
                    raise LlmconfError(
                        "malformed secret line", self.path, lineno, "expected NAME=\"value\"; fix or 'llmconf secret rm' it"
                    )
                self._values[name] = value
        return self._values

    def get(self, name: str) -> str | None:
        """The secret's value: the environment override first, then the store."""
        override = os.environ.get(env_var(name))
        if override is not None:
            return override
        return self._load().get(name)

    def names(self) -> list[str]:
        return sorted(self._load())

    def set(self, name: str, value: str) -> None:
        values = dict(self._load())
        values[check_name(name)] = value
        self._save(values)

    def remove(self, name: str) -> bool:
        values = dict(self._load())
        if values.pop(name, None) is None:
            return False
        self._save(values)
        return True

    def _save(self, values: dict[str, str]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = "".join(f"{n}={json.dumps(v)}\n" for n, v in sorted(values.items()))
        write_atomic(self.path, _HEADER + body, mode=0o600)
        self._values = values
