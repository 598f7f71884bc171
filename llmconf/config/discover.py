"""Which config folder a command works on: `resolve` is the one place that decides (-C,
$LLMCONF_CONFIG, the nearest worktrees.yaml upward, a remembered config).

Each apply remembers, per worktree, the config that applied it ($XDG_STATE_HOME/llmconf/configs.json,
0600), so a command run inside a worktree finds its config with no -C, even when the config
lives in a sibling folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from llmconf import fs
from llmconf.config.load import CONFIG_FILE, user_path
from llmconf.errors import LlmconfError

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Literal, overload
else:

    def overload(function: object) -> object:
        """typing.overload: the type checker's; the last definition is the one that runs."""
        return function


def _index() -> Path:
    from llmconf.apply.state import state_file

    return state_file().parent / "configs.json"


def _read() -> dict[str, str]:
    from llmconf import caches

    doc = caches.read(_index())  # None: none yet, or damaged: only a convenience is lost
    found = doc.get("worktrees") if isinstance(doc, dict) else None
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(found, dict) else {}


def remember(config_dir: Path, worktrees: Iterable[Path]) -> None:
    """Note that `config_dir` applied these worktrees (written only when that is news)."""
    known = _read()
    new = {**known, **{os.path.normpath(w): os.path.normpath(config_dir) for w in worktrees}}
    if new == known:
        return
    path = _index()
    try:
        fs.make_dirs(path.parent, 0o700)  # under sudo: still the user's
        fs.write_atomic(path, json.dumps({"worktrees": dict(sorted(new.items()))}, indent=1) + "\n", mode=0o600)
    except (OSError, LlmconfError):  # a folder, a FIFO there: write_atomic refuses it
        pass  # the next apply tries again; -C still works


@overload
def resolve(
    given: str | None, cwd: Path, *, search: bool = ..., required: Literal[True] = ..., must_exist: bool = ...
) -> Path: ...


@overload
def resolve(given: str | None, cwd: Path, *, search: bool = ..., required: bool, must_exist: bool = ...) -> Path | None: ...  # noqa: F811 (the overload shim above)


def resolve(  # noqa: F811
    given: str | None, cwd: Path, *, search: bool = True, required: bool = True, must_exist: bool = False
) -> Path | None:
    """The config folder of a command run in `cwd`: `given` (-C DIR, relative to `cwd`, ~ allowed),
    else, with `search`, $LLMCONF_CONFIG, the nearest folder upward holding
    worktrees.yaml, or the config that last applied the worktree holding `cwd`. Nothing found: an error when `required`, else None.
    `must_exist`: the folder must hold worktrees.yaml (a -C typo is an error, not a new folder)."""
    if given:
        folder: Path | None = user_path(cwd, given)
    elif search:
        try:
            folder = _search(cwd)
        except LlmconfError:
            if required:
                raise
            folder = None
    elif required:
        raise LlmconfError("no config folder given", hint="pass -C DIR")
    else:
        folder = None
    if folder is not None and must_exist and not os.path.lexists(folder / CONFIG_FILE):
        raise LlmconfError("file not found", folder / CONFIG_FILE)
    return folder


def _search(start: Path) -> Path:
    """The config for a command run in `start` with no -C (see `resolve`)."""
    named = os.environ.get("LLMCONF_CONFIG")
    if named:
        return user_path(start, named)
    for folder in (start, *start.parents):
        # Whatever is there (a FIFO, a folder, a symlink loop) is the config: reading it says what is wrong.
        if os.path.lexists(folder / CONFIG_FILE):
            return Path(os.path.normpath(folder))
    known = _read()
    here = os.path.normpath(start)
    holding = [w for w in known if here == w or here.startswith(w.rstrip(os.sep) + os.sep)]
    for worktree in sorted(holding, key=len, reverse=True):
        if (Path(known[worktree]) / CONFIG_FILE).is_file():
            return Path(known[worktree])
    configs = sorted({c for c in known.values() if (Path(c) / CONFIG_FILE).is_file()})
    if not configs:
        raise LlmconfError(
            f"no {CONFIG_FILE} in {start} or any folder above it", hint="run 'llmconf init' to start one, or pass -C DIR"
        )
    raise LlmconfError(
        f"no {CONFIG_FILE} in {start} or any folder above it, and no config llmconf knows declares it",
        hint=f"configs llmconf knows: {', '.join(configs)}; pass -C DIR or set LLMCONF_CONFIG",
    )
