"""Change one worktree's profile in worktrees.yaml, keeping the rest of the file as written.

An existing entry is edited in place: only the profile name's characters change, so
comments, quoting, indentation and blank lines stay. A new entry is added as text lines at
the end of the `worktrees:` block, indented like its neighbours, when the file's layout
allows; else it goes through ruamel's round-trip dumper, which keeps comments but not the
file's indentation or quoting. Every result is re-parsed and checked.
"""

from __future__ import annotations

import io
import re

from llmconf.errors import LlmconfError

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any, Literal


def set_profile(text: str, key: str, profile: str) -> str:
    """worktrees.yaml text with worktree `key` using `profile` (added when absent)."""
    plain = _plain_set_profile(text, key, profile)
    if plain is not None:
        return plain
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
    if out is None and (entries is None or key not in entries):
        out = _append(text, doc, key, profile)
    if out is None or not _check(out, key, profile):
        out = _dump(doc, key, profile)
    if not _check(out, key, profile):
        raise LlmconfError(f"could not set the profile of '{key}' safely; worktrees.yaml left as it was")
    return out


def add_entry(text: str, key: str, entry: str | dict[str, Any]) -> str:
    """worktrees.yaml text with worktree `key` declared as `entry` (see _append): appended in the
    file's own layout when it allows, else through ruamel's round trip; checked either way."""
    if isinstance(entry, str):
        return set_profile(text, key, entry)
    from ruamel.yaml import YAML

    doc = YAML(typ="rt").load(text)
    out = _append(text, doc, key, entry)
    if out is None:
        out = _dump(doc, key, entry)
        if _entry(out, key) != entry:
            raise LlmconfError(f"could not declare '{key}' safely; nothing changed")
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
        return text[:start] + yaml_scalar(profile, flow=True) + text[start + end :]

    return replace


def _dump(doc: Any, key: str, entry: str | dict[str, Any], replace: bool = False) -> str:
    """The document through ruamel's round trip, with `key` using profile `entry` (a name: an
    existing mapping keeps its other fields, unless `replace`) or declared as `entry` (a mapping)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    if doc is None:
        doc = CommentedMap()
    if doc.get("worktrees") is None:
        doc["worktrees"] = CommentedMap()
    entries = doc["worktrees"]
    if isinstance(entry, dict):
        entries[key] = _flow_map(entry)
    elif key in entries and hasattr(entries[key], "lc") and not replace:
        entries[key]["profile"] = entry
    else:
        entries[key] = entry
    yaml = YAML(typ="rt")
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def _flow_map(entry: dict[str, Any]) -> Any:
    """A mapping for the round trip, its nested mappings in flow style (`models: {sonnet: x}`)."""
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for name, value in entry.items():
        if isinstance(value, dict):
            value = CommentedMap(value)
            value.fa.set_flow_style()
        out[name] = value
    return out


def _check(text: str, key: str, profile: str) -> bool:
    entry = _entry(text, key)
    return entry == profile or (isinstance(entry, dict) and entry.get("profile") == profile)


_MISSING = object()


def entry_of(text: str, key: str) -> Any:
    """What worktrees.yaml text declares for `key` (a profile name or a mapping); None when absent."""
    found = _entry(text, key)
    return None if found is _MISSING else found


def _entry(text: str, key: str) -> Any:
    """What worktrees.yaml text declares for `key`, parsed back; _MISSING when it does not parse."""
    from ruamel.yaml import YAML

    try:
        return (YAML(typ="safe", pure=True).load(text) or {}).get("worktrees", {})[key]
    except Exception:
        return _MISSING


# Plain scalars this quoting may leave unquoted: a key may start like a path (./a, ~/b); a
# value in flow style may not hold ':' (libyaml, YAML 1.1, rejects `{sonnet: a/b:exacto}`).
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_./~][A-Za-z0-9_./~-]*$")
_PLAIN_FLOW = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./@+-]*$")
_PLAIN_BLOCK = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./:@+-]*$")
#: YAML 1.1 words for null and booleans, which another reader of the file may still apply.
_KEYWORDS = frozenset(("null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"))


def _append(text: str, doc: Any, key: str, entry: str | dict[str, Any]) -> str | None:
    """worktrees.yaml text (`doc`: its round-trip parse) with a new entry appended as lines
    under `worktrees:`, nothing else touched; None when the layout does not allow it (a flow
    `worktrees: {}`, no such key, CRLF mixed in) or the result does not parse back to the old
    document plus exactly that entry.

    `entry` is a profile name, or a mapping whose values are strings, None, or one level of
    string mappings (written in flow style: `models: {sonnet: z-ai/glm-4.7}`).
    """
    from ruamel.yaml import YAML

    try:
        old = YAML(typ="safe", pure=True).load(text)
    except Exception:
        return None
    if not hasattr(doc, "lc") or "worktrees" not in doc or not isinstance(old, dict):
        return None
    entries = doc["worktrees"]
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if entries is None:
        indent, step = 2, 2
    elif hasattr(entries, "lc") and isinstance(old.get("worktrees"), dict) and not entries.fa.flow_style():
        if key in entries or not len(entries):
            return None
        first = next(iter(entries))
        indent = entries.lc.key(first)[1]
        # The nested step of an existing block entry (`profile:` under a key); else the entries' own indent.
        nested = [
            v.lc.key(next(iter(v)))[1] - entries.lc.key(k)[1]
            for k, v in entries.items()
            if hasattr(v, "lc") and len(v) and not v.fa.flow_style()
        ]
        step = max(nested[0] if nested else indent, 2)
    else:
        return None
    # Where the block ends: before the next top-level key and the comments and blank lines
    # just above it (they introduce that key), or at the end of the file.
    keys = list(doc)
    after = keys[keys.index("worktrees") + 1 :]
    at = len(lines)
    if after:
        at = doc.lc.key(after[0])[0]
        while at > 0 and (not lines[at - 1].strip() or lines[at - 1].startswith("#")):
            at -= 1
    head = "".join(lines[:at])
    if head and not head.endswith(("\n", "\r")):
        head += newline
    added = _entry_lines(key, entry, " " * indent, " " * (indent + step))
    if added is None:
        return None
    out = head + "".join(line + newline for line in added) + "".join(lines[at:])
    try:
        new = YAML(typ="safe", pure=True).load(out)
    except Exception:
        return None
    want = dict(old)
    want["worktrees"] = {**(old.get("worktrees") or {}), key: entry}
    if new != want or list((new.get("worktrees") or {}))[-1:] != [key]:
        return None
    return out


def yaml_scalar(value: str | bool | None, *, key: bool = False, flow: bool = False) -> str:
    """A string as YAML that reads back as exactly that string: plain where that is safe,
    else JSON-quoted. Not plain: a YAML 1.1 keyword (yes, null...), and anything a YAML
    loader reads as another type (0x1F, 1e3, 2024-01-01, .inf). `key`: a mapping key (may
    start like a path); `flow`: inside `{...}` (no ':'). None is `null`."""
    import json

    if value is None:
        return "null"
    if isinstance(value, bool):  # a switch (catalog_info: false)
        return "true" if value else "false"
    plain = _PLAIN_KEY if key else _PLAIN_FLOW if flow else _PLAIN_BLOCK
    if plain.match(value) and value.lower() not in _KEYWORDS and _reads_back(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def yaml_key(text: str) -> str:
    """A mapping key as YAML reads it back (see yaml_scalar)."""
    return yaml_scalar(text, key=True)


def _value(value: str | bool | None) -> str:
    return yaml_scalar(value, flow=True)


def _reads_back(value: str) -> bool:
    """Whether `value`, written plain, is read back as that string (not a number, a date...)."""
    if value[:1].isdigit() or value[:1] in ".+-":  # only these can resolve to another type
        from ruamel.yaml import YAML

        try:
            return bool(YAML(typ="safe", pure=True).load(f"k: {value}\n") == {"k": value})
        except Exception:
            return False
    return True


def replace_entry(text: str, key: str, entry: str | dict[str, Any] | None, keep_comments: bool = True) -> str:
    """worktrees.yaml text with worktree `key` declared as `entry` instead (None: removed).

    The entry's own lines are replaced in the file's layout when it allows: comments above and
    around other entries, and everything outside the entry, stay as written; so does the comment
    at the end of each of its fields' lines, with `keep_comments`. Else the edit goes
    through ruamel's round trip, which keeps comments but not indentation. Checked either way.
    """
    from ruamel.yaml import YAML

    try:
        doc = YAML(typ="rt").load(text)
        old = YAML(typ="safe", pure=True).load(text)
    except Exception as e:
        raise LlmconfError(f"worktrees.yaml does not parse; nothing changed ({e.__class__.__name__})") from None
    if not isinstance(old, dict) or not isinstance(old.get("worktrees"), dict) or key not in old["worktrees"]:
        raise LlmconfError(f"'{key}' is not declared in worktrees.yaml; nothing changed")
    want = dict(old)
    want["worktrees"] = {k: (entry if k == key else v) for k, v in old["worktrees"].items() if k != key or entry is not None}
    out = _replace_lines(text, doc, key, entry, keep_comments)
    if out is None or _parsed(out) != want:
        out = _dump_without(doc, key) if entry is None else _dump(doc, key, entry, replace=True)
    if _parsed(out) != want:
        raise LlmconfError(f"could not change the entry of '{key}' safely; worktrees.yaml left as it was")
    return out


def _parsed(text: str) -> Any:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=True).load(text)
    except Exception:
        return _MISSING


def _replace_lines(text: str, doc: Any, key: str, entry: str | dict[str, Any] | None, keep_comments: bool) -> str | None:
    """The text with the block-style entry's lines replaced (see replace_entry); None when the
    layout does not allow it: a flow-style `worktrees: {...}`, or an entry value that is not a
    name or one level of plain mappings."""
    entries = doc["worktrees"]
    if not hasattr(entries, "lc") or entries.fa.flow_style():
        return None
    lines = text.splitlines(keepends=True)
    keys = list(entries)
    start = entries.lc.key(key)[0]
    index = keys.index(key)
    if index + 1 < len(keys):
        end = entries.lc.key(keys[index + 1])[0]
    else:  # the block's last entry: it ends before the next top-level key, or at the end
        top = list(doc)
        after = top[top.index("worktrees") + 1 :]
        end = doc.lc.key(after[0])[0] if after else len(lines)
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1  # comments and blank lines just above the next key introduce it: they stay
    if entry is None:  # the comment lines just above the entry introduce it: they go with it
        while start > 0 and lines[start - 1].lstrip().startswith("#") and lines[start - 1][:1].isspace():
            start -= 1
        return "".join(lines[:start] + lines[end:])
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    notes = _line_comments(entries[key], lines) if keep_comments else {}
    indent = entries.lc.key(key)[1]
    added = _entry_lines(key, entry, " " * indent, " " * (indent + 2), notes)
    if added is None:
        return None
    return "".join(lines[:start]) + "".join(line + newline for line in added) + "".join(lines[end:])


def _entry_lines(
    key: str, entry: str | dict[str, Any], pad: str, sub: str, notes: dict[str, str] | None = None
) -> list[str] | None:
    """A worktrees.yaml entry as block-style lines (a list or a nested mapping in flow style:
    `agents: [claude-code, opencode]`, `models: {sonnet: z-ai/glm-4.7}`), each field's line
    ending with its kept comment from `notes`; None for a value these lines cannot hold."""
    if isinstance(entry, str):
        return [f"{pad}{yaml_key(key)}: {_value(entry)}"]
    notes = notes or {}
    added = [f"{pad}{yaml_key(key)}:"]
    for name, value in entry.items():
        flow = _flow(value)
        if flow is None:
            return None
        added.append(f"{sub}{yaml_key(name)}: {flow}{notes.get(name, '')}")
    return added


def _flow(value: Any) -> str | None:
    """A value on one line: a scalar, or a list or mapping of such in flow style (nested as
    deep as it goes); None for anything else."""
    if isinstance(value, (str, bool)) or value is None:
        return _value(value)
    if isinstance(value, (list, tuple)):
        items = [_flow(v) for v in value]
        return None if None in items else f"[{', '.join(items)}]"  # type: ignore[arg-type]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        inner = [(k, _flow(v)) for k, v in value.items()]
        return None if any(v is None for _, v in inner) else "{" + ", ".join(f"{yaml_key(k)}: {v}" for k, v in inner) + "}"
    return None


def _line_comments(entry: Any, lines: list[str]) -> dict[str, str]:
    """The comment at the end of each field's line in a block mapping entry (`models: {...}  # why`),
    with the blanks before it: kept when that field's line is rewritten."""
    out: dict[str, str] = {}
    for name, tokens in getattr(getattr(entry, "ca", None), "items", {}).items():
        token = tokens[2] if len(tokens) > 2 else None
        if token is None or not hasattr(entry, "lc") or token.start_mark.line != entry.lc.key(name)[0]:
            continue
        line, col = token.start_mark.line, token.start_mark.column
        text = lines[line]
        gap = len(text[:col]) - len(text[:col].rstrip())
        out[name] = text[col - gap :].rstrip("\r\n")
    return out


def _dump_without(doc: Any, key: str) -> str:
    from ruamel.yaml import YAML

    del doc["worktrees"][key]
    yaml = YAML(typ="rt")
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


# --- the plain edit ----------------------------------------------------------------------
# `use` on a declared worktree changes one scalar. Where every line of the file is in a small
# subset of YAML this module parses itself (block mappings of one-line scalars and comments),
# that scalar's characters are replaced and nothing else, with no YAML library imported (ruamel
# takes longer to import than a cached plan takes to run). Anything outside the subset goes
# through ruamel as before. The subset, line by line:
#   blank, or a comment (`# ...` after optional spaces);
#   `KEY:` opening a nested block (its lines indented deeper, all alike), with an optional comment;
#   `KEY: VALUE`, with an optional comment, followed by no deeper line.
# KEY is plain ([A-Za-z0-9_./~][A-Za-z0-9_./~-]*, not a word YAML 1.1 reads as another type) or
# quoted with no escape ("..." without \\ or ", '...' without '). VALUE is such a quoted scalar;
# or a plain one whose first character cannot start a structure (no quote, bracket, brace,
# alias, anchor, tag, block indicator or -?:) and which holds no `: ` and no ` #`; or a flow
# mapping or list that closes on its line, holding plain scalars, quoted ones without escapes
# and flow collections. A tab, a BOM, a lone CR, a line break other than \n and \r\n, a
# document marker, a directive, a sequence or a duplicate key puts the file outside. Within the
# subset the lines say the whole document's structure, so replacing one scalar VALUE changes
# that value and nothing else; the result is parsed again and must differ only there.

_KEY_TOKEN = r'(?:[A-Za-z0-9_./~][A-Za-z0-9_./~-]*|"[^"\\]*"|\'[^\']*\')'
_SCALAR_TOKEN = r'(?:"[^"\\]*"|\'[^\']*\'|[A-Za-z0-9_./~$=+](?:[^\s#:]|:(?=\S))*(?: +(?:[^\s#:]|:(?=\S))+)*)'
_SUBSET_LINE = re.compile(rf"(?P<indent> *)(?:(?P<key>{_KEY_TOKEN}):(?P<rest>(?: .*)?))?(?P<tail> *(?:(?<![^ ])#.*)?)")
_VALUE = re.compile(rf" +(?P<value>{_SCALAR_TOKEN})(?P<tail> *(?:(?<![^ ])#.*)?)")
_TAIL = re.compile(r" *(?:(?<![^ ])#.*)?")


def _value_span(rest: str) -> tuple[int, ...] | None | Literal[False]:
    """Where the value is in what follows `KEY:` on its line: (start, end) for a scalar, (start,
    end, 0) for a flow mapping or list, which must close on its line; None for no value; False
    when it is outside the subset."""
    if _TAIL.fullmatch(rest):
        return None
    m = _VALUE.fullmatch(rest)
    if m is not None:
        return m.span("value")
    start = len(rest) - len(rest.lstrip(" "))
    if start == 0 or rest[start : start + 1] not in ("{", "["):
        return False
    end = _flow_end(rest, start)
    if end is None or not _TAIL.fullmatch(rest, end):
        return False
    return start, end, 0


def _flow_end(text: str, start: int) -> int | None:
    """The end of the flow collection opening at `start`, when it closes on this line and
    holds only plain scalars, quoted ones without escapes, and nested collections."""
    depth, i, prev = 0, start, ""
    while i < len(text):
        c = text[i]
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c in "\"'":
            close = text.find(c, i + 1)
            after = text[close + 1 :].lstrip(" ")[:1] if close > 0 else ""
            if prev not in ("{", "[", ",", ":") or close < 0 or "\\" in text[i:close] or after not in (",", "}", "]", ":"):
                return None
            i, prev = close + 1, c
            continue
        elif c == "#" and text[i - 1] == " ":
            return None
        if c != " ":
            prev = c
        i += 1
    return None


def _plain_set_profile(text: str, key: str, profile: str) -> str | None:
    """The text with `key`'s profile scalar replaced in place (see above); None when the file
    is outside the subset, `key` is not declared with a profile, or the new name is not a
    plain scalar that surely reads back as itself."""
    new_value = _plain_name(profile)
    tree = _subset_tree(text)
    if new_value is None or tree is None:
        return None
    entries = tree.get("worktrees")
    entry = entries.get(key) if isinstance(entries, dict) else None
    if isinstance(entry, dict):
        entry = entry.get("profile")
    if not isinstance(entry, tuple) or len(entry) != 2:  # absent, or no profile scalar: the general path
        return None
    start, end = entry
    out = text[:start] + new_value + text[end:]
    # The subset holds the edit's result too, with that one value moved and nothing else.
    after = _subset_tree(out)
    shift = len(new_value) - (end - start)
    if after is None or after != _shifted(tree, start, shift):
        return None
    return out


def _plain_name(value: str) -> str | None:
    """`value` as a plain YAML scalar that no reader takes for anything but that string."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./@+-]*", value) and value.lower() not in _KEYWORDS:
        return value
    return None


def _key_text(token: str) -> str | None:
    """A KEY token's string; None for a plain one a YAML reader may take for another type."""
    if token[0] in "\"'":
        return token[1:-1]
    if token.lower() in _KEYWORDS or token in ("~", ".inf", ".nan") or not (token[0].isalpha() or token[0] == "_" or "/" in token):
        return None
    return token


#: What str.splitlines also takes for a line break (besides \n and \r).
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _subset_tree(text: str) -> dict[str, object] | None:
    """The document's structure when every line is in the subset: each key to a child mapping,
    or to its value's offsets in `text` (see _value_span; None for a bare `KEY:`); else None."""
    if "\t" in text or text.startswith("\ufeff") or "\r" in text.replace("\r\n", ""):
        return None
    if any(c in text for c in _OTHER_BREAKS):  # str.splitlines breaks lines where YAML may not
        return None
    root: dict[str, object] = {}
    # The open mappings: (indent of their keys, the mapping), outermost first.
    stack: list[tuple[int, dict[str, object]]] = [(0, root)]
    last: tuple[int, dict[str, object], str] | None = None  # the previous key: indent, mapping, key
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = _SUBSET_LINE.fullmatch(body)
        if m is None:
            return None
        span = None if m["key"] is None else _value_span(m["rest"])
        if span is False:
            return None
        if m["key"] is not None:
            indent = len(m["indent"])
            name = _key_text(m["key"])
            if name is None:
                return None
            if last is not None and indent > last[0]:  # the first key of a nested block
                if last[1][last[2]] is not None:
                    return None  # deeper than a `KEY: VALUE`: a scalar over lines, or an error
                child: dict[str, object] = {}
                last[1][last[2]] = child
                stack.append((indent, child))
            else:
                while stack and stack[-1][0] > indent:
                    stack.pop()
                if not stack or stack[-1][0] != indent:
                    return None
            mapping = stack[-1][1]
            if name in mapping:
                return None
            base = pos + m.start("rest")
            mapping[name] = None if span is None else (base + span[0], base + span[1], *span[2:])
            last = (indent, mapping, name)
        pos += len(line)
    return root


def _shifted(tree: dict[str, object], at: int, by: int) -> dict[str, object]:
    """The tree with every offset after `at` moved by `by` (the value at `at` keeps its start)."""
    out: dict[str, object] = {}
    for name, value in tree.items():
        if isinstance(value, dict):
            out[name] = _shifted(value, at, by)
        elif isinstance(value, tuple):
            start, end, *flow = value
            out[name] = (start + by if start > at else start, end + by if end > at else end, *flow)
        else:
            out[name] = value
    return out
