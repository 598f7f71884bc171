"""JSON with comments and trailing commas (JSONC: opencode.jsonc, Gemini CLI's and Qwen Code's
settings.json), read and edited key by key so that every comment outside the keys llmconf
changes stays where it was.

The trick is one of length: `blank()` turns each comment, and each trailing comma, into spaces
(a newline stays a newline), which leaves plain JSON in which every offset is the original's.
An edit is made on that JSON (jsonedit, one change at a time) and copied back into the
original text as the one span it changed; the rest of the original, comments included, is
kept byte for byte. The result is parsed again and must be the intended document, else the
edit is refused: nothing is ever written that would lose what the user wrote.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from llmconf import fs
from llmconf.errors import LlmconfError
from llmconf.plan.model import Action, KeyChange, apply_changes

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def blank(text: str) -> str:
    """`text` with its comments and trailing commas turned into spaces (newlines kept): plain
    JSON, the same length, each value at the same offset."""
    comments, commas = _scan(text)
    if not comments and not commas:
        return text
    out = list(text)
    for i in commas:
        out[i] = " "
    for a, b in comments:
        out[a:b] = [ch if ch in "\r\n" else " " for ch in text[a:b]]
    return "".join(out)


#: A string (skipped whole), a comment, or a comma that only blanks and comments part from
#: the `}` or `]` after it (a trailing comma).
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?(?:\*/|\Z)|,(?=(?:\s|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*[}\]])', re.S)


def _scan(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """Where `text`'s comments are (start, end), and its trailing commas."""
    comments: list[tuple[int, int]] = []
    commas: list[int] = []
    if "/" not in text and "," not in text:
        return comments, commas
    for m in _TOKENS.finditer(text):
        first = text[m.start()]
        if first == "/":
            comments.append(m.span())
        elif first == ",":
            commas.append(m.start())
    return comments, commas


def _comments(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """The comments of `text` (those lying within [start, end), if given)."""
    end = len(text) if end is None else end
    return [text[a:b].rstrip() for a, b in _scan(text)[0] if start <= a and b <= end]


def loads(text: str) -> Any:
    """The document a JSONC text holds (json.JSONDecodeError, at the original's line and column)."""
    blanked = blank(text)
    return json.loads(blanked, parse_constant=lambda word: fs.refuse_constant(word, blanked))


def load(text: str) -> dict[str, Any]:
    """A JSONC settings file's object: a located LlmconfError (no part of the text quoted in
    it, which might be a key) when it is not JSONC, or not an object (fs.parse_object on the
    text with its comments blanked: lines and columns are the file's)."""
    return fs.parse_object(blank(text))


def edit(text: str | None, changes: tuple[KeyChange, ...]) -> str:
    """The new text of a JSONC file after `changes`, its comments kept (`text` None: a new file)."""
    from llmconf.apply import jsonedit

    if text is None:
        return jsonedit.edit(None, changes)
    expected = apply_changes(loads(text), changes)
    out = text
    dropped: list[str] = []  # the comments inside what a removal takes away go with it
    try:
        for change in changes:
            plain = blank(out)
            before = out
            out, (start, end) = _splice(out, plain, jsonedit.edit(plain, (change,)))
            if change.action is Action.REMOVE:
                dropped += _comments(before, start, end)
        if loads(out) == expected and Counter(_comments(out)) == Counter(_comments(text)) - Counter(dropped):
            return out
    except json.JSONDecodeError:
        pass
    raise LlmconfError(
        "cannot make this change and keep the file's comments where they are; nothing written",
        hint="move the comments away from the keys llmconf owns, then run again",
    )


def _splice(original: str, plain: str, edited: str) -> tuple[str, tuple[int, int]]:
    """`original` with the one span where `edited` differs from `plain` (its blanked form)
    replaced, and that span; a span that ends inside a comment takes all of that comment."""
    limit = min(len(plain), len(edited))
    start = 0
    while start < limit and plain[start] == edited[start]:
        start += 1
    end = 0  # how many characters from the end are the same
    while end < limit - start and plain[-1 - end] == edited[-1 - end]:
        end += 1
    old_end, new_end = len(plain) - end, len(edited) - end
    # Never split a comment: widen the span over any comment it cuts, in both texts alike.
    for a, b in _scan(original)[0]:
        if a < start < b:
            start = a
        if a < old_end < b:
            old_end, new_end = b, new_end + (b - old_end)
    inserted = edited[start:new_end]
    # A separator copied from between two members may carry a blanked comment: no trailing blanks.
    inserted = "\n".join(line.rstrip(" \t") if k < inserted.count("\n") else line for k, line in enumerate(inserted.split("\n")))
    inside = [(a, b) for a, b in _scan(original)[0] if start <= a and b <= old_end]
    if inside and not blank(original[start:old_end]).strip():
        # Only blanks and comments were replaced (an empty object's inside): keep the comments.
        a, b = inside[-1]
        if original.startswith("//", a):  # a line comment ends at its line's end: what follows goes on the next
            glue = "" if inserted.startswith(("\n", "\r\n")) else "\n"
        else:
            glue = "" if inserted[:1].isspace() else " "
        inserted = original[start:b] + glue + inserted
    return original[:start] + inserted + original[old_end:], (start, old_end)
