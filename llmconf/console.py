"""The terminal, as one object handed to every command: output, errors, prompts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from llmconf.errors import LlmconfError, LlmconfErrors
from llmconf.records import dataclass, field

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import TextIO

#: A diagnostic quotes what it was given (a path, git's own words): a control character there
#: is shown as an escape, never sent to the terminal, and an error stays one line.
_SHOWN_IN_LINE = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_SHOWN_IN_TEXT = {c: v for c, v in _SHOWN_IN_LINE.items() if chr(c) not in "\n\t"}


@dataclass
class Ui:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    color: bool = False
    cwd: Path = field(default_factory=Path.cwd)

    def out(self, text: str) -> None:
        _write(self.stdout, text if text.endswith("\n") else text + "\n")

    def warn(self, warning: str | LlmconfError) -> None:
        """Print one warning: a diagnostic (with its place and hint), or a plain sentence."""
        text = warning.format(self.cwd) if isinstance(warning, LlmconfError) else warning
        _write(self.stderr, f"llmconf: warning: {text.translate(_SHOWN_IN_TEXT)}\n")

    def error(self, error: LlmconfError) -> None:
        """Print one error (or each of a group) as `llmconf: file:line: message (hint)`."""
        seen = set()
        for e in error.errors if isinstance(error, LlmconfErrors) else [error]:
            line = e.format(self.cwd).translate(_SHOWN_IN_LINE)
            if line not in seen:
                seen.add(line)
                _write(self.stderr, f"llmconf: {line}\n")
        self.stderr.flush()

    def width(self) -> int | None:
        """How wide a table may be: $COLUMNS when set, else the terminal's width when stdout is
        one; None (no limit) for a pipe, so a script or `grep` gets every column."""
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return int(columns)
        if not getattr(self.stdout, "isatty", lambda: False)():
            return None
        from llmconf.replay import terminal_columns  # shutil.get_terminal_size, without shutil

        return terminal_columns()

    def interactive(self) -> bool:
        return bool(getattr(self.stdin, "isatty", lambda: False)())

    def confirm(self, question: str) -> bool:
        """Ask for a typed 'yes', as Terraform does; anything else declines."""
        self.stdout.write(f"{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
        self.stdout.flush()
        answer = self.stdin.readline().strip()
        self.stdout.write("\n")
        return answer == "yes"

    def read_secret(self, prompt: str) -> str:
        """A secret from a hidden prompt on a terminal, else all of stdin (one newline stripped)."""
        if self.interactive():
            import getpass

            return getpass.getpass(prompt, stream=self.stderr)
        value = self.stdin.read()
        if value.endswith("\r\n"):
            return value[:-2]
        return value[:-1] if value.endswith("\n") else value


def _write(stream: TextIO, text: str) -> None:
    """Write, escaping what the stream's encoding cannot carry instead of crashing on it."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()


def wants_color(stdout: TextIO, disabled: bool) -> bool:
    if disabled or "NO_COLOR" in os.environ:
        return False
    return bool(getattr(stdout, "isatty", lambda: False)())
