"""Which Claude Code will run, and what its version does differently.

Every behaviour llmconf relies on that changed between releases is a field of `Rules`, and
`rules()` is the one place that says from which version on. Each was measured against the
real binary; tests/e2e pins each one, so a release that changes it fails a test instead of
misleading `plan` or `status`.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

from llmconf import fs
from llmconf.errors import LlmconfError
from llmconf.records import dataclass
from llmconf.targets.claude_code.settings import (
    BEHAVES_AS_KEY,
    DEFAULT_MODEL_VAR,
    ENV,
    PICKER_KEY,
    SLOT_INFO,
    KeyPath,
    slot_info_var,
    slot_var,
)

#: The newest release llmconf was checked against: assumed when no Claude Code is installed.
NEWEST_KNOWN = "2.1.332"
#: Since this release a linked worktree (or a subfolder of a repository) reads the local file
#: at the repository root first: the main checkout's .claude/settings.local.json. The file
#: in the folder Claude Code started in is "legacy" and loses to it, key by key.
ROOT_LOCAL_SINCE = (2, 1, 211)
#: Keys Claude Code began to read, and the release that did: an older client ignores them, so
#: llmconf does not write them there. Each boundary was found in the published releases, one on
#: each side: by the key's name in the binary (or cli.js), and for fable and the default model
#: also by what each side sent to a fake gateway.
KEY_SINCE: dict[KeyPath, tuple[int, int, int]] = {
    # A slot's name, description and capabilities: 2.1.84 for the first three slots (2.1.83's
    # cli.js has none of them); fable's arrive with fable.
    **{(ENV, slot_info_var(s, f)): (2, 1, 84) for s in ("haiku", "sonnet", "opus") for f in SLOT_INFO},
    **{(ENV, slot_info_var("fable", f)): (2, 1, 170) for f in SLOT_INFO},
    (ENV, slot_var("fable")): (2, 1, 170),  # --model fable; 2.1.169 sends "fable" as the model ID
    (ENV, DEFAULT_MODEL_VAR): (2, 1, 236),  # 2.1.235 ignores it
    # /model's own rows, from --settings, user or managed settings; a row's behavesAs later.
    PICKER_KEY: (2, 1, 242),
    BEHAVES_AS_KEY: (2, 1, 257),
}

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Rules:
    """What one Claude Code version does, where llmconf's answers depend on it."""

    version: str
    #: Whether the repository root's local settings file wins over the worktree's own.
    root_local: bool
    #: The keys of KEY_SINCE this version ignores.
    lacks: frozenset[KeyPath] = frozenset()


@dataclass(frozen=True)
class Client:
    """The Claude Code that a plain `claude` runs here."""

    path: Path | None  # None: none found
    version: str
    assumed: bool  # True: no usable binary, so NEWEST_KNOWN's rules are assumed
    why: str = ""  # when assumed: why (not found, LLMCONF_CLAUDE names a missing file...)

    @property
    def rules(self) -> Rules:
        return rules(self.version)


def parse(version: str) -> tuple[int, int, int] | None:
    m = _VERSION.search(version)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


@functools.lru_cache(maxsize=8)  # asked per worktree (status, doctor); a version's rules never change
def rules(version: str) -> Rules:
    """The rules of a version (an unreadable one is taken as the newest known)."""
    parsed = parse(version) or parse(NEWEST_KNOWN)
    assert parsed is not None
    lacks = frozenset(key for key, since in KEY_SINCE.items() if parsed < since)
    return Rules(version, root_local=parsed >= ROOT_LOCAL_SINCE, lacks=lacks)


def find(configured: Path | None = None) -> Client:
    """The Claude Code a plain `claude` would run: $LLMCONF_CLAUDE when set, else the config's
    `claude_code:`, else `claude` on PATH."""
    named, by = os.environ.get("LLMCONF_CLAUDE"), "LLMCONF_CLAUDE"
    if not named and configured is not None:
        named, by = str(configured), "claude_code in worktrees.yaml"
    if named:
        path = Path(named)
        if not os.access(path, os.X_OK) or path.is_dir():
            return Client(None, NEWEST_KNOWN, True, f"{by} names {named}, which is not a program")
    else:
        found = fs.which("claude")
        if found is None:
            return Client(None, NEWEST_KNOWN, True, "no 'claude' on PATH")
        path = Path(found)
    version = version_of(path)
    if version is None:
        return Client(path, NEWEST_KNOWN, True, f"{path} did not say its version")
    return Client(path, version, False)


def version_of(path: Path) -> str | None:
    """A binary's version, cheaply: from its install layout when that says it (a native
    install's versions/X.Y.Z, an npm package.json beside it), else from `--version`, which is
    remembered per binary (path, size and mtime) in the cache folder."""
    real = Path(os.path.realpath(path))
    if parse(real.name) and real.parent.name == "versions":
        return real.name
    for folder in (real.parent, real.parent.parent):
        manifest = folder / "package.json"
        try:
            doc = json.loads(fs.read_text(manifest, fs.SETTINGS_LIMIT))
        except (OSError, ValueError, LlmconfError):
            continue
        if isinstance(doc, dict) and str(doc.get("name", "")).startswith("@anthropic-ai/claude-code"):
            version = str(doc.get("version", ""))
            if parse(version):
                return version
    try:
        st = real.stat()
    except OSError:
        return None
    memo_key = f"{real}\0{st.st_size}\0{st.st_mtime_ns}"
    from llmconf import caches

    memo = caches.entry("claude-version")
    known = caches.load(memo, memo_key)
    if isinstance(known, str) and parse(known):
        return known
    import subprocess  # here: most runs know the version from the layout or the cache

    try:
        out = subprocess.run(
            [str(real), "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION.search(out.stdout or "")
    if out.returncode != 0 or m is None:
        return None
    version = m[0]
    caches.save(memo, memo_key, version)  # one that cannot be written costs the next run a --version
    return version
