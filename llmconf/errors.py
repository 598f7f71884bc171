"""The one diagnostic type: data about what is wrong, where, and what to do; never printed here.

An error is raised (and ends the command) or kept in a plan (and ends it with exit 1); a
warning is returned in a list, for a view to show. Both are LlmconfError, told apart by
`severity`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Literal

    Severity = Literal["error", "warning"]


class LlmconfError(Exception):
    """A user-facing diagnostic: a message, where (file and line), what to do, how bad it is,
    and for one about a settings key, that key's name."""

    def __init__(
        self,
        message: str,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
        severity: Severity = "error",
        key: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint
        self.severity: Severity = severity
        self.key = key
        #: A lint rule's stable code (LC101 ...), shown before the message; a YAML comment
        #: "noqa: CODE reason" at the warning's line accepts it.
        self.code = code

    def __str__(self) -> str:
        return self.format()

    def format(self, relative_to: Path | None = None) -> str:
        """`path:line: message (hint)`, with the path shown relative where that is shorter."""
        where = ""
        if self.path is not None:
            where = f"{display_path(self.path, relative_to)}"
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        hint = f" ({self.hint})" if self.hint else ""
        code = f"{self.code} " if self.code else ""
        return f"{where}{code}{self.message}{hint}"


class LlmconfErrors(LlmconfError):
    """Several independent problems found in one pass (validate reports them all)."""

    def __init__(self, errors: list[LlmconfError]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


def display_path(path: Path, relative_to: Path | None = None) -> str:
    """A path relative to `relative_to` (default cwd) when it lies below it, else absolute."""
    base = relative_to or Path.cwd()
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """`did you mean 'x'?` for the closest choice, or None when nothing is close."""
    # The word itself is never a useful suggestion ("unknown 'x' (did you mean 'x'?)").
    import difflib

    close = difflib.get_close_matches(word, [c for c in choices if c != word], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def grouped(found: Iterable[tuple[str, LlmconfError]]) -> list[LlmconfError]:
    """Errors by worktree as printed: the same error in several worktrees once, naming them."""
    by_text: dict[str, tuple[LlmconfError, list[str]]] = {}
    for name, error in found:
        by_text.setdefault(error.format(), (error, []))[1].append(name)
    out = []
    for error, names in by_text.values():
        if len(names) > 1:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            error = LlmconfError(
                f"{error.message} (in {len(names)} worktrees: {shown})", error.path, error.line, error.hint,
                error.severity, error.key, error.code,
            )
        out.append(error)
    return out
