"""How a value that may be a secret is shown: never, but as (sensitive)."""

from __future__ import annotations

import re
from typing import Any

from llmconf.jsontext import dumps

SENSITIVE = "(sensitive)"

#: API key formats: OpenRouter, Anthropic, OpenAI and other sk- keys, Google, GitHub, xAI, z.ai
#: (hex id, a dot, a secret), and any long run of letters and digits mixed. Such a word is
#: never a secret's name, and never echoed back in an error.
_KEY_LIKE = re.compile(
    r"(?:sk-[A-Za-z0-9_-]{16,}|AIza[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xai-[A-Za-z0-9]{20,}|[0-9a-f]{32}\.[A-Za-z0-9]{10,}|(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,})"
)


def looks_like_key(text: str) -> bool:
    """Whether some word of `text` has the shape of an API key."""
    return _KEY_LIKE.search(text) is not None


def scrub(text: str) -> str:
    """`text` with every word shaped like an API key replaced by (sensitive)."""
    return _KEY_LIKE.sub(SENSITIVE, text)


def shown(value: Any, sensitive: bool) -> str:
    """A value as plan and doctor print it: JSON, or (sensitive)."""
    if value == "":
        return '""'  # an empty value reveals nothing, and showing it explains API_KEY=""
    if sensitive:
        return SENSITIVE
    return dumps(value)
