"""Profiles: found by name on the search path (the config's profiles/, profile_paths, the
shipped ones), validated, and resolved through `extends`; and where each came from."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from llmconf.config.load import PROFILES_DIR, Config, FieldPath, Sourced, flatten, merge, read_yaml, shipped_profiles_dir, validate
from llmconf.errors import LlmconfError, LlmconfErrors, did_you_mean, display_path
from llmconf.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def _real(path: Path) -> Path:
    """Where a folder leads; unlike Path.resolve, a symlink loop is no RuntimeError (reading it says what is wrong)."""
    return Path(os.path.realpath(path))


def _folder_error(folder: Path, e: OSError) -> LlmconfError:
    """A profile folder that cannot be searched (no permission, a symlink loop...)."""
    hint = "fix its permissions (chmod u+rx)" if isinstance(e, PermissionError) else "fix or remove that folder"
    return LlmconfError(f"cannot read this profile folder: {(e.strerror or e.__class__.__name__).lower()}", folder, hint=hint)


@dataclass(frozen=True)
class ProfileOrigin:
    """Where a profile came from: its file, which search folder ("local": the config's
    profiles/, "shared": a profile_paths folder, "shipped": llmconf's own), and its parent."""

    file: Path
    source: str
    extends: str | None = None


def origins(config: Config, profiles: Profiles, names: Sequence[str]) -> dict[str, ProfileOrigin]:
    """Where each named profile, and each profile it extends, came from (one that does not
    load is left out: the plan reports it, at the line that names it)."""
    local, shipped = _real(config.dir / PROFILES_DIR), _real(shipped_profiles_dir())
    out: dict[str, ProfileOrigin] = {}
    todo = list(dict.fromkeys(names))
    while todo:
        name = todo.pop(0)
        if name in out:
            continue
        try:
            path, extends = profiles.origin(name, Sourced(name, config.file, ()))
        except LlmconfError:
            continue
        folder = _real(path.parent)
        source = "local" if folder == local else "shipped" if folder == shipped else "shared"
        out[name] = ProfileOrigin(path, source, extends)
        if extends:
            todo.append(extends)
    return dict(sorted(out.items()))


class Profiles:
    """Finds, validates and resolves profiles by name; each file is read once."""

    def __init__(self, dirs: tuple[Path, ...]) -> None:
        self.dirs = tuple(dict.fromkeys(_real(d) for d in dirs))
        self._loaded: dict[str, tuple[Any, Path]] = {}
        self._resolved: dict[str, dict[FieldPath, Sourced]] = {}
        self._origins: dict[str, tuple[Path, str | None]] = {}

    def prime(self, resolved: dict[str, dict[FieldPath, Sourced]], origins: dict[str, tuple[Path, str | None]]) -> None:
        """Start from resolutions worked out before (the config cache), and the files they came from."""
        self._resolved.update(resolved)
        self._origins.update(origins)

    def resolved(self) -> dict[str, dict[FieldPath, Sourced]]:
        """Every profile resolved so far, by name."""
        return dict(self._resolved)

    def origins(self) -> dict[str, tuple[Path, str | None]]:
        """Every profile loaded (or primed) so far: its file and the profile it extends."""
        return dict(self._origins)

    def origin(self, name: str, ref: Sourced) -> tuple[Path, str | None]:
        """A profile's file and the profile it extends: from the cache when primed, so status
        need not load (and validate) the profiles a cached plan did not."""
        if name not in self._origins:
            self.load(name, ref)
        return self._origins[name]

    def names(self) -> list[str]:
        """Every profile name on the search path, first folder winning."""
        found: dict[str, None] = {}
        for d in self.dirs:
            try:
                entries = os.listdir(d)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                raise _folder_error(d, e) from None
            # A hidden file is no profile: path() refuses names starting with '.'.
            # Only files: a folder or a broken link named x.yaml is no profile path() would find.
            found.update(
                dict.fromkeys(
                    n[:-5] for n in sorted(entries) if n.endswith(".yaml") and not n.startswith(".") and (d / n).is_file()
                )
            )
        return sorted(found)

    def unknown_hint(self, name: str) -> str:
        """What to do about a profile name path() does not find: never the name itself."""
        hidden = name.startswith(".") and "/" not in name and "\\" not in name
        for d in self.dirs:
            for candidate in (d / f"{name}.yaml", d / f".{name}.yaml"):
                try:
                    is_file, exists = candidate.is_file(), os.path.lexists(candidate)
                except OSError:  # a name too long for the file system, say: no such file
                    continue
                if hidden or candidate.name.startswith("."):
                    if is_file:
                        bare = candidate.name.lstrip(".")
                        return f"{display_path(candidate)} is a hidden file, never loaded as a profile: rename it to {bare}"
                elif exists and not is_file:
                    return f"{display_path(candidate)} is not a file (a folder or a broken symlink): replace it with the profile's YAML"
        if hidden:
            return "a profile's name never starts with '.': a hidden file is not a profile"
        return did_you_mean(name, self.names()) or f"profiles: {', '.join(self.names()) or 'none'}"

    def path(self, name: str) -> Path | None:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None  # a name, never a path out of the profile folders
        for d in self.dirs:
            candidate = d / f"{name}.yaml"
            try:
                os.stat(candidate)  # whatever is there is that profile: a FIFO or a folder is reported, not passed over
            except (FileNotFoundError, NotADirectoryError):
                continue
            except PermissionError as e:
                raise _folder_error(d, e) from None
            except OSError as e:
                if e.errno == errno.ENAMETOOLONG:
                    return None  # no file can have that name: an unknown profile
                # (a symlink loop...): reading it names the file and what is wrong
            return candidate
        return None

    def load(self, name: str, ref: Sourced) -> tuple[Any, Path]:
        """One profile file, validated. `ref` says where the name was written, for errors."""
        if name in self._loaded:
            return self._loaded[name]
        from llmconf.config import models as m

        path = self.path(name)
        if path is None:
            raise ref.error(f"unknown profile '{name}'", self.unknown_hint(name))
        data = read_yaml(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise LlmconfError("a profile must be a mapping of fields", path, 1)
        profile = validate(m.Profile, data, path)
        self._loaded[name] = (profile, path)
        self._origins[name] = (path, profile.extends)
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
