"""llmconf git-hook install|uninstall REPO: a post-checkout hook that applies the declared
profile to each worktree `git worktree add` makes (Claude Code does not copy
.claude/settings.local.json into it). `git-hook run` is what the installed hook calls.

A post-checkout hook already there is never replaced: it moves aside to
`post-checkout.llmconf-chained`, and ours runs it first, with the same arguments, and exits
with its status. `uninstall` moves it back.

Only the repository's own hooks folder (inside its git folder) is written: a core.hooksPath
inside the work tree holds files committed for the whole team (.husky), and one outside the
repository (a global core.hooksPath) is shared by other repositories.
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from llmconf import hook
from llmconf.console import Ui
from llmconf.errors import LlmconfError, display_path
from llmconf.hook import CHAINED, HOOK, MARK
from llmconf.views import done

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from llmconf import git as gitwt
    from llmconf.session import Session

_REPO_HINT = "name a folder of the git repository (any of its worktrees)"

def run(args: argparse.Namespace, ui: Ui) -> int:
    if args.hook_command == "run":
        return _run_hook(args, ui)
    repo = _repo(args.repo, ui.cwd)
    hooks, git_dir = _hooks_dir(repo, args.repo)
    if args.hook_command == "install":
        return _install(args, repo, hooks, git_dir, ui)
    return _uninstall(hooks, ui)


def _repo(arg: str, cwd: Path) -> Path:
    from llmconf.config.load import user_path

    repo = user_path(cwd, arg)
    if not repo.is_dir():
        raise LlmconfError(f"'{arg}' is not a folder", hint=_REPO_HINT)
    return repo


def _hooks_dir(repo: Path, arg: str) -> tuple[Path, Path]:
    from llmconf import git as gitwt

    try:
        return gitwt.hooks_dir(repo)
    except gitwt.GitError as e:
        if e.missing:
            raise LlmconfError(f"git-hook needs git: {e.message}", hint="install git") from None
        if "not a git repository" in e.message:
            raise LlmconfError(f"'{arg}' is not in a git repository", hint=_REPO_HINT) from None
        raise LlmconfError(f"'{arg}': git cannot read it: {e.message}", hint=_REPO_HINT) from None


def _inside(path: Path, folder: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _run_line(config_dir: Path) -> str:
    return f'llmconf -C {shlex.quote(str(config_dir))} git-hook run "$@"'


def _install(args: argparse.Namespace, repo: Path, hooks: Path, git_dir: Path, ui: Ui) -> int:
    from llmconf.session import open_for

    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    worktrees = _worktrees(repo, args.repo)
    if not _inside(hooks, git_dir):
        # git runs this folder's hooks, but it is not the repository's own: refuse rather
        # than edit the team's committed hooks or every repository's.
        where = (
            "inside the work tree: its hooks are the repository's files, committed for everyone"
            if any(_inside(hooks, w.path) for w in worktrees)
            else "outside the repository: other repositories run their hooks from there too"
        )
        raise LlmconfError(
            f"core.hooksPath points git at a hooks folder {where}; nothing installed",
            hooks,
            hint=f"add the line '{_run_line(session.config.dir)}' to its {HOOK} hook yourself",
        )
    warning = _check_covered(session, worktrees, args.repo)
    file, chained = hooks / HOOK, hooks / CHAINED
    head = hook.head(file)
    ours = MARK in head
    if ours:
        other = hook.config_dir_of(head)
        if other is not None and not _same_folder(other, session.config.dir):
            raise LlmconfError(
                f"the {HOOK} hook there applies {display_path(other / session.config.file.name, ui.cwd)}; nothing changed",
                hooks,
                hint=f"to switch it to {display_path(session.config.file, ui.cwd)}, run "
                f"'llmconf -C {shlex.quote(str(other))} git-hook uninstall {shlex.quote(args.repo)}' first",
            )
    move_aside = not ours and hook.exists(file)
    kept = hook.exists(chained)
    if move_aside and kept:
        raise LlmconfError(
            f"both {HOOK} and {CHAINED} exist, and {HOOK} is not llmconf's; nothing changed",
            hooks,
            hint=f"merge them into {HOOK} (or remove {CHAINED}), then install again",
        )
    text = hook.script(session.config.file, session.config.dir, hooks, repo, move_aside or kept)
    hook.put(hooks, text, move_aside)
    ui.out(done.hook_installed(HOOK, hooks, session.config.file, chained if move_aside else None, ours, ui.cwd))
    if warning:
        ui.warn(warning)
    return 0


def _same_folder(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _worktrees(repo: Path, arg: str) -> list[gitwt.Worktree]:
    from llmconf import git as gitwt

    listed = gitwt.worktree_lists([repo])[0]
    if isinstance(listed, gitwt.GitError):
        raise LlmconfError(f"'{arg}': git cannot list its worktrees: {listed.message}")
    return listed


def _coverage(session: Session, worktrees: list[gitwt.Worktree]) -> tuple[bool, bool]:
    """Whether a repos: entry covers this repository, and whether a worktrees: entry lists
    one of its worktrees."""
    from llmconf.config.load import folder_identity

    identities = {folder_identity(w.path) for w in worktrees} - {None}
    by_repo = any(folder_identity(r.path) in identities for r in session.config.repos)
    by_worktree = any(folder_identity(d.path) in identities for d in session.config.worktrees)
    return by_repo, by_worktree


def _check_covered(session: Session, worktrees: list[gitwt.Worktree], arg: str) -> str | None:
    """Refuse a repo that no entry of worktrees.yaml covers: the hook would do nothing there.
    A warning when only worktrees: entries do."""
    by_repo, by_worktree = _coverage(session, worktrees)
    if by_repo:
        return None
    if not by_worktree:
        raise LlmconfError(
            f"no repos: or worktrees: entry covers the git repository of '{arg}'; nothing installed",
            session.config.file,
            hint=f"add it under repos: (repos: {{{arg}: PROFILE}}), so each new worktree gets that profile",
        )
    return (
        f"only worktrees listed under worktrees: in {session.config.file.name} get a profile from the hook; "
        "add the repo under repos: to cover every new worktree"
    )


def _uninstall(hooks: Path, ui: Ui) -> int:
    ui.out(done.hook_removed(HOOK, hooks, hooks / CHAINED, hook.remove(hooks), ui.cwd))
    return 0


# --- the hook itself ------------------------------------------------------------------


def _run_hook(args: argparse.Namespace, ui: Ui) -> int:
    """post-checkout PREV NEW FLAG: on a new worktree (PREV is the null commit, FLAG 1, as
    `git worktree add` passes them), apply the declared profile to that worktree alone.

    Always exits 0. git turns a failing post-checkout hook into a failing `git worktree add`,
    though the worktree is made all the same: a script would take the add for failed, and an
    llmconf problem (a missing secret, a typo in a profile) would get in the way of git work
    it has nothing to do with. The warning names the problem; `llmconf plan` shows it in full.
    """
    hook_args = list(args.hook_args)
    if len(hook_args) != 3 or set(hook_args[0]) != {"0"} or hook_args[2] != "1":
        return 0  # a branch or file checkout in an existing worktree: not ours to touch
    try:
        return _apply_new_worktree(args, ui)
    except LlmconfError as e:
        ui.warn(f"the new worktree's backend was not applied: {e.format(ui.cwd)}")
    except Exception as e:  # the hook never fails the git command, whatever happened
        ui.warn(f"the new worktree's backend was not applied: internal error {e.__class__.__name__}")
    return 0


def _apply_new_worktree(args: argparse.Namespace, ui: Ui) -> int:
    from llmconf import git as gitwt
    from llmconf import pipeline
    from llmconf.apply.lock import locked
    from llmconf.apply.state import state_file
    from llmconf.config.load import folder_identity
    from llmconf.session import open_for

    here = folder_identity(ui.cwd)
    with locked(state_file().parent):
        session = open_for(getattr(args, "config_dir", None), ui.cwd)
        matching = [d for d in session.config.worktrees if here is not None and folder_identity(d.path) == here]
        decls = tuple(sorted(matching, key=lambda d: d.error is not None))[:1]  # a working entry first
        if not decls:
            # Silent in a repository the config does not cover at all: the hook may run from
            # a folder other repositories share, and it is none of llmconf's business there.
            listed = gitwt.worktree_lists([ui.cwd])[0]
            if not isinstance(listed, gitwt.GitError) and any(_coverage(session, listed)):
                ui.warn(f"{ui.cwd} is not declared in {session.config.file}; no backend applied")
            return 0
        plan, _ = pipeline.plan(session, decls)
        if plan.errors:  # one line, the first problem; 'llmconf plan' shows them all
            raise plan.errors[0]
        pipeline.refuse_if_strict(session, pipeline.show(session, decls, plan, ui, strict=False), strict=False)
        return pipeline.confirm_and_apply(session, plan, True, ui)
