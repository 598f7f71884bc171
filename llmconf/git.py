"""Every git call llmconf makes: worktree lists (`repos:`), hook folders, and whether git
tracks or ignores a settings file.

Every call runs git with the repository-local environment removed (GIT_DIR, GIT_INDEX_FILE,
...): inside a hook git sets some of them for the repository it is running in, and they
would override `-C REPO`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from llmconf import replay
from llmconf.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    import subprocess

#: What `git rev-parse --local-env-vars` lists (git 2.39), written out to save a call.
LOCAL_ENV_VARS = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
)
#: Global pathspec switches: beside --literal-pathspecs, some make git refuse to run at all.
PATHSPEC_ENV_VARS = ("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS")
_TIMEOUT = 30
_BATCH = 32  # gits running at once: two pipes each, well under any open-file limit


class GitError(Exception):
    """git could not answer: `missing` when there is no git, else its first stderr line."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


@dataclass(frozen=True)
class Worktree:
    """One record of `git worktree list --porcelain`."""

    path: Path
    bare: bool = False
    prunable: bool = False


def clean_env() -> dict[str, str]:
    """The environment without the variables that tie git to one repository."""
    base = dict(os.environ)
    for name in (*LOCAL_ENV_VARS, *PATHSPEC_ENV_VARS):
        base.pop(name, None)
    # Config given with `git -c` (GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n) goes with its count.
    for name in [n for n in base if n.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))]:
        del base[name]
    return base


def _start(repo: Path, args: Sequence[str], stdin: bool = False) -> subprocess.Popen[bytes]:
    import subprocess  # here, not at the top: a plan with no repository runs no git

    try:
        return subprocess.Popen(
            # A repository's core.fsmonitor is a command git runs even for ls-files: a cloned
            # or unpacked repository must not run code (or hang) because llmconf looked at it.
            ["git", "-c", "core.fsmonitor=false", "-C", str(repo), *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(),
            start_new_session=True,  # its own process group: see _stop
        )
    except FileNotFoundError:
        raise GitError("git is not installed", missing=True) from None
    except OSError as e:
        raise GitError(f"cannot run git: {e.strerror or e.__class__.__name__}", missing=True) from None


def _finish(proc: subprocess.Popen[bytes], data: bytes | None = None, ok: tuple[int, ...] = (0,)) -> str:
    import subprocess

    try:
        out, err = proc.communicate(data, timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise GitError(f"git did not answer within {_TIMEOUT} s") from None
    except BaseException:  # Ctrl-C: git is in a group of its own, out of the terminal's reach
        _stop(proc)
        raise
    if proc.returncode not in ok:
        lines = err.decode(errors="replace").strip().splitlines()
        raise GitError(lines[0].removeprefix("fatal: ") if lines else f"git exited {proc.returncode}")
    return out.decode(errors="surrogateescape")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and all it started (a hook, a helper), then reap it. Killing git alone is not
    enough: a child left behind holds its pipes open, and reading them to the end would wait
    for that child for ever."""
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:  # gone already
        pass
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a child that left the group still holds a pipe
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()


def _git(repo: Path, *args: str) -> str:
    return _finish(_start(repo, args))


def parse_porcelain(text: str) -> list[Worktree]:
    """The records of `git worktree list --porcelain` (blank-line separated)."""
    out = []
    for block in text.split("\n\n"):
        path: str | None = None
        bare = prunable = False
        for line in block.splitlines():
            word, _, rest = line.partition(" ")
            if word == "worktree":
                path = rest
            elif word == "bare":
                bare = True
            elif word == "prunable":
                prunable = True
        if path is not None:
            out.append(Worktree(Path(path), bare, prunable))
    return out


def worktree_lists(repos: Sequence[Path]) -> list[list[Worktree] | GitError]:
    """`git worktree list --porcelain` of each repo: one git per repo, up to _BATCH at once.

    A repo git cannot list gives its GitError in place of its list; no git at all raises it.
    """
    results: list[list[Worktree] | GitError] = []
    for start in range(0, len(repos), _BATCH):
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for repo in repos[start : start + _BATCH]:
                procs.append(_start(repo, ("worktree", "list", "--porcelain")))
        except GitError:
            for p in procs:
                _stop(p)
            raise
        for p in procs:
            try:
                results.append(parse_porcelain(_finish(p)))
            except GitError as e:
                results.append(e)
    return results


def hooks_dir(repo: Path) -> tuple[Path, Path]:
    """The folder git runs this repo's hooks from (core.hooksPath respected; shared by all
    worktrees of the repo), and the repo's own git folder (the common one of its worktrees)."""
    # Absolute paths (git 2.31+): a relative core.hooksPath is the work tree's, not REPO's.
    text = _git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir", "--git-path", "hooks")
    lines = text.splitlines()
    if len(lines) != 2 or not all(os.path.isabs(line) for line in lines):
        raise GitError("git is too old to name its folders (git 2.31 or later needed)")
    git_dir, hooks = (Path(os.path.normpath(line)) for line in lines)
    return hooks, git_dir


@dataclass(frozen=True)
class Tracked:
    """A file that may not hold a secret: git tracks it, or cannot say whether it does."""

    index: int  # in the paths asked about
    real: Path  # the file itself, every symlink on the way resolved
    root: Path  # the repository that holds it
    unknown: str | None = None  # why git could not say (then it may well be tracked)
    no_git: bool = False  # it could not say as there is no git to run
    #: git does not track it, but does not ignore it either: one `git add .` and it is tracked.
    unignored: bool = False


def tracked(paths: Sequence[Path]) -> list[Tracked]:
    """Which of these files git tracks, or may track: one `git ls-files` per repository (and
    one `git check-ignore` for the files it does not track: one it does not ignore either is
    listed as `unignored`), none for a file outside one. Each is asked of the repository that really holds it, symlinks
    resolved, so a link into another repository (or a worktree declared through one) is no
    way around the question. Where a repository holds the file but git cannot answer (no git,
    a broken repository), the file is listed with the reason."""
    by_repo: dict[Path, list[tuple[int, Path]]] = {}
    memo: dict[Path, Path | None] = {}  # this call's only: a folder may become a repository later
    for i, path in enumerate(paths):
        real = Path(os.path.realpath(path))
        root = _root(real.parent, memo)
        if root is not None:
            by_repo.setdefault(root, []).append((i, real))
    out = []
    for root, files in by_repo.items():
        rels = [os.path.relpath(real, root) for _, real in files]
        try:
            # Literal pathspecs: a folder named `:x` is that folder, not pathspec magic.
            with replay.git_inputs(root, rels):
                listed = set(_git(root, "--literal-pathspecs", "ls-files", "-z", "--", *rels).split("\0"))
        except GitError as e:
            out += [Tracked(i, real, root, e.message, e.missing) for i, real in files]
            continue
        out += [Tracked(i, real, root) for (i, real), rel in zip(files, rels) if rel in listed]
        untracked = [(i, real, rel) for (i, real), rel in zip(files, rels) if rel not in listed]
        if not untracked:
            continue
        try:
            # Paths on stdin, each as ./PATH: check-ignore takes no --literal-pathspecs, and a
            # folder named `:!x` would otherwise be read as pathspec magic. Exit 1: none ignored.
            asked = "".join(f"./{rel}\0" for _, _, rel in untracked).encode(errors="surrogateescape")
            with replay.git_inputs(root, [rel for _, _, rel in untracked]):
                proc = _start(root, ("check-ignore", "-z", "--stdin", "--no-index"), stdin=True)
                ignored = set(_finish(proc, asked, ok=(0, 1)).split("\0"))
        except GitError as e:
            out += [Tracked(i, real, root, e.message, e.missing) for i, real, _ in untracked]
            continue
        out += [Tracked(i, real, root, unignored=True) for i, real, rel in untracked if f"./{rel}" not in ignored]
    return sorted(out, key=lambda t: t.index)


def ignored(worktree: Path, file: Path) -> bool | None:
    """Whether git ignores `file` (relative to `worktree`); None outside a repository or with no git."""
    import subprocess

    with replay.git_inputs(worktree, [file]):
        try:
            proc = _start(worktree, ("check-ignore", "-q", "--", str(file)))
        except GitError:
            return None
        try:
            proc.communicate(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            _stop(proc)  # not left running behind us
            return None
        except BaseException:
            _stop(proc)
            raise
    return {0: True, 1: False}.get(proc.returncode)  # 128: not a repository


def _root(folder: Path, memo: dict[Path, Path | None]) -> Path | None:
    """The nearest folder upward holding .git (a folder, or a file in a linked worktree);
    remembered in `memo` per folder, so sibling worktrees share the walk up."""
    if folder not in memo:
        if (folder / ".git").exists():
            memo[folder] = folder
        else:
            memo[folder] = None if folder.parent == folder else _root(folder.parent, memo)
    return memo[folder]
