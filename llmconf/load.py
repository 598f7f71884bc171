"""Read profiles/*.yaml and worktrees.yaml into validated models, with file:line errors.

Files are parsed with ruamel's safe loader; the round-trip loader, which keeps line
numbers, runs only when there is an error to place.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmconf.errors import LlmconfError, LlmconfErrors, did_you_mean

CONFIG_FILE = "worktrees.yaml"
PROFILES_DIR = "profiles"

#: A field of a profile, flattened: ("base_url",), ("models", "sonnet"), ("env", "X").
FieldPath = tuple[str, ...]
_DICT_FIELDS = ("models", "env")


@dataclass(frozen=True)
class Sourced:
    """A field's value and where it was set, so a later error can name file and line."""

    value: Any
    path: Path
    loc: tuple[Any, ...]

    def error(self, message: str, hint: str | None = None) -> LlmconfError:
        return LlmconfError(message, self.path, line_of(self.path, self.loc), hint)


@dataclass(frozen=True)
class WorktreeDecl:
    """One declared worktree: where it is, which profile, and its own overrides."""

    key: str
    path: Path
    name: str
    profile: Sourced
    overrides: dict[FieldPath, Sourced]
    allow_tracked_secret: bool = False


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


# --- YAML -----------------------------------------------------------------------------


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become LlmconfError with the line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LlmconfError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise LlmconfError(f"cannot read: {e.__class__.__name__}", path) from None
    try:
        return YAML(typ="safe").load(text)  # the C parser when ruamel.yaml.clib is there
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = (e.problem or e.context or "invalid YAML").strip()
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


@functools.lru_cache(maxsize=64)
def _round_trip(path: Path, mtime_ns: int) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="rt").load(path.read_text(encoding="utf-8"))


def line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest key of `loc` found in a YAML file, if any."""
    try:
        node = _round_trip(path, path.stat().st_mtime_ns)
    except Exception:  # the error being placed matters more than its line
        return None
    line = None
    for key in loc:
        lc = getattr(node, "lc", None)
        if lc is None or not hasattr(node, "keys") or key not in node:
            break
        line = lc.key(key)[0] + 1
        node = node[key]
    return line


# --- validation -----------------------------------------------------------------------


def validate(model: type, data: Any, path: Path, prefix: tuple[Any, ...] = ()) -> Any:
    """Validate `data` against a pydantic model, turning every problem into a located error."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = [_located(model, err, path, prefix) for err in e.errors(include_input=False)]
        raise errors[0] if len(errors) == 1 else LlmconfErrors(errors) from None


def _located(model: type, err: Any, path: Path, prefix: tuple[Any, ...]) -> LlmconfError:
    from llmconf import model as m
    from llmconf import target

    loc = tuple(x for x in err["loc"] if x != "[key]")
    where = ".".join(str(x) for x in loc)
    hint = None
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _owner(model, loc[:-1])
        message = f"unknown field '{loc[-1]}'" + (f" in {'.'.join(map(str, loc[:-1]))}" if len(loc) > 1 else "")
        hint = did_you_mean(str(loc[-1]), m.field_names(owner)) or f"valid fields: {', '.join(m.field_names(owner))}"
    elif kind == "literal_error" and len(loc) >= 2 and loc[-2] == "models":
        message = f"unknown model slot '{loc[-1]}'"
        hint = did_you_mean(str(loc[-1]), target.SLOTS) or f"slots: {', '.join(target.SLOTS)}"
    elif kind == "missing":
        message = f"missing field '{loc[-1]}'"
    elif kind == "value_error":
        message = f"{where}: {err['msg'].removeprefix('Value error, ')}"
    else:
        message = f"{where}: {err['msg'].lower()}" if where else err["msg"].lower()
    return LlmconfError(message, path, line_of(path, prefix + loc), hint)


def _owner(model: type, loc: tuple[Any, ...]) -> type:
    """The model whose field an `extra_forbidden` error at `loc` belongs to."""
    from llmconf import model as m

    if model is m.WorktreesFile and len(loc) == 2 and loc[0] == "worktrees":
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


def find_config_dir(start: Path) -> Path:
    """The nearest folder upward from `start` holding worktrees.yaml."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise LlmconfError(
        f"no {CONFIG_FILE} in {start} or any folder above it",
        hint="run 'llmconf init' to start one, or pass -C DIR",
    )


def load_config(config_dir: Path) -> Config:
    """Load and validate worktrees.yaml from a config folder."""
    from llmconf import model as m

    path = config_dir / CONFIG_FILE
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LlmconfError("expected a mapping with 'worktrees:' at the top", path, 1)
    parsed: m.WorktreesFile = validate(m.WorktreesFile, data, path)
    decls = []
    seen: dict[Path, str] = {}
    names: dict[str, int] = {}
    entries = parsed.worktrees or {}
    for key, entry in entries.items():
        loc = ("worktrees", key)
        wt_path = user_path(config_dir, key)
        if wt_path in seen:
            raise LlmconfError(
                f"worktree '{key}' is the same folder as '{seen[wt_path]}'", path, line_of(path, loc), "list it once"
            )
        seen[wt_path] = key
        names[wt_path.name] = names.get(wt_path.name, 0) + 1
        overrides = {
            fp: Sourced(v, path, loc + fp)
            for fp, v in flatten(entry).items()
            if fp not in (("profile",), ("allow_tracked_secret",))
        }
        decls.append((key, wt_path, Sourced(entry.profile, path, loc), overrides, entry.allow_tracked_secret))
    worktrees = tuple(
        # A worktree is named after its folder; where two share a folder name, after its key.
        WorktreeDecl(key, p, p.name if names[p.name] == 1 else key.rstrip("/"), prof, ov, allow)
        for key, p, prof, ov, allow in decls
    )
    return Config(
        dir=config_dir,
        file=path,
        vars=dict(parsed.vars or {}),
        worktrees=worktrees,
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
    )


# --- profiles -------------------------------------------------------------------------


def shipped_profiles_dir() -> Path:
    """The profiles that ship with llmconf: package data when installed, ./profiles in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / PROFILES_DIR
    if installed.is_dir():
        return installed
    return here.parent / PROFILES_DIR


class Profiles:
    """Finds, validates and resolves profiles by name; each file is read once."""

    def __init__(self, dirs: tuple[Path, ...]) -> None:
        self.dirs = tuple(dict.fromkeys(d.resolve() for d in dirs))
        self._loaded: dict[str, tuple[Any, Path]] = {}
        self._resolved: dict[str, dict[FieldPath, Sourced]] = {}

    def prime(self, resolved: dict[str, dict[FieldPath, Sourced]]) -> None:
        """Start from resolutions worked out before (the config cache)."""
        self._resolved.update(resolved)

    def resolved(self) -> dict[str, dict[FieldPath, Sourced]]:
        """Every profile resolved so far, by name."""
        return dict(self._resolved)

    def names(self) -> list[str]:
        """Every profile name on the search path, first folder winning."""
        found: dict[str, None] = {}
        for d in self.dirs:
            if d.is_dir():
                found.update(dict.fromkeys(p.stem for p in sorted(d.glob("*.yaml"))))
        return sorted(found)

    def path(self, name: str) -> Path | None:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None  # a name, never a path out of the profile folders
        for d in self.dirs:
            candidate = d / f"{name}.yaml"
            if candidate.is_file():
                return candidate
        return None

    def load(self, name: str, ref: Sourced) -> tuple[Any, Path]:
        """One profile file, validated. `ref` says where the name was written, for errors."""
        if name in self._loaded:
            return self._loaded[name]
        from llmconf import model as m

        path = self.path(name)
        if path is None:
            hint = did_you_mean(name, self.names()) or f"profiles: {', '.join(self.names()) or 'none'}"
            raise ref.error(f"unknown profile '{name}'", hint)
        data = read_yaml(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise LlmconfError("a profile must be a mapping of fields", path, 1)
        profile = validate(m.Profile, data, path)
        self._loaded[name] = (profile, path)
        return profile, path

    def resolve(self, name: str, ref: Sourced) -> dict[FieldPath, Sourced]:
        """A profile's fields after following `extends`, parents first (worked out once per name)."""
        if name in self._resolved:
            return self._resolved[name]
        first = name
        chain: list[tuple[Any, Path]] = []
        seen: list[str] = []
        while True:
            if name in seen:
                cycle = " -> ".join([*seen, name])
                raise ref.error(f"'extends' cycle: {cycle}", "break the cycle")
            seen.append(name)
            profile, path = self.load(name, ref)
            chain.append((profile, path))
            if profile.extends is None:
                break
            name = profile.extends
            ref = Sourced(name, path, ("extends",))
        resolved: dict[FieldPath, Sourced] = {}
        for profile, path in reversed(chain):
            layer = {
                fp: Sourced(v, path, fp)
                for fp, v in flatten(profile).items()
                if fp not in (("extends",), ("description",))
            }
            resolved = merge(resolved, layer)
        self._resolved[first] = resolved
        return resolved

    def all_errors(self) -> Iterator[LlmconfError]:
        """Every problem in every profile file on the search path (for validate)."""
        for name in self.names():
            try:
                self.resolve(name, Sourced(name, self.path(name) or Path(name), ()))
            except LlmconfErrors as e:
                yield from e.errors
            except LlmconfError as e:
                yield e
