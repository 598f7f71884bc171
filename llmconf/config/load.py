"""Read profiles/*.yaml and worktrees.yaml into validated models, with file:line errors.

Files are parsed with ruamel's safe loader; the round-trip loader, which keeps line
numbers, runs only when there is an error to place.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path

from llmconf.errors import LlmconfError, LlmconfErrors, did_you_mean, display_path
from llmconf.records import dataclass, field, replace

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.git import GitError, Worktree

CONFIG_FILE = "worktrees.yaml"
PROFILES_DIR = "profiles"

#: A field of a profile, flattened: ("base_url",), ("models", "sonnet"), ("env", "X").
FieldPath = tuple[str, ...]
_DICT_FIELDS = ("models", "endpoints", "labels", "descriptions", "capabilities", "env")
#: The agents a worktree configures when neither its entry nor the top level names any.
DEFAULT_AGENTS: tuple[str, ...] = ("claude-code",)


@dataclass(frozen=True)
class Sourced:
    """A field's value and where it was set, so a later error can name file and line."""

    value: Any
    path: Path
    loc: tuple[Any, ...]

    def error(self, message: str, hint: str | None = None) -> LlmconfError:
        return LlmconfError(message, self.path, line_of(self.path, self.loc), hint)

    def warning(self, message: str, hint: str | None = None, code: str | None = None) -> LlmconfError:
        return LlmconfError(message, self.path, line_of(self.path, self.loc), hint, severity="warning", code=code)


@dataclass(frozen=True)
class WorktreeDecl:
    """One declared worktree: where it is, which profile, and its own overrides."""

    key: str
    path: Path
    name: str
    profile: Sourced
    overrides: dict[FieldPath, Sourced]
    allow_tracked_secret: bool = False
    #: The `repos:` key this worktree was found through (None: listed under `worktrees:`).
    repo: str | None = None
    #: Set on the stand-in for a `repos:` entry git could not expand: that entry's problem,
    #: reported where the entry's worktrees would be, so the other worktrees still work.
    error: LlmconfError | None = None
    #: The coding agents whose settings this worktree gets (`agents:`).
    agents: tuple[str, ...] = DEFAULT_AGENTS


@dataclass(frozen=True)
class RepoDecl:
    """One `repos:` entry: a git repository whose every worktree gets this profile and overrides."""

    key: str
    path: Path
    profile: Sourced
    overrides: dict[FieldPath, Sourced]
    allow_tracked_secret: bool = False
    agents: tuple[str, ...] = DEFAULT_AGENTS


@dataclass(frozen=True)
class Config:
    """worktrees.yaml, loaded."""

    dir: Path
    file: Path
    vars: dict[str, Any]
    worktrees: tuple[WorktreeDecl, ...]
    profile_dirs: tuple[Path, ...] = field(default=())
    #: secret name -> its source (`secrets:`), file paths made absolute
    secret_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: `repos:` entries; their worktrees are in `worktrees` too, once expand_repos has run.
    repos: tuple[RepoDecl, ...] = ()
    #: `claude_code:`, made absolute: the Claude Code binary the worktrees run.
    claude_code: Path | None = None
    #: `strict: true`: lint warnings are errors for every command.
    strict: bool = False


# --- YAML -----------------------------------------------------------------------------


#: How deep a YAML file may nest, and how many values its aliases may stand for: a deeper or
#: larger file is refused before it is built, so a billion-laughs `vars:` cannot eat the memory
#: and a 100,000-deep one cannot overflow the stack.
MAX_DEPTH = 100
MAX_ALIASED = 100_000


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become LlmconfError with the line."""
    from llmconf import fs

    try:
        text = fs.read_text(path, fs.CONFIG_LIMIT)
    except FileNotFoundError:
        raise LlmconfError("file not found", path) from None
    return _parse(text, path)


def _parse(text: str, path: Path) -> Any:
    """YAML text from `path`, checked for depth, alias expansion and NUL characters, then built."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        try:
            _check(YAML(typ="safe").parse(text), path)
            return YAML(typ="safe").load(text)  # the C parser when ruamel.yaml.clib is there
        except MarkedYAMLError as first:
            # libyaml follows YAML 1.1, which rejects a ':' inside a flow mapping's plain value
            # ({sonnet: qwen/qwen3-coder:exacto}); YAML 1.2 and ruamel's own parser accept it.
            # Only that error is retried; anything else is reported as libyaml put it.
            if "found unexpected ':'" not in str(first.problem):
                raise
            try:
                _check(YAML(typ="safe", pure=True).parse(text), path)
                return YAML(typ="safe", pure=True).load(text)
            except YAMLError:
                raise first from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = (e.problem or e.context or "invalid YAML").strip()
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in _indent(lines[mark.line]):
            raise LlmconfError(
                "invalid YAML: a tab in the indentation (YAML indents with spaces only)",
                path,
                mark.line + 1,
                "replace the tab with spaces",
            ) from None
        raise LlmconfError(
            f"invalid YAML: {problem}",
            path,
            mark.line + 1 if mark else None,
            "fix the syntax there",
        ) from None
    except ReaderError as e:
        line = text[: e.position].count("\n") + 1 if isinstance(e.position, int) else None
        raise LlmconfError(
            f"invalid YAML: {e.reason} (character U+{e.character:04X})" if isinstance(e.character, int)
            else f"invalid YAML: {e.reason}",
            path,
            line,
            "remove that character",
        ) from None
    except YAMLError as e:
        raise LlmconfError(f"invalid YAML: {e.__class__.__name__}", path) from None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _check(events: Any, path: Path) -> None:
    """Walk the parser's events (no tree is built, nothing recurses) and refuse a file nested
    deeper than MAX_DEPTH, whose aliases stand for more than MAX_ALIASED values, or with a NUL
    character (no path, name or variable can hold one)."""
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

    sizes: dict[Any, int] = {}  # anchor -> how many values it stands for
    open_: list[list[Any]] = []  # each open collection: [values so far, its anchor]
    aliased = 0
    for event in events:
        if isinstance(event, CollectionStartEvent):
            open_.append([1, event.anchor])
            if len(open_) > MAX_DEPTH:
                raise LlmconfError(f"nested more than {MAX_DEPTH} levels deep", path, _line(event), "flatten it")
            continue
        if isinstance(event, CollectionEndEvent):
            size, anchor = open_.pop()
        elif isinstance(event, ScalarEvent):
            if "\0" in event.value:
                raise LlmconfError("holds a NUL character (\\0)", path, _line(event), "remove it")
            size, anchor = 1, event.anchor
        elif isinstance(event, AliasEvent):
            size, anchor = sizes.get(event.anchor, 1), None
            aliased += size
            if aliased > MAX_ALIASED:
                raise LlmconfError(
                    f"its aliases stand for more than {MAX_ALIASED:,} values (an alias bomb?)", path, _line(event),
                    "write the values out, or alias less",
                )
        else:
            continue
        if anchor is not None:
            sizes[anchor] = size
        if open_:
            open_[-1][0] += size


def _line(event: Any) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest key of `loc` found in a YAML file, if any. Lines found
    are remembered on disk by the file's bytes: a lint warning a cached plan repeats on every
    run then needs no YAML parser (ruamel's round trip cost more than the rest of the plan)."""
    from llmconf import caches, fs, hashing
    from llmconf.jsontext import dumps
    from llmconf.secrets.mask import holds_key

    try:
        data = fs.read_bytes(path, fs.CONFIG_LIMIT)
        digest = hashing.sha256(data).hexdigest()
        key = f"{digest}:{dumps(list(loc))}"
    except Exception:  # the error being placed matters more than its line
        return None
    file = caches.entry("lines")
    memo = _lines(file)
    if key in memo:
        line: int | None = memo[key]
        return line
    line = _line_in(digest, data, loc)
    if not holds_key(list(loc)):  # a key-shaped YAML key is never written down
        memo[key] = line
        caches.write(file, dict(list(memo.items())[-_LINES_KEPT:]))
    return line


_LINES_KEPT = 256


@functools.lru_cache(maxsize=4)
def _lines(file: Path) -> dict[str, Any]:
    """Lines found before, by file digest and key path (see line_of), read once a run."""
    from llmconf import caches

    found = caches.read(file)
    return {k: v for k, v in found.items() if v is None or isinstance(v, int)} if isinstance(found, dict) else {}


@functools.lru_cache(maxsize=64)
def _round_trip(digest: str, data: bytes) -> Any:
    from ruamel.yaml import YAML

    text = data.decode("utf-8")  # as fs.read_text gives it
    return YAML(typ="rt").load(text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text)


def _line_in(digest: str, data: bytes, loc: tuple[Any, ...]) -> int | None:
    """The line of `loc` in the YAML `data` (whose sha256 is `digest`)."""
    try:
        node = _round_trip(digest, data)
    except Exception:  # the error being placed matters more than its line
        return None
    line = None
    for key in loc:
        lc = getattr(node, "lc", None)
        if lc is None:
            break
        if isinstance(node, list):  # a sequence: its item's own line (a block list has one each)
            if not isinstance(key, int) or not 0 <= key < len(node):
                break
            line = lc.item(key)[0] + 1
        elif hasattr(node, "keys") and key in node:
            line = lc.key(key)[0] + 1
        else:
            break
        node = node[key]
    return line


# --- validation -----------------------------------------------------------------------


def validate(model: Any, data: Any, path: Path, prefix: tuple[Any, ...] = ()) -> Any:
    """Validate `data` against a pydantic model, turning every problem into a located error."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = [_located(model, err, path, prefix, data) for err in e.errors(include_input=False)]
        raise errors[0] if len(errors) == 1 else LlmconfErrors(errors) from None


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value at a validation error's location in the data it was given (None: not there)."""
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _located(model: type, err: Any, path: Path, prefix: tuple[Any, ...], data: Any = None) -> LlmconfError:
    from llmconf.config import models as m
    from llmconf.targets.claude_code import settings as target

    loc = tuple(x for x in err["loc"] if x != "[key]")
    where = ".".join(str(x) for x in loc)
    hint = None
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _owner(model, loc[:-1])
        message = f"unknown field '{loc[-1]}'" + (f" in {'.'.join(map(str, loc[:-1]))}" if len(loc) > 1 else "")
        hint = did_you_mean(str(loc[-1]), m.field_names(owner)) or f"valid fields: {', '.join(m.field_names(owner))}"
    elif kind == "literal_error" and len(loc) >= 2 and loc[-2] in ("models", *target.SLOT_INFO):
        message = f"unknown model slot '{loc[-1]}'"
        hint = did_you_mean(str(loc[-1]), target.SLOTS) or f"slots: {', '.join(target.SLOTS)}"
    elif kind == "literal_error" and len(loc) >= 2 and loc[-2] == "agents":
        # An agent's name is the config's own word, never a secret: it is quoted.
        name = str(_value_at(data, loc))
        if name in m.COMING_AGENTS:
            message = f"{where}: llmconf does not configure {name} yet"
            hint = f"agents: {', '.join(m.AGENTS)}"
        else:
            message = f"{where}: unknown agent '{name}'"
            hint = did_you_mean(name, (*m.AGENTS, *m.COMING_AGENTS)) or f"agents: {', '.join(m.AGENTS)}"
    elif kind == "missing":
        message = f"missing field '{loc[-1]}'"
    elif kind == "value_error":
        message = f"{where}: {err['msg'].removeprefix('Value error, ')}"
    else:
        message = f"{where}: {err['msg'].lower()}" if where else err["msg"].lower()
    return LlmconfError(message, path, line_of(path, prefix + loc), hint)


def _owner(model: type, loc: tuple[Any, ...]) -> type:
    """The model whose field an `extra_forbidden` error at `loc` belongs to."""
    from llmconf.config import models as m

    if model is m.WorktreesFile and len(loc) == 2 and loc[0] in ("worktrees", "repos"):
        return m.WorktreeEntry
    return model


def flatten(fields: Any) -> dict[FieldPath, Any]:
    """A validated ProfileFields as {field path: value}, only the fields the file set.

    A dict field set to null stays as (name,): None, meaning "clear them all".
    """
    flat: dict[FieldPath, Any] = {}
    for name, value in fields.model_dump(exclude_unset=True).items():
        if name in _DICT_FIELDS and value is not None:
            flat.update({(name, k): v for k, v in value.items()})
        elif name == "agent_models" and value is not None:  # ("agent_models", AGENT, "main"|"small")
            for agent, chosen in value.items():
                flat.update({(name, agent, k): v for k, v in chosen.items()} if chosen is not None else {(name, agent): None})
        else:
            flat[(name,)] = value
    return flat


def merge(base: dict[FieldPath, Sourced], layer: dict[FieldPath, Sourced]) -> dict[FieldPath, Sourced]:
    """Deep-merge one layer over another; null removes what is below it."""
    out = dict(base)
    for key, sourced in layer.items():
        if sourced.value is None:
            for k in [k for k in out if k[: len(key)] == key]:
                del out[k]
        else:
            out[key] = sourced
    return out


# --- worktrees.yaml -------------------------------------------------------------------


def user_path(base: Path, text: str) -> Path:
    """A path as a user writes it (relative to `base`, `~` allowed), normalised but with its
    symlinks kept: what they typed, not where it leads."""
    return Path(os.path.normpath(base / os.path.expanduser(text)))


def load_config(config_dir: Path) -> Config:
    """Load and validate worktrees.yaml from a config folder, with the worktrees of its repos."""
    return expand_repos(load_declared(config_dir))


def load_declared(config_dir: Path) -> Config:
    """worktrees.yaml as written: its `repos:` not yet asked of git (what the cache keeps)."""
    from llmconf.config import models as m

    path = config_dir / CONFIG_FILE
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LlmconfError("expected a mapping with 'worktrees:' at the top", path, 1)
    parsed: m.WorktreesFile = validate(m.WorktreesFile, data, path)
    _check_paths(parsed, path)
    decls = []
    seen: dict[Path, str] = {}
    default = tuple(parsed.agents) if parsed.agents else DEFAULT_AGENTS
    for key, entry in (parsed.worktrees or {}).items():
        loc = ("worktrees", key)
        wt_path = user_path(config_dir, key)
        if wt_path in seen:
            raise LlmconfError(
                f"worktree '{key}' is the same folder as '{seen[wt_path]}'", path, line_of(path, loc), "list it once"
            )
        seen[wt_path] = key
        decls.append((key, wt_path, *_entry(entry, path, loc), entry.allow_tracked_secret, _agents_of(entry, default)))
    repos = []
    for key, entry in (parsed.repos or {}).items():
        profile, overrides = _entry(entry, path, ("repos", key))
        repos.append(RepoDecl(key, user_path(config_dir, key), profile, overrides, entry.allow_tracked_secret, _agents_of(entry, default)))
    return Config(
        dir=config_dir,
        file=path,
        vars=dict(parsed.vars or {}),
        worktrees=tuple(
            WorktreeDecl(key, p, name, prof, ov, allow, agents=agents)
            for (key, p, prof, ov, allow, agents), name in zip(decls, _names([(key, p) for key, p, *_ in decls]))
        ),
        secret_sources={
            name: {
                **source.model_dump(exclude_none=True),
                **({"file": str(config_dir / os.path.expanduser(source.file))} if source.file else {}),
            }
            for name, source in (parsed.secrets or {}).items()
        },
        # Local profiles win over shared folders (profile_paths), which win over shipped ones.
        profile_dirs=(
            config_dir / PROFILES_DIR,
            *(config_dir / os.path.expanduser(p) for p in parsed.profile_paths or ()),
            shipped_profiles_dir(),
        ),
        repos=tuple(repos),
        claude_code=user_path(config_dir, parsed.claude_code) if parsed.claude_code else None,
        strict=bool(parsed.strict),
    )


#: The longest file or folder name file systems take (Linux, macOS: 255 bytes).
NAME_MAX = 255


def _check_paths(parsed: Any, path: Path) -> None:
    """Refuse a path with a part no file system can hold, at its line (not as an OSError later)."""
    written = [
        *((("worktrees", k), k) for k in parsed.worktrees or {}),
        *((("repos", k), k) for k in parsed.repos or {}),
        *((("profile_paths", i), p) for i, p in enumerate(parsed.profile_paths or ())),
        *([(("claude_code",), parsed.claude_code)] if parsed.claude_code else []),
        *((("secrets", n, "file"), s.file) for n, s in (parsed.secrets or {}).items() if s.file),
    ]
    for loc, text in written:
        parts = os.path.expanduser(text).split(os.sep)
        if any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in parts):
            raise LlmconfError(
                f"a part of the path '{text[:40]}...' is longer than {NAME_MAX} bytes, more than a file system allows",
                path, line_of(path, loc), "shorten it",
            )


def _entry(entry: Any, path: Path, loc: tuple[str, ...]) -> tuple[Sourced, dict[FieldPath, Sourced]]:
    """A worktree or repo entry's profile and overrides, each placed at its line."""
    overrides = {
        fp: Sourced(v, path, loc + fp)
        for fp, v in flatten(entry).items()
        if fp not in (("profile",), ("allow_tracked_secret",), ("agents",))
    }
    return Sourced(entry.profile, path, loc), overrides


def _agents_of(entry: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """The agents an entry configures: its own `agents:`, else the top level's."""
    return tuple(entry.agents) if entry.agents else default


def _names(keyed: list[tuple[str, Path]]) -> list[str]:
    """A worktree is named after its folder; where two share a folder name, after its key."""
    count = Counter(p.name for _, p in keyed)
    return [p.name if count[p.name] == 1 else key.rstrip("/") for key, p in keyed]


def _named(decls: list[WorktreeDecl]) -> tuple[WorktreeDecl, ...]:
    """The worktrees, each renamed where the naming rule now says otherwise."""
    names = _names([(d.key, d.path) for d in decls])
    return tuple(d if d.name == name else replace(d, name=name) for d, name in zip(decls, names))


# --- repos: ---------------------------------------------------------------------------

_REPO_HINT = "point it at a folder of a git repository (any of its worktrees), or list the folders under worktrees:"


def expand_repos(config: Config) -> Config:
    """The config with every worktree git lists for its `repos:` entries (one git call per
    repo) added after the listed ones; a folder listed under `worktrees:` keeps its entry.

    Bare and prunable worktrees, and any whose folder is gone, are skipped. An entry git
    cannot expand (no folder, not a repository, ...) stands in as one worktree carrying its
    error, as a missing worktree folder does: it fails alone.
    """
    if not config.repos:
        return config
    from llmconf import git as gitwt

    problems: dict[int, LlmconfError] = {}
    for i, repo in enumerate(config.repos):
        if folder_identity(repo.path) is None:  # unlike is_dir, no PermissionError from a folder above it
            problems[i] = repo.profile.error(
                f"repo folder {display_path(repo.path)} does not exist", "clone it there, or remove the entry"
            )
    asked = [i for i in range(len(config.repos)) if i not in problems]
    lists: dict[int, list[Worktree] | GitError] = {}
    try:
        lists = dict(zip(asked, gitwt.worktree_lists([config.repos[i].path for i in asked])))
    except gitwt.GitError as e:
        for i in asked:
            problems[i] = config.repos[i].profile.error(
                f"repos: needs git: {e.message}", "install git, or list the worktrees under worktrees:"
            )
    listed = [d for d in config.worktrees if d.repo is None]
    # Compared as folders (device, inode): git reports paths with symlinks resolved.
    taken = {i for i in map(folder_identity, (d.path for d in listed)) if i is not None}
    repo_of: dict[tuple[int, int] | None, str] = {}
    found = []
    for i, repo in enumerate(config.repos):
        worktrees = problems.get(i) or _checked(repo, lists[i], repo_of)
        if isinstance(worktrees, LlmconfError):
            found.append(
                WorktreeDecl(
                    repo.key, repo.path, "", repo.profile, repo.overrides, repo.allow_tracked_secret, repo.key, worktrees,
                    repo.agents,
                )
            )
            continue
        for wt, identity in worktrees:
            if wt.bare or wt.prunable or identity is None or identity in taken:
                continue
            taken.add(identity)
            path = _as_written(wt.path, repo.path)
            key = _key(path, config.dir, repo.key)
            found.append(
                WorktreeDecl(key, path, "", repo.profile, repo.overrides, repo.allow_tracked_secret, repo=repo.key, agents=repo.agents)
            )
    return replace(config, worktrees=_named([*listed, *found]))


def _checked(
    repo: RepoDecl, worktrees: list[Worktree] | GitError, repo_of: dict[tuple[int, int] | None, str]
) -> list[tuple[Worktree, tuple[int, int] | None]] | LlmconfError:
    """A repo's worktrees with their folder identities, or the entry's problem."""
    from llmconf import git as gitwt

    if isinstance(worktrees, gitwt.GitError):
        if "not a git repository" in worktrees.message:
            return repo.profile.error(f"repo '{repo.key}' is not a git repository", _REPO_HINT)
        return repo.profile.error(f"repo '{repo.key}': git cannot list its worktrees: {worktrees.message}", _REPO_HINT)
    identities = [folder_identity(w.path) for w in worktrees]
    if folder_identity(repo.path) not in identities:
        return repo.profile.error(
            f"repo '{repo.key}' is a folder inside a git worktree, not its top",
            f"write the top folder, where git's worktree list starts: {display_path(worktrees[0].path)}"
            if worktrees
            else _REPO_HINT,
        )
    first = repo_of.setdefault(identities[0], repo.key)
    if first != repo.key:
        return repo.profile.error(f"repo '{repo.key}' is the same repository as '{first}'", "list it once")
    return list(zip(worktrees, identities))


def folder_identity(path: Path) -> tuple[int, int] | None:
    """A folder's (device, inode), or None when it is not an existing folder."""
    import stat

    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def _as_written(found: Path, repo: Path) -> Path:
    """A worktree git reports (symlinks resolved) as a path under the repo entry's folder, or
    beside it, as the user wrote that (so `status` and WORKTREE arguments read as they typed)."""
    for base in (repo, repo.parent):
        rel = os.path.relpath(found, os.path.realpath(base))
        if rel == ".":
            return base
        if rel.split(os.sep, 1)[0] != os.pardir:
            return Path(os.path.normpath(base / rel))
    return found


def _key(path: Path, config_dir: Path, repo_key: str) -> str:
    """The key a found worktree would have under `worktrees:` (its name where names clash)."""
    if repo_key.startswith("~"):
        home = os.path.expanduser("~")
        rel = os.path.relpath(path, home)
        if rel.split(os.sep, 1)[0] != os.pardir:
            return "~" if rel == "." else f"~/{rel}"
    try:
        return os.path.relpath(path, config_dir)
    except ValueError:  # another drive
        return str(path)


def shipped_profiles_dir() -> Path:
    """The profiles that ship with llmconf: package data when installed, ./profiles in a checkout."""
    here = Path(__file__).resolve().parent.parent  # the llmconf package
    installed = here / PROFILES_DIR
    if installed.is_dir():
        return installed
    return here.parent / PROFILES_DIR
