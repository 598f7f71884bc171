"""The floor: llmconf's plan and apply job done with the standard library alone.

    python bench/floor.py plan MANIFEST     print the key changes each settings file needs
    python bench/floor.py apply MANIFEST    write the changed files, atomically, with fsync
    python bench/floor.py status MANIFEST   print a table of each worktree's effective backend
    python bench/floor.py use MANIFEST      switch one worktree's profile in worktrees.yaml and
                                            write its settings file

It is the least work any tool can do for the job, so llmconf's times are reported as ratios to
it. The desired state arrives precomputed in MANIFEST (written by bench/run.py): no YAML, no
templates, no profiles. What is left is the part no tool can skip: read every settings file,
parse it, merge the desired keys, compare, and write only the files that change, each through
a temp file in the same folder, fsync, rename, and fsync of the folder, as llmconf does.

MANIFEST is JSON: {"worktrees": [{"name": NAME, "profile": PROFILE, "settings": PATH, "set":
{KEY: VALUE}, "unset": [KEY], "private": BOOL}], "use": {"config": PATH, "old": LINE, "new":
LINE, "worktree": {...as above, for the new profile}}}, where KEY is "env.NAME" or a top-level
name such as "model". `status` reads, for each worktree, the project file beside the local one
(.claude/settings.json, absent here) and the local one, merges their env as the client does,
and prints the backend, the models and whether the file holds the desired keys. `use` replaces
the worktree's line of worktrees.yaml (atomically) and then applies that one worktree.
Only the standard library is imported, and only modules that `python -c pass` loads anyway
or that the job cannot do without (json), so the floor's start-up is the interpreter's own.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _split(key: str) -> tuple[str, ...]:
    # "env.NAME" is a member of the env object; anything else is a top-level member.
    return ("env", key[4:]) if key.startswith("env.") else (key,)


def _get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _merged(doc: dict[str, Any] | None, entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The document with the desired keys merged in, and a line per key that changed."""
    out: dict[str, Any] = dict(doc or {})
    if "env" in out:
        out["env"] = dict(out["env"])  # the only nested object we edit: copy it, not the whole tree
    lines = []
    for key, value in entry["set"].items():
        path = _split(key)
        before = _get(out, path)
        if before == value:
            continue
        lines.append(f"  {'+' if before is None else '~'} {key}")
        parent = out.setdefault("env", {}) if len(path) == 2 else out
        parent[path[-1]] = value
    for key in entry["unset"]:
        path = _split(key)
        parent = out.get("env") if len(path) == 2 else out
        if isinstance(parent, dict) and path[-1] in parent:
            del parent[path[-1]]
            lines.append(f"  - {key}")
    if "env" in out and not out["env"] and doc is not None and doc.get("env"):
        del out["env"]  # a removal emptied it: llmconf drops the object too
    return out, lines


def _write_atomic(path: str, text: str, mode: int) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    # O_EXCL with a per-process name: as safe as mkstemp without importing tempfile.
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # open's mode is filtered by the umask; the file's own mode must be kept
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)  # makes the rename itself durable
    finally:
        os.close(dfd)


def _mode(path: str, private: bool) -> int:
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    return mode & 0o600 if private else mode


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return None
    return doc if isinstance(doc, dict) else None


_COLUMNS = (
    "env.ANTHROPIC_BASE_URL",
    "env.ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "env.ANTHROPIC_DEFAULT_SONNET_MODEL",
    "env.ANTHROPIC_DEFAULT_OPUS_MODEL",
    "env.ANTHROPIC_DEFAULT_MODEL",
    "env.CLAUDE_CODE_SUBAGENT_MODEL",
)


def status(entries: list[dict[str, Any]]) -> list[str]:
    """One row per worktree: the backend and models its settings layers give, and its state."""
    rows = [["WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "DEFAULT", "SUBAGENT", "STATE"]]
    for entry in entries:
        local = entry["settings"]
        env: dict[str, Any] = {}
        top: dict[str, Any] = {}
        docs = [_read(os.path.join(os.path.dirname(local), "settings.json")), _read(local)]
        for doc in docs:  # later layers win, key by key within env
            if doc is not None:
                top.update(doc)
                if isinstance(doc.get("env"), dict):
                    env.update(doc["env"])
        top["env"] = env
        values = [str(_get(top, _split(k)) or "-") for k in _COLUMNS]
        if values[0] == "-":
            values[0] = "anthropic direct"
        _, lines = _merged(docs[1], entry)
        rows.append([entry["name"], entry["profile"], *values, "pending" if lines else "in-sync"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def use(spec: dict[str, Any]) -> list[str]:
    """Switch one worktree's line in worktrees.yaml, then write its settings file."""
    config = spec["config"]
    with open(config, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    lines[lines.index(spec["old"])] = spec["new"]
    _write_atomic(config, "\n".join(lines), os.stat(config).st_mode & 0o7777)
    entry = spec["worktree"]
    new, changes = _merged(_read(entry["settings"]), entry)
    if changes:
        _write_atomic(entry["settings"], json.dumps(new, indent=2, ensure_ascii=False) + "\n", _mode(entry["settings"], entry["private"]))
    return [f"{entry['name']}: now {entry['profile']}", f"# {entry['settings']}", *changes, f"{len(changes)} keys written."]


def main(argv: list[str]) -> int:
    """Plan, apply, status or use the manifest at argv[1]; return the exit code."""
    if len(argv) != 2 or argv[0] not in ("plan", "apply", "status", "use"):
        sys.stderr.write("usage: floor.py plan|apply|status|use MANIFEST\n")
        return 1
    command, manifest = argv
    with open(manifest, encoding="utf-8") as f:
        doc = json.load(f)
    if command in ("status", "use"):
        out = status(doc["worktrees"]) if command == "status" else use(doc["use"])
        sys.stdout.write("\n".join(out) + "\n")
        return 0
    entries = doc["worktrees"]
    out = []
    files = keys = 0
    for entry in entries:
        path = entry["settings"]
        new, lines = _merged(_read(path), entry)
        if not lines:
            continue
        files += 1
        keys += len(lines)
        out.append(f"# {path}")
        out.extend(lines)
        if command == "apply":
            _write_atomic(path, json.dumps(new, indent=2, ensure_ascii=False) + "\n", _mode(path, entry["private"]))
    verb = "written" if command == "apply" else "to change"
    out.append(f"{keys} keys in {files} files {verb}.")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
