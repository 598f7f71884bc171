"""Edit a JSON document in place, key by key, so everything llmconf does not own survives.

A settings file grown by hand keeps its key order, indentation, spacing and line breaks:
only the members that change are touched. Each result is checked by parsing it; if the
text edit ever disagrees with the intended document, the document is re-serialised with
the file's own indentation instead (correct, if less tidy).
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in CPython, missing from typeshed

from llmconf.errors import LlmconfError
from llmconf.plan.model import Action, KeyChange, apply_changes, find_element, is_element
from llmconf.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

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
    from llmconf.jsontext import dumps

    before = json.loads(text) if text is not None else None
    expected = apply_changes(before, changes)
    if text is None:
        return dumps(expected, indent=2) + "\n"
    if any(c.action is Action.REMOVE for c in changes):
        _refuse_duplicates(text)  # a removal would bring a shadowed duplicate back, or drop it with its object
    out = text
    for change in changes:
        out = _edit_one(out, change)
    out = _drop_emptied(out, before, expected)
    try:
        if json.loads(out) == expected:
            return out
    except json.JSONDecodeError:
        pass
    # Re-serialising keeps only the last of duplicate keys: the user's other ones would be lost.
    _refuse_duplicates(text)
    return dumps(expected, indent=_indent_unit(text)) + ("\n" if text.endswith("\n") else "")


def _refuse_duplicates(text: str) -> None:
    def pairs(members: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for name, _ in members:
            if name in seen:
                raise LlmconfError(
                    f"has the key '{name}' twice in one object, and this change cannot be made without dropping one;"
                    " nothing written",
                    hint="merge the duplicates by hand (Claude Code reads only the last), then run again",
                )
            seen.add(name)
        return dict(members)

    json.loads(text, object_pairs_hook=pairs)


def _edit_one(text: str, change: KeyChange) -> str:
    *parents, leaf = change.key
    element = bool(parents) and is_element(leaf)  # one element of an array (plan.model.element)
    open_at = _skip(text, 0)
    for i, part in enumerate(parents):
        members, _ = _members(text, open_at)
        found = _find(members, part)
        if found is None:
            if change.action is Action.REMOVE:
                return text
            value = [change.after] if element else change.after
            for name in reversed([*parents[i + 1 :], *([] if element else [leaf])]):  # each missing object on the way
                value = {name: value}
            return _insert(text, open_at, part, value)
        if element and i == len(parents) - 1:
            return _edit_element(text, found, leaf, change)
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


def _edit_element(text: str, array: _Member, part: str, change: KeyChange) -> str:
    """Set, replace or remove, in the array that is `array`'s value, the element `part` names
    (plan.model.element); the other elements keep their text."""
    open_at = array.value_start
    if text[open_at] != "[":
        return text  # not an array: apply_changes refuses it first
    elements, close_at = _elements(text, open_at)
    i = find_element([json.loads(text[e.value_start : e.value_end]) for e in elements], part)
    if change.action is Action.REMOVE:
        return text if i is None else _remove(text, open_at, close_at, elements, elements[i])
    style = _style(text)
    if i is not None:
        found = elements[i]
        multiline = "\n" in text[open_at:close_at]
        indent = _line_indent(text, found.value_start) if multiline else None
        return text[: found.value_start] + _render(change.after, indent, style) + text[found.value_end :]
    return _prepend(text, open_at, close_at, elements, change.after, style)


def _elements(text: str, open_at: int) -> tuple[list[_Member], int]:
    """The elements of the array whose `[` is at `open_at` (as members without a key), and the
    index of its `]`."""
    elements: list[_Member] = []
    i = _skip(text, open_at + 1)
    if text[i] == "]":
        return elements, i
    while True:
        start = i
        _, i = _DECODER.raw_decode(text, i)
        elements.append(_Member("", start, "", start, i))
        i = _skip(text, i)
        if text[i] == "]":
            return elements, i
        i = _skip(text, i + 1)  # past ','


def _prepend(text: str, open_at: int, close_at: int, elements: list[_Member], value: Any, style: _Style) -> str:
    """`value` as the first element of the array at `open_at`, laid out as its elements are
    (first: an agent that takes the first of two matching elements takes llmconf's)."""
    if elements:
        first = elements[0]
        multiline = "\n" in text[open_at:close_at]
        indent = _line_indent(text, first.start) if multiline else None
        if len(elements) > 1:
            sep = text[first.value_end : elements[1].start]
        else:
            sep = "," + style.newline + indent if indent is not None else style.comma
        return text[: first.start] + _render(value, indent, style) + sep + text[first.start :]
    if "\n" not in text.strip():
        return text[: open_at + 1] + _render(value, None, style) + text[close_at:]
    outer = _line_indent(text, open_at)
    inner = outer + style.unit
    return text[: open_at + 1] + style.newline + inner + _render(value, inner, style) + style.newline + outer + text[close_at:]


def _drop_emptied(text: str, before: Any, expected: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """Remove the objects a removal emptied (apply_changes dropped them), at any depth."""
    for name in list(before or {}):
        if name not in expected:
            open_at = _open_at(text, path)
            if open_at is None:
                continue
            members, close_at = _members(text, open_at)
            found = _find(members, name)
            if found is not None:
                text = _remove(text, open_at, close_at, members, found)
        elif isinstance(before[name], dict) and isinstance(expected[name], dict) and before[name] != expected[name]:
            text = _drop_emptied(text, before[name], expected[name], (*path, name))
    return text


def _open_at(text: str, path: tuple[str, ...]) -> int | None:
    """Where the object at `path` opens (None: not there, or not an object)."""
    open_at = _skip(text, 0)
    for part in path:
        found = _find(_members(text, open_at)[0], part)
        if found is None or text[found.value_start] != "{":
            return None
        open_at = found.value_start
    return open_at


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


def _indent_unit(text: str) -> str:
    # split("\n"), not splitlines(): U+2028 inside a string value is not a line break.
    for line in text.split("\n")[1:]:
        stripped = line.lstrip(" \t")
        if stripped.strip() and len(stripped) < len(line):
            return line[: len(line) - len(stripped)]
    return "  "


@dataclass(frozen=True)
class _Style:
    """How a file writes its JSON, learnt from the file, so that inserts look native."""

    newline: str  # "\n" or "\r\n"
    unit: str  # one level of indentation
    colon: str  # between key and value: ": ", ":" ...
    comma: str  # between members on one line: ", " or ","


def _style(text: str) -> _Style:
    members, _ = _members(text, _skip(text, 0))
    colon = members[0].colon if members else ": "
    comma = "," if colon == ":" else ", "
    return _Style("\r\n" if "\r\n" in text else "\n", _indent_unit(text), colon, comma)


def _render(value: Any, indent: str | None, style: _Style) -> str:
    """A value as the file would write it: laid out at `indent`, or on one line when None."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(style.comma, style.colon))
    text = json.dumps(value, indent=style.unit, ensure_ascii=False, separators=(",", style.colon))
    return text.replace("\n", style.newline + indent)


def _insert(text: str, open_at: int, key: str, value: Any) -> str:
    members, close_at = _members(text, open_at)
    style = _style(text)
    if members:
        multiline = "\n" in text[open_at:close_at]
    else:  # an empty object shows no layout: follow the file, or pretty-print a bare {}
        multiline = "\n" in text.strip() or not _members(text, _skip(text, 0))[0]
    name = json.dumps(key, ensure_ascii=False)
    if members:
        last = members[-1]
        indent = _line_indent(text, last.start) if multiline else None
        if len(members) > 1:
            sep = text[members[-2].value_end : last.start]  # exactly what the file puts between members
        else:
            sep = "," + style.newline + indent if indent is not None else style.comma
        member = name + last.colon + _render(value, indent, style)
        return text[: last.value_end] + sep + member + text[last.value_end :]
    if not multiline:
        return text[: open_at + 1] + name + style.colon + _render(value, None, style) + text[close_at:]
    outer = _line_indent(text, open_at)
    inner = outer + style.unit
    member = name + style.colon + _render(value, inner, style)
    return text[: open_at + 1] + style.newline + inner + member + style.newline + outer + text[close_at:]


def _remove(text: str, open_at: int, close_at: int, members: list[_Member], member: _Member) -> str:
    index = members.index(member)
    if len(members) == 1:
        return text[: open_at + 1] + text[close_at:]
    if index < len(members) - 1:
        return text[: member.start] + text[members[index + 1].start :]
    return text[: members[index - 1].value_end] + text[member.value_end :]
