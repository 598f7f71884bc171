"""What every command's JSON output shares: its format_version, and how it is written."""

from __future__ import annotations

import json
from collections.abc import Mapping

from llmconf.errors import LlmconfError

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

#: The version of every JSON document llmconf prints (plan, status, doctor, models, cost).
FORMAT_VERSION = "1"


def diagnostic(found: LlmconfError) -> dict[str, Any]:
    """An error or warning in JSON: the one shape, in plan's warnings and doctor's findings."""
    return {
        "severity": found.severity,
        "code": found.code,
        "file": str(found.path) if found.path else None,
        "line": found.line,
        "message": found.message,
        "hint": found.hint,
    }


def document(body: Mapping[str, Any]) -> str:
    """A command's JSON output: format_version first, then `body`; indented, ASCII, one newline at the end."""
    return json.dumps({"format_version": FORMAT_VERSION, **body}, indent=2) + "\n"
