"""The secret store: a 0600 file of NAME=<JSON string> lines, overridable from the environment.

Values are JSON-quoted so any character survives (quotes, $, {{, #, spaces, newlines).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

from llmconf import fs, replay
from llmconf.errors import LlmconfError, display_path
from llmconf.fs import check_target, make_dirs, write_atomic
from llmconf.secrets.mask import looks_like_key

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

_ENV_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = _NAME_START | frozenset("_.-")


def _valid_name(name: str) -> bool:
    """Letters, digits, '.', '_' and '-' (ASCII), starting with a letter or digit."""
    return bool(name) and name[0] in _NAME_START and all(c in _NAME_CHARS for c in name)

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
    return "LLMCONF_SECRET_" + "".join(c if c in _ENV_NAME_CHARS else "_" for c in name.upper())


def check_name(name: str) -> str:
    if looks_like_key(name):
        raise LlmconfError(
            "that looks like an API key, not a secret's name; nothing stored (and it is not shown)",
            hint="name the secret and pipe the key in: printf %s \"$KEY\" | llmconf secret set openrouter",
        )
    if not _valid_name(name):
        raise LlmconfError(
            f"invalid secret name '{name}'",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


class SecretStore:
    """Reads the store lazily: a run that needs no secret never opens the file."""

    def __init__(
        self,
        path: Path | None = None,
        sources: dict[str, dict[str, Any]] | None = None,
        config_dir: Path | None = None,
    ) -> None:
        self.path = path or secrets_file()
        self.sources = sources or {}  # `secrets:` in worktrees.yaml
        self.config_dir = config_dir  # where those sources were declared
        self._values: dict[str, str] | None = None
        self._fetched: dict[str, str] = {}  # each source is asked once a run
        self._held: frozenset[str] | None = None  # see holds()
        self._error: LlmconfError | None = None  # why the store could not be read, once it could not
        self.warnings: list[LlmconfError] = []

    def _load(self) -> dict[str, str]:
        if self._error is not None:  # a store that failed to read fails every time: never half of it
            raise self._error
        if self._values is None:
            try:
                self._values = self._read()
            except LlmconfError as e:
                self._error = e
                raise
        return self._values

    def _read(self) -> dict[str, str]:
        """The store's secrets, all of them or an error: a later `set` writes back what this
        returns, so a half-read store must never be returned."""
        values: dict[str, str] = {}
        if _is_null_device(self.path):  # LLMCONF_SECRETS_FILE=/dev/null: no store (set refuses it)
            return values
        try:
            data = fs.read_bytes(self.path, fs.SECRETS_LIMIT)  # a FIFO or /dev/zero is refused
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return values
        except OSError as e:
            raise LlmconfError(f"cannot read secrets: {e.strerror or e.__class__.__name__}", self.path) from None
        if mode & 0o077:
            self.warnings.append(
                LlmconfError(
                    f"{self.path} can be read by other users (mode {mode & 0o777:o}); run: chmod 600 {self.path}",
                    severity="warning",
                )
            )
        for lineno, line in enumerate(_lines(data, self.path), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, raw = line.partition("=")
            try:
                value = json.loads(raw) if sep else None
            except json.JSONDecodeError:
                value = None
            if not isinstance(value, str) or not _valid_name(name):
                # Never echo the line: it may hold a key.
                raise LlmconfError(
                    "malformed secret line", self.path, lineno, "expected NAME=\"value\"; fix or 'llmconf secret rm' it"
                )
            if not _is_utf8(value):  # "\udcff": JSON can spell bytes no settings file can take
                raise LlmconfError("secret line is not valid UTF-8 (not shown)", self.path, lineno, _RETYPE)
            values[name] = value
        return values

    def get(self, name: str) -> str | None:
        """The secret's value: the environment override, else its `secrets:` source, else the store."""
        override = os.environ.get(env_var(name))  # LLMCONF_SECRET_*: never recorded (see replay)
        if override is not None:
            return _utf8(override, f"${env_var(name)}")
        if name in self.sources:
            if name not in self._fetched:
                self._fetched[name] = _fetch(name, self.sources[name])
            return self._fetched[name]
        try:
            return self._load().get(name)
        except LlmconfError as e:
            if e.path is None:
                raise
            # A template asking for the secret reports its own file and line: the store's go
            # into the message, so that error still says which line of the store to fix.
            where = f"{display_path(e.path)}:{e.line}" if e.line is not None else display_path(e.path)
            raise LlmconfError(f"{where}: {e.message}", hint=e.hint) from None

    def names(self) -> list[str]:
        return sorted(self._load())

    def holds(self, value: str) -> bool:
        """Whether `value` is kept anywhere llmconf reads secrets from without running anything:
        the store, or an LLMCONF_SECRET_* variable (a `secrets:` command is not run to ask)."""
        if self._held is None:  # worked out once: a plan may ask for every worktree
            try:
                stored = set(self._load().values())
            except LlmconfError:
                stored = set()
            self._held = frozenset(stored | set(replay.environ_with_prefix("LLMCONF_SECRET_").values()))
        return value in self._held

    def set(self, name: str, value: str) -> None:
        if not _is_utf8(value):
            raise LlmconfError(
                f"the value for secret '{name}' is not valid UTF-8 (not shown); nothing stored", hint="store the key as UTF-8 text"
            )
        self._check_writable()
        values = dict(self._load())
        values[check_name(name)] = value
        self._save(values)

    def remove(self, name: str) -> bool:
        self._check_writable()
        values = dict(self._load())
        if values.pop(name, None) is None:
            return False
        self._save(values)
        return True

    def _check_writable(self) -> None:
        """Refuse a store that is no regular file (LLMCONF_SECRETS_FILE=/dev/null, a FIFO) or is
        read-only before reading it: a FIFO would hang the read, a device would be replaced."""
        if os.path.lexists(self.path):
            check_target(self.path)

    def _save(self, values: dict[str, str]) -> None:
        body = "".join(f"{n}={json.dumps(v)}\n" for n, v in sorted(values.items()))
        try:
            if self.path == default_secrets_file():  # a path the user named must be in a folder that exists
                make_dirs(self.path.parent, 0o700)
            write_atomic(self.path, _HEADER + body, mode=0o600)
        except OSError as e:
            raise LlmconfError(f"cannot write secrets: {e.strerror or e.__class__.__name__}", self.path) from None
        self._values = values


def _is_null_device(path: Path) -> bool:
    """Whether `path` is the null device (whatever its name): read, it is an empty store."""
    try:
        st, null = os.stat(path), os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev


def _lines(data: bytes, path: Path) -> list[str]:
    """The store's lines; one that is not UTF-8 is an error naming its line, never its bytes."""
    lines = []
    for lineno, raw in enumerate(data.splitlines(), 1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise LlmconfError(
                "secret line is not valid UTF-8 (not shown)", path, lineno, _RETYPE
            ) from None
    return lines


_RETYPE = "delete that line by hand, then store the key again: llmconf secret set NAME"


def _is_utf8(value: str) -> bool:
    """Whether a value can be written as UTF-8: bytes that were not (which Python keeps as lone
    surrogates) cannot, and would fail only when a settings file is written."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _utf8(value: str, where: str, name: str | None = None) -> str:
    """An environment value as a secret: one that is not UTF-8 is an error naming the variable, never the value."""
    if not _is_utf8(value):
        secret = f"secret '{name}' comes from {where}, which" if name else where
        raise LlmconfError(f"{secret} is not valid UTF-8 (not shown)", hint=f"set {where.lstrip('$')} to the key as text")
    return value


_ENV_LINE = r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$"


def env_lines(text: str) -> list[tuple[str, str]]:
    """The NAME=value lines of an env-style file (the guide's key files), in order: `export`
    allowed, one pair of surrounding quotes removed."""
    out = []
    for line in text.splitlines():
        match = re.match(_ENV_LINE, line)
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out.append((match.group(1), value))
    return out


def _fetch(name: str, source: dict[str, Any]) -> str:
    """One secret from its source; a failure names the secret and the source, never its output."""
    if "env" in source:
        replay.sensitive(source["env"])
        value = os.environ.get(source["env"])
        if value is None:
            raise LlmconfError(f"secret '{name}' comes from ${source['env']}, which is not set", hint=f"export {source['env']}")
        return _utf8(value, f"${source['env']}", name)
    if "file" in source:
        path = Path(source["file"])
        try:
            text = fs.read_text(path, fs.SECRETS_LIMIT)
        except (OSError, LlmconfError) as e:
            why = e.message if isinstance(e, LlmconfError) else e.__class__.__name__
            raise LlmconfError(
                f"secret '{name}' comes from {path}, which cannot be read ({why})",
                hint="create it, or fix secrets: in worktrees.yaml",
            ) from None
        if "key" not in source:
            return text[:-1] if text.endswith("\n") else text
        for var, value in env_lines(text):
            if var == source["key"]:
                return value
        raise LlmconfError(f"secret '{name}': {path} has no {source['key']}= line", hint="add it, or fix 'key'")
    if "keyring" in source:
        return _from_keyring(name, source["keyring"], source.get("username") or name)
    import shlex
    import subprocess

    argv = [str(a) for a in source["command"]]
    shown = shlex.join(argv)
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LlmconfError(f"secret '{name}': command `{shown}` could not run ({e.__class__.__name__})") from None
    if out.returncode != 0:
        # Its output is never shown: a password manager may print anything.
        raise LlmconfError(f"secret '{name}': command `{shown}` failed (exit {out.returncode})", hint="run it yourself to see why")
    # The first line: `pass show` prints the password there and metadata (user:, url:) below.
    lines = out.stdout.decode(errors="replace").strip().splitlines()
    value = lines[0].strip() if lines else ""
    if not value:
        raise LlmconfError(f"secret '{name}': command `{shown}` printed nothing")
    return value


def _from_keyring(name: str, service: str, username: str) -> str:
    """One secret from the OS keychain, through the optional `keyring` library."""
    import shlex

    where = f"keyring service '{service}', user '{username}'"
    try:
        import keyring
    except ImportError:
        raise LlmconfError(
            f"secret '{name}' comes from the OS keychain, and the keyring library is not installed",
            hint=f"install it beside llmconf: {sys.executable} -m pip install keyring",
        ) from None
    try:
        value = keyring.get_password(service, username)
    except Exception as e:  # locked, no backend, a backend that fails to load: any of them
        raise LlmconfError(
            f"secret '{name}': {where} could not be read ({e.__class__.__name__})",
            hint="check the keychain with: keyring --list-backends",
        ) from None
    if not value:
        raise LlmconfError(
            f"secret '{name}': {where} holds nothing",
            hint=f"store it: keyring set {shlex.quote(service)} {shlex.quote(username)}",
        )
    return value

