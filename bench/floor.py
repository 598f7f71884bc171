"""The floor: llmconf's plan and apply job done with the standard library alone.

    python bench/floor.py plan MANIFEST     print the key changes each settings file needs
    python bench/floor.py apply MANIFEST    write the changed files, atomically, with fsync

It is the least work any tool can do for the job, so llmconf's times are reported as ratios to
it. The desired state arrives precomputed in MANIFEST (written by bench/run.py): no YAML, no
templates, no profiles. What is left is the part no tool can skip: read every settings file,
parse it, merge the desired keys, compare, and write only the files that change, each through
a temp file in the same folder, fsync, rename, and fsync of the folder, as llmconf does.

MANIFEST is JSON: {"worktrees": [{"settings": PATH, "set": {KEY: VALUE}, "unset": [KEY],
"private": BOOL}]}, where KEY is "env.NAME" or a top-level name such as "model".
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


def main(argv: list[str]) -> int:
    """Plan or apply the manifest at argv[1]; return the exit code."""
    if len(argv) != 2 or argv[0] not in ("plan", "apply"):
        sys.stderr.write("usage: floor.py plan|apply MANIFEST\n")
        return 1
    command, manifest = argv
    with open(manifest, encoding="utf-8") as f:
        entries = json.load(f)["worktrees"]
    out = []
    files = keys = 0
    for entry in entries:
        path = entry["settings"]
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            doc = None
        new, lines = _merged(doc, entry)
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
