"""A session: what one run reads before it plans (the config, its profiles, the secret store
and the state), read once and never changed. Saving the config cache is its own step."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llmconf import fs
from llmconf.apply.state import State, load_state
from llmconf.config import cache
from llmconf.config.load import CONFIG_FILE, Config, Sourced, WorktreeDecl, load_config, user_path
from llmconf.config.profiles import Profiles
from llmconf.errors import LlmconfError, did_you_mean
from llmconf.records import dataclass, replace
from llmconf.secrets.store import SecretStore

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from llmconf.plan.model import Plan


@dataclass(frozen=True)
class CacheTicket:
    """How this session's config was read: from the cache (`hit`, with `primed` profiles
    already resolved), or from the files, whose digest `key` it is saved under."""

    hit: bool
    key: str | None
    primed: int = 0


@dataclass(frozen=True)
class Session:
    """Everything a command plans from. The profiles and the secret store read lazily, once each."""

    config: Config
    profiles: Profiles
    secrets: SecretStore
    state: State
    cache: CacheTicket

    def select(self, args: Sequence[str], cwd: Path) -> tuple[WorktreeDecl, ...]:
        """The worktrees named by args (paths or names), or all of them."""
        if not args:
            return self.config.worktrees
        # A broken repos: entry's stand-in yields its folder and name to a worktree that works.
        ordered = sorted(self.config.worktrees, key=lambda w: w.error is None)
        by_path = {w.path: w for w in ordered}
        by_name = {w.name: w for w in ordered}
        chosen: dict[Path, WorktreeDecl] = {}
        for arg in args:
            as_path = user_path(cwd, arg)
            decl = by_path.get(as_path) or by_name.get(arg) or by_name.get(arg.rstrip("/"))
            if decl is None:
                hint = did_you_mean(arg, by_name) or "see 'llmconf status' for the declared worktrees"
                raise LlmconfError(f"'{arg}' is not a worktree declared in {self.config.file.name}", hint=hint)
            chosen[decl.path] = decl
        return tuple(chosen.values())

    def switched(self, keys: Sequence[str], profile: str, written: bytes) -> Session:
        """The session after `use` set the profile of the worktrees `keys` (each declared
        under `worktrees:`) and changed nothing else in worktrees.yaml, whose bytes are now
        `written`: this one with those profiles changed, as reading the file again would give,
        without the YAML parser and pydantic that reading costs. Its cache key is the new file's."""
        chosen = set(keys)
        worktrees = tuple(
            replace(d, profile=Sourced(profile, d.profile.path, d.profile.loc)) if d.repo is None and d.key in chosen else d
            for d in self.config.worktrees
        )
        config = replace(self.config, worktrees=worktrees)
        ticket = CacheTicket(False, cache.digest(config.profile_dirs, written))
        return Session(config, self.profiles, self.secrets, self.state, ticket)

    def keep_cache(self, plan: Plan) -> None:
        """Save the config for the next run, after a plan that found it sound (and only when
        this run read something the cache did not hold)."""
        resolved = self.profiles.resolved()
        if not plan.worktrees or not self.cache.key:
            return
        if self.cache.hit and len(resolved) <= self.cache.primed:
            return
        errors_at = {wp.error.path for wp in plan.worktrees if wp.error is not None}
        # Listed only when there is an error: a clean plan (the common case) lists no folder.
        if errors_at and errors_at & {self.config.file, *(p for d in self.profiles.dirs for p in d.glob("*.yaml"))}:
            return  # an error in the config itself: the next run must read it again
        cache.save(self.config, resolved, self.cache.key, self.profiles.origins())


def open_session(config_dir: Path) -> Session:
    """Read a config folder: from the cache when every input is byte for byte the same."""
    state = load_state()
    hit = cache.load(config_dir)
    if hit is not None:
        config, resolved, key, origins = hit
        profiles = Profiles(config.profile_dirs)
        profiles.prime(resolved, origins)
        store = SecretStore(sources=config.secret_sources, config_dir=config_dir)
        return Session(config, profiles, store, state, CacheTicket(True, key, len(resolved)))
    try:
        config_bytes = fs.read_bytes(config_dir / CONFIG_FILE, fs.CONFIG_LIMIT)
    except (OSError, LlmconfError):
        config_bytes = b""  # load_config reports it
    config = load_config(config_dir)
    store = SecretStore(sources=config.secret_sources, config_dir=config_dir)
    # The key is the bytes read before any profile is: an edit during this run only misses.
    ticket = CacheTicket(False, cache.digest(config.profile_dirs, config_bytes))
    return Session(config, Profiles(config.profile_dirs), store, state, ticket)


def open_for(config_dir: str | None, cwd: Path) -> Session:
    """The session of `-C DIR`, or of the config this folder belongs to."""
    from llmconf.config.discover import resolve

    return open_session(resolve(config_dir, cwd))
