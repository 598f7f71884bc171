"""How a value that may be a secret is shown: never, but as (sensitive)."""

from __future__ import annotations

import functools
import re

from llmconf.jsontext import dumps

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

SENSITIVE = "(sensitive)"

# Both patterns are compiled on first use (re keeps them): a plan with no value to check
# compiles neither, a few million instructions.
#: API key formats: OpenRouter, Anthropic, OpenAI and other sk- keys, Google, GitHub, xAI, z.ai
#: (hex id, a dot, a secret), and any long run of letters and digits mixed. Such a word is
#: never a secret's name, and never echoed back in an error.
_KEY_LIKE = (
    r"(?:sk-[A-Za-z0-9_-]{16,}|AIza[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xai-[A-Za-z0-9]{20,}|[0-9a-f]{32}\.[A-Za-z0-9]{10,}|(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,})"
)


def looks_like_key(text: str) -> bool:
    """Whether some word of `text` has the shape of an API key."""
    return re.search(_KEY_LIKE, text) is not None


def scrub(text: str) -> str:
    """`text` with every word shaped like an API key replaced by (sensitive)."""
    return re.sub(_KEY_LIKE, SENSITIVE, text)


#: The same formats inside a value (a URL with a key in its path, a model field, an env value):
#: each must start a word, and the generic one is letters and digits alone, so model IDs
#: (qwen3-coder-480b-a35b-instruct-2507: short runs between dashes) are not taken for keys.
_KEY_IN_VALUE = (
    r"(?<![A-Za-z0-9])(?:sk-[A-Za-z0-9_-]{16,}|AIza[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xai-[A-Za-z0-9]{20,}|[0-9a-f]{32}\.[A-Za-z0-9]{10,}|(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,})"
)


def holds_key(value: Any) -> bool:
    """Whether a value read from a file (a string, or JSON holding strings) has a key-shaped part."""
    if isinstance(value, str):
        return _str_holds_key(value)
    if isinstance(value, dict):
        return any(holds_key(k) or holds_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_key(v) for v in value)
    return False


@functools.lru_cache(maxsize=4096)  # every worktree of a profile holds the same strings
def _str_holds_key(value: str) -> bool:
    return re.search(_KEY_IN_VALUE, value) is not None


def keys_in(text: str) -> list[str]:
    """The key-shaped parts of a value, in order."""
    return [m.group(0) for m in re.finditer(_KEY_IN_VALUE, text)]


def scrub_value(value: Any) -> Any:
    """A value read from a file, as a view may show it: each key-shaped part replaced by (sensitive)."""
    if isinstance(value, str):
        return _scrub_str(value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v) for v in value]
    return value


@functools.lru_cache(maxsize=4096)  # every worktree of a profile holds the same strings
def _scrub_str(value: str) -> str:
    return re.sub(_KEY_IN_VALUE, SENSITIVE, value)


def shown(value: Any, sensitive: bool) -> str:
    """A value as plan and doctor print it: JSON, or (sensitive)."""
    if value == "":
        return '""'  # an empty value reveals nothing, and showing it explains API_KEY=""
    if sensitive:
        return SENSITIVE
    return dumps(value)
