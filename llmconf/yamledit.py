"""Change one worktree's profile in worktrees.yaml, keeping the rest of the file as written.

An existing entry is edited in place: only the profile name's characters change, so
comments, quoting, indentation and blank lines stay. A new entry goes through ruamel's
round-trip dumper, which keeps comments. Every result is re-parsed and checked.
"""

from __future__ import annotations

import io
import re
from typing import Any

from llmconf.errors import LlmconfError

_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def set_profile(text: str, key: str, profile: str) -> str:
    """worktrees.yaml text with worktree `key` using `profile` (added when absent)."""
    from ruamel.yaml import YAML

    doc = YAML(typ="rt").load(text)
    entries = doc.get("worktrees") if doc is not None else None
    out = None
    if entries is not None and key in entries:
        entry = entries[key]
        if isinstance(entry, str):
            out = _splice(text, entries.lc.value(key))
        elif hasattr(entry, "lc") and "profile" in entry:
            out = _splice(text, entry.lc.value("profile"))
        out = out(profile) if out else None
    if out is None or not _check(out, key, profile):
        out = _dump(doc, key, profile)
    if not _check(out, key, profile):
        raise LlmconfError(f"could not set the profile of '{key}' safely; worktrees.yaml left as it was")
    return out


def _splice(text: str, pos: tuple[int, int]) -> Any:
    """A function that replaces the scalar starting at (line, col) with a new value."""
    lines = text.splitlines(keepends=True)
    line, col = pos
    start = sum(len(x) for x in lines[:line]) + col
    rest = lines[line][col:]
    if rest[:1] in ("'", '"'):
        end = rest.index(rest[0], 1) + 1  # profile names hold no quotes to escape
    else:
        match = re.match(r"[^\s#]+(?:[ \t]+[^\s#]+)*", rest)
        end = match.end() if match else 0

    def replace(profile: str) -> str:
        value = profile if _PLAIN.match(profile) else '"' + profile.replace('"', '\\"') + '"'
        return text[:start] + value + text[start + end :]

    return replace


def _dump(doc: Any, key: str, profile: str) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    if doc is None:
        doc = CommentedMap()
    if doc.get("worktrees") is None:
        doc["worktrees"] = CommentedMap()
    entries = doc["worktrees"]
    if key in entries and hasattr(entries[key], "lc"):
        entries[key]["profile"] = profile
    else:
        entries[key] = profile
    yaml = YAML(typ="rt")
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def _check(text: str, key: str, profile: str) -> bool:
    from ruamel.yaml import YAML

    try:
        entry = (YAML(typ="safe", pure=True).load(text) or {}).get("worktrees", {})[key]
    except Exception:
        return False
    return entry == profile or (isinstance(entry, dict) and entry.get("profile") == profile)
