"""JSON text as llmconf writes it to settings files and prints it: UTF-8 where it can be."""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def dumps(value: Any, **kwargs: Any) -> str:
    """JSON as readable as possible: UTF-8 text, but escaped where it could not be printed
    (a lone surrogate, which a JSON file may hold as a \\ud800 escape)."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **kwargs)
    return text
