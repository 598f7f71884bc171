"""Edit a JSON document in place, key by key, so everything llmconf does not own survives.

A settings file grown by hand keeps its key order, indentation, spacing and line breaks:
only the members that change are touched. Each result is checked by parsing it; if the
text edit ever disagrees with the intended document, the document is re-serialised with
the file's own indentation instead (correct, if less tidy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.decoder import scanstring
from typing import Any

from llmconf.plan import Action, KeyChange, apply_changes

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


@dataclass(frozen=True)
class _Member:
    key: str
    start: int  # the opening quote of the key
    colon: str  # what stands between key and value, e.g. ': '
    value_start: int
    value_end: int


def edit(text: str | None, changes: tuple[KeyChange, ...]) -> str:
    """The new text of a settings file after `changes` (`text` None: a new file)."""
    before = json.loads(text) if text is not None else None
    expected = apply_changes(before, changes)
    if text is None:
        return json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    out = text
    for change in changes:
        out = _edit_one(out, change)
    out = _drop_emptied(out, before, expected)
    try:
        if json.loads(out) == expected:
            return out
    except json.JSONDecodeError:
        pass
    return json.dumps(expected, indent=_indent_unit(text), ensure_ascii=False) + ("\n" if text.endswith("\n") else "")


def _edit_one(text: str, change: KeyChange) -> str:
    *parents, leaf = change.key
    open_at = _skip(text, 0)
    for part in parents:
        members, _ = _members(text, open_at)
        found = _find(members, part)
        if found is None:
            if change.action is Action.REMOVE:
                return text
            return _insert(text, open_at, part, {leaf: change.after})
        if text[found.value_start] != "{":
            return text  # not an object: the parse check falls back to re-serialising
        open_at = found.value_start
    members, close_at = _members(text, open_at)
    found = _find(members, leaf)
    if change.action is Action.REMOVE:
        return text if found is None else _remove(text, open_at, close_at, members, found)
    if found is None:
        return _insert(text, open_at, leaf, change.after)
    return text[: found.value_start] + json.dumps(change.after, ensure_ascii=False) + text[found.value_end :]


def _drop_emptied(text: str, before: Any, expected: dict[str, Any]) -> str:
    for name in list(before or {}):
        if name not in expected:
            open_at = _skip(text, 0)
            members, close_at = _members(text, open_at)
            found = _find(members, name)
            if found is not None:
                text = _remove(text, open_at, close_at, members, found)
    return text


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _members(text: str, open_at: int) -> tuple[list[_Member], int]:
    """The members of the object whose `{` is at `open_at`, and the index of its `}`."""
    members: list[_Member] = []
    i = _skip(text, open_at + 1)
    if text[i] == "}":
        return members, i
    while True:
        start = i
        key, i = scanstring(text, i + 1)
        colon_start = i
        i = _skip(text, _skip(text, i) + 1)  # past ':'
        value_start = i
        _, i = _DECODER.raw_decode(text, i)
        members.append(_Member(key, start, text[colon_start:value_start], value_start, i))
        i = _skip(text, i)
        if text[i] == "}":
            return members, i
        i = _skip(text, i + 1)  # past ','


def _find(members: list[_Member], key: str) -> _Member | None:
    # The last one wins, as in json.loads.
    for member in reversed(members):
        if member.key == key:
            return member
    return None


def _line_indent(text: str, i: int) -> str:
    start = text.rfind("\n", 0, i) + 1
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def _indent_unit(text: str) -> str | int:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            return line[: len(line) - len(stripped)]
    return 2


def _render(value: Any, indent: str, unit: str | int) -> str:
    text = json.dumps(value, indent=unit, ensure_ascii=False)
    return text.replace("\n", "\n" + indent)


def _insert(text: str, open_at: int, key: str, value: Any) -> str:
    members, close_at = _members(text, open_at)
    unit = _indent_unit(text)
    if members:
        last = members[-1]
        multiline = "\n" in text[open_at : last.start]
        indent = _line_indent(text, last.start) if multiline else ""
        sep = ",\n" + indent if multiline else ", "
        member = json.dumps(key, ensure_ascii=False) + last.colon + _render(value, indent, unit)
        return text[: last.value_end] + sep + member + text[last.value_end :]
    outer = _line_indent(text, open_at)
    inner = outer + (unit if isinstance(unit, str) else " " * unit)
    member = json.dumps(key, ensure_ascii=False) + ": " + _render(value, inner, unit)
    return text[: open_at + 1] + "\n" + inner + member + "\n" + outer + text[close_at:]


def _remove(text: str, open_at: int, close_at: int, members: list[_Member], member: _Member) -> str:
    index = members.index(member)
    if len(members) == 1:
        return text[: open_at + 1] + text[close_at:]
    if index < len(members) - 1:
        return text[: member.start] + text[members[index + 1].start :]
    return text[: members[index - 1].value_end] + text[member.value_end :]
