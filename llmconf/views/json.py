"""What every command's JSON output shares: its format_version, and how it is written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The version of every JSON document llmconf prints (plan, status, doctor, models, cost).
FORMAT_VERSION = "1"


def dumps(value: Any, **kwargs: Any) -> str:
    """JSON as readable as possible: UTF-8 text, but escaped where it could not be printed
    (a lone surrogate, which a JSON file may hold as a \\ud800 escape)."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **kwargs)
    return text


def document(body: Mapping[str, Any]) -> str:
    """A command's JSON output: format_version first, then `body`; indented, ASCII, one newline at the end."""
    return json.dumps({"format_version": FORMAT_VERSION, **body}, indent=2) + "\n"
