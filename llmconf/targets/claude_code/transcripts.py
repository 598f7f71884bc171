"""Claude Code's session transcripts: the tokens each assistant message used, read as a stream.

Claude Code writes each session to <config>/projects/<folder>/<session>.jsonl (<config> is
$CLAUDE_CONFIG_DIR, else ~/.claude), one JSON document a line. An assistant line carries `cwd`,
`timestamp`, `sessionId`, `requestId` (the API's request-id header), and `message` with `id`,
`model` (the ID the gateway answered with) and `usage` (input_tokens, output_tokens,
cache_creation_input_tokens with its ephemeral_5m/1h split, cache_read_input_tokens). Checked
on 2.1.197 and 2.1.332: a message is written once per content block, each line with the same
message id, request id and usage, so a message is counted once (the first line), as ccusage does.

Transcripts grow to gigabytes: a file is read line by line, never whole, and only lines that
hold a `"usage"` key are parsed. What a file holds is kept in an index in llmconf's cache folder
(size, mtime, inode, the offset read up to, and the file's sums per folder, session, model and
day, plus a short hash of each message's IDs for de-duplication across files). A file that only
grew is read from that offset; one that changed otherwise is read again. The index holds no
text from a transcript other than folders, session IDs, model IDs and dates.

A line that is not JSON, a last line cut short, a usage of the wrong shape, or a token count
llmconf does not know: each is counted and skipped, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from llmconf import __version__, caches

#: Per row of a file's sums: (cwd, session, model, day) then these counts.
COUNTS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "messages")
#: The usage keys llmconf knows; another key ending in "tokens" is a count it would miss.
_KNOWN_TOKENS = frozenset({
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
})
#: Every usage key Claude Code 2.1.332 writes: a usage with only these needs no closer look.
_KNOWN_KEYS = _KNOWN_TOKENS | {
    "cache_creation", "output_tokens_details", "server_tool_use", "service_tier", "inference_geo", "iterations", "speed",
    "fallback_credit",
}
_decode = json.JSONDecoder().decode
_INDEX_VERSION = "1"
_KEY_LEN = 16  # hex digits of a message's hash: 64 bits, no collision in any real history

RowKey = tuple[str, str, str, str]  # cwd, session, model, day (local date, YYYY-MM-DD)


class Skipped(NamedTuple):
    """Lines read but not counted."""

    garbled: int = 0  # not JSON (or not UTF-8)
    truncated: int = 0  # a last line without its newline, not JSON (yet)
    unreadable: int = 0  # JSON with a usage of the wrong shape
    unknown: int = 0  # counted, but a token count llmconf does not know was left out

    def __add__(self, other: Any) -> Skipped:
        return Skipped(*(a + b for a, b in zip(self, other)))


class Scan(NamedTuple):
    """Every transcript's sums, per (cwd, session, model, day): COUNTS each."""

    rows: dict[RowKey, list[int]]
    files: int
    skipped: Skipped
    read_bytes: int  # what this run read: a re-run reads only what is new


def roots(environ: dict[str, str] | os._Environ[str] | None = None) -> list[Path]:
    """The projects folders Claude Code writes transcripts to: $CLAUDE_CONFIG_DIR/projects (a
    comma-separated list is read as several, as ccusage does), else ~/.claude/projects."""
    env = os.environ if environ is None else environ
    configured = env.get("CLAUDE_CONFIG_DIR", "")
    if configured.strip():
        return [Path(os.path.expanduser(p.strip())) / "projects" for p in configured.split(",") if p.strip()]
    return [Path(os.path.expanduser("~")) / ".claude" / "projects"]


def _files(root: Path) -> Iterator[Path]:
    """Every *.jsonl below `root` (subagent transcripts too), symlinked folders not followed."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".jsonl"):
                yield Path(folder) / name


def _tz() -> str:
    """The local timezone as days are counted in (an index for another one is not reused)."""
    return f"{os.environ.get('TZ', '')}|{time.tzname}|{time.timezone}|{time.altzone}"


class _Days:
    """A timestamp's local date, memoised by the hour (by the minute where the local offset is
    not whole hours): a transcript has thousands a day."""

    def __init__(self) -> None:
        self._hours: dict[str, str] = {}
        self._minutes: dict[str, str] = {}

    def __call__(self, ts: str) -> str | None:
        utc = ts.endswith("Z")
        if utc:
            day = self._hours.get(ts[:13]) or self._minutes.get(ts[:16])
            if day is not None:
                return day
        try:
            when = datetime.fromisoformat(ts[:16] + ":00+00:00" if utc else ts).astimezone()
        except ValueError:
            return None
        day = when.date().isoformat()
        if utc:
            offset = when.utcoffset()
            if offset is not None and offset.total_seconds() % 3600 == 0:
                self._hours[ts[:13]] = day
            else:
                self._minutes[ts[:16]] = day
        return day


def message_key(message_id: str, request_id: str) -> str:
    """The short hash a message is de-duplicated by (its IDs themselves are not kept)."""
    return hashlib.blake2b(f"{message_id}:{request_id}".encode(), digest_size=_KEY_LEN // 2).hexdigest()


class _FileScan:
    """What one read of one file found, from `start` to its last newline."""

    __slots__ = ("rows", "keys", "end", "first", "skipped", "tail_rows", "tail_skipped")

    def __init__(self) -> None:
        self.rows: dict[RowKey, list[int]] = {}
        self.keys: list[str] = []
        self.end = 0
        self.first: str | None = None
        self.skipped = Skipped()
        self.tail_rows: dict[RowKey, list[int]] = {}  # a complete last line without its newline yet
        self.tail_skipped = Skipped()


def _open(path: Path) -> Any:
    """A regular file opened for binary reading (a FIFO is refused, not waited on), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return os.fdopen(fd, "rb", buffering=1 << 20)
    except OSError:
        os.close(fd)
        return None


def _scan(path: Path, start: int, seen: set[str], days: _Days) -> _FileScan | None:
    """Read `path` from `start`: each message not in `seen` (which grows) counted once."""
    f = _open(path)
    if f is None:
        return None
    out = _FileScan()
    garbled = unreadable = unknown = 0
    session_default = path.stem
    pos = start
    with f:
        f.seek(start)
        for line in f:
            if not line.endswith(b"\n"):  # the last line, still being written or cut short
                tail = _FileScan()
                got = _line(line, tail, seen.copy(), days, session_default)
                if got == "ok" or got == "unknown":
                    out.tail_rows = tail.rows
                    out.tail_skipped = Skipped(unknown=int(got == "unknown"))
                elif got != "none" and got != "dup":
                    out.tail_skipped = Skipped(truncated=1)
                break
            pos += len(line)
            if b'"usage"' not in line:
                continue
            got = _line(line, out, seen, days, session_default)
            if got == "garbled":
                garbled += 1
            elif got == "unreadable":
                unreadable += 1
            elif got == "unknown":
                unknown += 1
    out.end = pos
    out.skipped = Skipped(garbled, 0, unreadable, unknown)
    return out


def _line(line: bytes, out: _FileScan, seen: set[str], days: _Days, session_default: str) -> str:
    """Count one line into `out`: "ok", "none" (no usage: not an assistant message), "garbled",
    "unreadable" (a usage of the wrong shape), "unknown" (counted, with an unknown token count
    left out), or "dup" (a message already counted)."""
    try:
        doc = _decode(line.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return "garbled"
    if not isinstance(doc, dict):
        return "garbled"
    message = doc.get("message")
    if not isinstance(message, dict):
        return "none"
    usage = message.get("usage")
    if usage is None:
        return "none"
    if not isinstance(usage, dict):
        return "unreadable"
    tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
    written, read = usage.get("cache_creation_input_tokens") or 0, usage.get("cache_read_input_tokens") or 0
    ts = doc.get("timestamp")
    if not (type(tokens_in) is int and type(tokens_out) is int and type(written) is int and type(read) is int) or not isinstance(ts, str):
        return "unreadable"
    if tokens_in < 0 or tokens_out < 0 or written < 0 or read < 0:
        return "unreadable"
    day = days(ts)
    if day is None:
        return "unreadable"
    message_id, request_id = message.get("id"), doc.get("requestId")
    if isinstance(message_id, str) and isinstance(request_id, str):  # without both, ccusage counts every line too
        key = message_key(message_id, request_id)
        if key in seen:
            return "dup"
        seen.add(key)
        out.keys.append(key)
    if out.first is None or ts < out.first:
        out.first = ts
    split = usage.get("cache_creation")
    hour = split.get("ephemeral_1h_input_tokens", 0) if isinstance(split, dict) else 0
    hour = min(hour, written) if type(hour) is int and hour > 0 else 0
    cwd, session, model = doc.get("cwd"), doc.get("sessionId"), message.get("model")
    row_key = (
        cwd if isinstance(cwd, str) else "",
        session if isinstance(session, str) and session else session_default,
        model if isinstance(model, str) else "",
        day,
    )
    row = out.rows.get(row_key)
    if row is None:
        row = out.rows[row_key] = [0, 0, 0, 0, 0, 0]
    row[0] += tokens_in
    row[1] += tokens_out
    row[2] += written - hour
    row[3] += hour
    row[4] += read
    row[5] += 1
    if not _KNOWN_KEYS.issuperset(usage) and any(k.endswith("tokens") and k not in _KNOWN_TOKENS for k in usage):
        return "unknown"
    return "ok"


def _add_rows(into: dict[RowKey, list[int]], rows: Iterable[tuple[RowKey, list[int]]]) -> None:
    for key, counts in rows:
        row = into.get(key)
        if row is None:
            into[key] = list(counts)
        else:
            for i, c in enumerate(counts):
                row[i] += c


def _index_file(root: Path) -> Path:
    return caches.entry("usage", root)


def _load_index(root: Path) -> dict[str, Any]:
    doc = caches.read(_index_file(root))
    if not isinstance(doc, dict) or doc.get("digest") != _digest(root) or not isinstance(doc.get("files"), dict):
        return {}
    return doc["files"]  # type: ignore[no-any-return]


def _digest(root: Path) -> str:
    return f"{_INDEX_VERSION}\0{__version__}\0{root}\0{_tz()}"


def _entry_rows(entry: dict[str, Any]) -> list[tuple[RowKey, list[int]]]:
    return [((r[0], r[1], r[2], r[3]), r[4:]) for r in entry["rows"]]


def _entry_keys(entry: dict[str, Any]) -> list[str]:
    text: str = entry["keys"]
    return [text[i : i + _KEY_LEN] for i in range(0, len(text), _KEY_LEN)]


def scan(transcript_roots: Iterable[Path], use_index: bool = True) -> Scan:
    """Every transcript under `transcript_roots`, summed; with the index, reading only what is new."""
    days = _Days()
    rows: dict[RowKey, list[int]] = {}
    skipped = Skipped()
    files = read = 0
    # (first day, path, entry, tail rows): ordered as ccusage orders them, the first file a
    # message appears in (by its earliest day) counting it.
    found: list[tuple[str, str, dict[str, Any], dict[RowKey, list[int]]]] = []
    indexes: list[tuple[Path, dict[str, Any], dict[str, Any]]] = []  # (root, old, new)
    changed = False
    for root in transcript_roots:
        old = _load_index(root) if use_index else {}
        new: dict[str, Any] = {}
        indexes.append((root, old, new))
        for path in _files(root):
            try:
                st = path.stat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            name = str(path)
            entry = _valid(old.get(name))
            same = entry is not None and entry["size"] == st.st_size and entry["mtime"] == st.st_mtime_ns and entry["ino"] == st.st_ino
            tail_rows: dict[RowKey, list[int]] = {}
            if not same or entry is None or entry.get("tail"):
                grows = entry is not None and entry["ino"] == st.st_ino and st.st_size >= entry["offset"] and st.st_size >= entry["size"]
                start = entry["offset"] if grows and entry is not None else 0
                seen = set(_entry_keys(entry)) if grows and entry is not None else set()
                got = _scan(path, start, seen, days)
                if got is None:
                    continue
                read += st.st_size - start
                if grows and entry is not None:
                    merged: dict[RowKey, list[int]] = {}
                    _add_rows(merged, _entry_rows(entry))
                    _add_rows(merged, got.rows.items())
                    first = min(filter(None, (entry["first"], got.first)), default=None)
                    base_skipped = Skipped(*entry["skipped"])
                    keys = entry["keys"] + "".join(got.keys)
                else:
                    merged, first, base_skipped, keys = got.rows, got.first, Skipped(), "".join(got.keys)
                entry = {
                    "size": st.st_size, "mtime": st.st_mtime_ns, "ino": st.st_ino, "offset": got.end, "first": first,
                    "rows": [[*k, *v] for k, v in merged.items()], "keys": keys,
                    "skipped": list(base_skipped + got.skipped),
                    # A last line without its newline is read again next run, whatever its size says.
                    "tail": bool(got.tail_rows) or got.tail_skipped != Skipped(),
                }
                changed = True
                tail_rows = got.tail_rows
                skipped += got.tail_skipped
            new[name] = entry
            files += 1
            skipped += Skipped(*entry["skipped"])
            found.append((entry["first"] or "~", name, entry, tail_rows))
        changed = changed or set(new) != set(old)
    found.sort(key=lambda f: (f[0], f[1]))
    counted: set[str] = set()
    for _, name, entry, tail_rows in found:
        keys = _entry_keys(entry)
        if counted.isdisjoint(keys):
            counted.update(keys)
            _add_rows(rows, _entry_rows(entry))
        else:
            # Messages another file counted first (a resumed session's copy): this file's sums
            # without them, read again once and kept for as long as the same ones are excluded.
            dups = "".join(sorted(k for k in keys if k in counted))
            minus = entry.get("minus")
            if not (isinstance(minus, dict) and minus.get("keys") == dups and _rows_ok(minus.get("rows"))):
                got = _scan(Path(name), 0, set(_entry_keys({"keys": dups})), days)
                if got is None:
                    continue
                read += got.end
                minus = entry["minus"] = {"keys": dups, "rows": [[*k, *v] for k, v in got.rows.items()]}
                changed = True
            counted.update(keys)
            _add_rows(rows, _entry_rows(minus))
        _add_rows(rows, tail_rows.items())
    if use_index and changed:
        for root, _, new in indexes:
            caches.write(_index_file(root), {"digest": _digest(root), "files": new})
    return Scan(rows, files, skipped, read)


def _rows_ok(rows: Any) -> bool:
    return isinstance(rows, list) and all(isinstance(r, list) and len(r) == 4 + len(COUNTS) for r in rows)


def _valid(entry: Any) -> dict[str, Any] | None:
    """An index entry of the expected shape, or None (a damaged index is a miss)."""
    if not isinstance(entry, dict):
        return None
    try:
        ok = (
            all(type(entry[k]) is int for k in ("size", "mtime", "ino", "offset"))
            and isinstance(entry["keys"], str) and len(entry["keys"]) % _KEY_LEN == 0
            and _rows_ok(entry["rows"])
            and isinstance(entry["skipped"], list) and len(entry["skipped"]) == len(Skipped._fields)
            and (entry["first"] is None or isinstance(entry["first"], str))
        )
    except (KeyError, TypeError):
        return None
    return entry if ok else None
