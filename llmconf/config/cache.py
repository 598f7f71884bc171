"""A cache of the validated config, so a run whose inputs did not change skips YAML and pydantic.

Keyed by the bytes of worktrees.yaml and of every profile file on the search path (and the
llmconf version): any edit, added or removed profile misses. It holds what the loader
produced, field values as written (templates unrendered), never a rendered value; a config
with a literal token (untemplated, or kept under `vars:`) or any key-shaped value is not
cached at all, so no key lands in the cache folder.
A damaged or unreadable cache is a miss, never an error.

The worktrees a `repos:` entry covers depend on git, not on these bytes: the cache keeps the
entries as written, and git is asked for their worktrees on every run, hit or miss.
"""

from __future__ import annotations

import os
from pathlib import Path

from llmconf import __version__, caches, fs, hashing
from llmconf.config.load import CONFIG_FILE, DEFAULT_AGENTS, Config, FieldPath, RepoDecl, Sourced, WorktreeDecl, expand_repos
from llmconf.errors import LlmconfError
from llmconf.secrets.mask import holds_key
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def _file(config_dir: Path) -> Path:
    """One cache file per config folder: a small config never parses a large one's entry."""
    return caches.entry("config", config_dir)


#: The shape of an entry: a change of it makes every entry written before a miss, once
#: (2: each profile's file and parent, for status's origins table).
_FORMAT = b"2"


def digest(dirs: list[Path] | tuple[Path, ...], config_bytes: bytes) -> str:
    """The key of a config: llmconf's version, HOME (`~` paths are expanded into the cache),
    worktrees.yaml's bytes and every profile file's. Taken BEFORE those files are parsed, so
    an edit during a run can only make the next run miss, never hit on stale content."""
    h = hashing.sha256(b"\0".join([_FORMAT, __version__.encode(), os.path.expanduser("~").encode(), config_bytes]))
    for folder in dirs:
        h.update(b"\0dir\0" + str(folder).encode())
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".yaml"))
        except OSError:
            continue
        for name in names:
            try:
                h.update(b"\0" + name.encode() + b"\0" + fs.read_bytes(folder / name, fs.CONFIG_LIMIT))
            except (OSError, LlmconfError):  # a FIFO, too large...: the load reports it
                h.update(b"\0unreadable\0" + name.encode())
    return h.hexdigest()


def _sourced(s: Sourced) -> list[Any]:
    return [s.value, str(s.path), list(s.loc)]


def _unsourced(raw: list[Any], paths: dict[str, Path]) -> Sourced:
    # One Path per distinct file, shared (as the loader shares them): every field of a
    # config comes from a handful of files, and building a Path for each field of 10,000
    # worktrees was most of a cache hit's time (about 3 us a field).
    path = paths.get(raw[1])
    if path is None:
        path = paths[raw[1]] = Path(raw[1])
    return Sourced(raw[0], path, tuple(raw[2]))


def _fields(fields: dict[FieldPath, Sourced]) -> list[Any]:
    return [[list(fp), *_sourced(s)] for fp, s in fields.items()]


def _unfields(raw: list[Any], paths: dict[str, Path]) -> dict[FieldPath, Sourced]:
    return {tuple(r[0]): _unsourced(r[1:], paths) for r in raw}


Origins = dict[str, tuple[Path, str | None]]


def load(config_dir: Path) -> tuple[Config, dict[str, dict[FieldPath, Sourced]], str, Origins] | None:
    """The cached config, resolved profiles, key and profile origins (each profile's file and
    parent), when every input is byte for byte the same."""
    try:
        entry = caches.read(_file(config_dir))  # never blocks on a FIFO in its place
        config_bytes = fs.read_bytes(config_dir / CONFIG_FILE, fs.CONFIG_LIMIT)
        if entry["config_dir"] != str(config_dir):
            return None
        dirs = [Path(d) for d in entry["profile_dirs"]]
        key = digest(dirs, config_bytes)
        if entry["digest"] != key:
            return None
        paths: dict[str, Path] = {}  # see _unsourced
        decls = tuple(
            WorktreeDecl(w[0], Path(w[1]), w[2], _unsourced(w[3], paths), _unfields(w[4], paths), bool(w[5]))
            if len(w) == 6  # most entries: the default agents, at no cost
            else WorktreeDecl(
                w[0], Path(w[1]), w[2], _unsourced(w[3], paths), _unfields(w[4], paths), bool(w[5]), agents=tuple(w[6])
            )
            for w in entry["worktrees"]
        )
        repos = tuple(
            RepoDecl(r[0], Path(r[1]), _unsourced(r[2], paths), _unfields(r[3], paths), bool(r[4]), _agents(r, 5))
            for r in entry.get("repos", ())
        )
        claude_code = entry.get("claude_code")
        config = Config(
            config_dir, config_dir / CONFIG_FILE, entry["vars"], decls, tuple(dirs), entry["secret_sources"], repos,
            Path(claude_code) if claude_code else None, bool(entry.get("strict")),
        )
        resolved = {name: _unfields(raw, paths) for name, raw in entry["resolved"].items()}
        origins: Origins = {name: (Path(o[0]), o[1] if isinstance(o[1], str) else None) for name, o in entry.get("origins", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError, LlmconfError):
        return None
    # Outside the try: git's answer is today's, and its errors are the user's to see.
    return expand_repos(config), resolved, key, origins


def save(config: Config, resolved: dict[str, dict[FieldPath, Sourced]], key: str, origins: Origins | None = None) -> None:
    """Remember this config for the next run (best effort: a cache that cannot be written is skipped)."""
    every = [*resolved.values(), *(d.overrides for d in config.worktrees), *(r.overrides for r in config.repos)]
    if holds_key([config.vars, config.secret_sources]) or any(_literal_secret(fp, s.value) for fields in every for fp, s in fields.items()):
        return
    entry = {
        "config_dir": str(config.dir),
        "digest": key,
        "profile_dirs": [str(d) for d in config.profile_dirs],
        "vars": config.vars,
        "secret_sources": config.secret_sources,
        "claude_code": str(config.claude_code) if config.claude_code else None,
        "strict": config.strict,
        "worktrees": [
            [d.key, str(d.path), d.name, _sourced(d.profile), _fields(d.overrides), d.allow_tracked_secret, *_agents_entry(d.agents)]
            for d in config.worktrees
            if d.repo is None  # found through repos: asked of git again on each run
        ],
        "repos": [
            [r.key, str(r.path), _sourced(r.profile), _fields(r.overrides), r.allow_tracked_secret, *_agents_entry(r.agents)]
            for r in config.repos
        ],
        "resolved": {name: _fields(fields) for name, fields in resolved.items()},
        "origins": {name: [str(path), extends] for name, (path, extends) in (origins or {}).items()},
    }
    caches.write(_file(config.dir), entry)


def _agents_entry(agents: tuple[str, ...]) -> list[list[str]]:
    """The agents as a cache entry's last item: none for the default (most entries)."""
    return [] if agents == DEFAULT_AGENTS else [list(agents)]


def _agents(raw: list[Any], i: int) -> tuple[str, ...]:
    return tuple(raw[i]) if len(raw) > i else DEFAULT_AGENTS


def _literal_secret(fp: FieldPath, value: Any) -> bool:
    """Whether a field holds a key as written: a literal credential, a credential rendered from
    `vars:` (a token kept there is as literal), or a key-shaped value in any field."""
    from llmconf.render import is_template

    if not isinstance(value, str) or not value:
        return False
    if holds_key(value):
        return True
    credential = fp == ("auth_token",) or (fp[0] == "env" and target.looks_secret(fp))
    return credential and (not is_template(value) or "vars" in value)
