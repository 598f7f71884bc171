"""TOML for Codex's profile files: tomllib parses them, and a small writer renders a whole
document back (llmconf owns the file whole, so no layout or comment needs keeping; tomlkit
would be a dependency and a slower start-up for that).

The writer takes what tomllib gives: tables, strings, booleans, numbers, dates and arrays.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping

from llmconf.errors import LlmconfError

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

#: Characters a bare key may hold; any other key is written quoted.
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def loads(text: str) -> dict[str, Any]:
    """A TOML document (a located LlmconfError when it is not TOML; no part of the text is
    quoted in it, which might be a key)."""
    import re
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"\(at line (\d+), column (\d+)\)$", str(e))
        message = str(e)[: found.start()].strip() if found else str(e)
        line = int(found.group(1)) if found else None
        where = f" (column {found.group(2)})" if found else ""
        raise LlmconfError(
            f"invalid TOML: {message[:1].lower()}{message[1:]}{where}", line=line,
            hint="fix it by hand, or delete it and apply again; llmconf never overwrites a file it cannot parse",
        ) from None
    except RecursionError:
        raise LlmconfError("nested too deeply to read safely", hint="fix it by hand; llmconf never overwrites it") from None


def dumps(doc: Mapping[str, Any]) -> str:
    """A document as TOML text: each table's plain values, then its tables as [a.b] sections."""
    lines: list[str] = []
    _table(doc, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n" if lines else ""


def _table(doc: Mapping[str, Any], path: tuple[str, ...], out: list[str]) -> None:
    plain = [(k, v) for k, v in doc.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in doc.items() if isinstance(v, Mapping)]
    if path and (plain or not tables):  # an empty table is still written, so it stays one
        out += ["", "[" + ".".join(map(key, path)) + "]"]
    out += [f"{key(k)} = {value(v)}" for k, v in plain]
    for k, v in tables:
        _table(v, (*path, k), out)


def key(name: str) -> str:
    """A key, bare when TOML allows it, else quoted."""
    return name if name and all(c in _BARE for c in name) else string(name)


def string(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped."""
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif c < " " or c == "\x7f":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def value(v: Any) -> str:
    """A value as TOML writes it inline."""
    if isinstance(v, str):
        return string(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(item) for item in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{key(k)} = {value(item)}" for k, item in v.items()) + "}"
    raise TypeError(f"no TOML form for {type(v).__name__}")
