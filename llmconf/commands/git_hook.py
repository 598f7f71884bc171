"""llmconf git-hook install|uninstall REPO: a post-checkout hook that applies the declared
profile to each worktree `git worktree add` makes (Claude Code does not copy
.claude/settings.local.json into it). `git-hook run` is what the installed hook calls.

A post-checkout hook already there is never replaced: it moves aside to
`post-checkout.llmconf-chained`, and ours runs it first, with the same arguments, and exits
with its status. `uninstall` moves it back.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from llmconf.errors import LlmconfError, display_path
from llmconf.ui import Ui

if TYPE_CHECKING:
    from llmconf.engine import Workspace

HOOK = "post-checkout"
CHAINED = f"{HOOK}.llmconf-chained"
MARK = "# llmconf git-hook: post-checkout"
_REPO_HINT = "name a folder of the git repository (any of its worktrees)"

_SCRIPT = """\
#!/bin/sh
{mark}
# Installed by 'llmconf git-hook install'; 'llmconf git-hook uninstall' removes it{restores}.
# On 'git worktree add' it applies the profile that {config} declares for the new worktree.
# It never fails the git command: an llmconf problem is a one-line warning.
status=0
chained={chained}
if [ -x "$chained" ]; then
  "$chained" "$@" || status=$?
fi
{python} -m llmconf -C {config_dir} git-hook run "$@" || :
exit $status
"""


def run(args: argparse.Namespace, ui: Ui) -> int:
    if args.hook_command == "run":
        return _run_hook(args, ui)
    repo = _repo(args.repo, ui.cwd)
    hooks = _hooks_dir(repo, args.repo)
    if args.hook_command == "install":
        return _install(args, repo, hooks, ui)
    return _uninstall(hooks, ui)


def _repo(arg: str, cwd: Path) -> Path:
    from llmconf.load import user_path

    repo = user_path(cwd, arg)
    if not repo.is_dir():
        raise LlmconfError(f"'{arg}' is not a folder", hint=_REPO_HINT)
    return repo


def _hooks_dir(repo: Path, arg: str) -> Path:
    from llmconf import gitwt

    try:
        return gitwt.hooks_dir(repo)
    except gitwt.GitError as e:
        if e.missing:
            raise LlmconfError(f"git-hook needs git: {e.message}", hint="install git") from None
        if "not a git repository" in e.message:
            raise LlmconfError(f"'{arg}' is not in a git repository", hint=_REPO_HINT) from None
        raise LlmconfError(f"'{arg}': git cannot read it: {e.message}", hint=_REPO_HINT) from None


def _is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return MARK in f.read(4096)
    except OSError:
        return False


def _install(args: argparse.Namespace, repo: Path, hooks: Path, ui: Ui) -> int:
    from llmconf import fs
    from llmconf.engine import open_workspace

    ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
    _check_covered(ws, repo, args.repo, ui)
    hook, chained = hooks / HOOK, hooks / CHAINED
    ours = _is_ours(hook)
    if not ours and (hook.exists() or hook.is_symlink()):
        if chained.exists() or chained.is_symlink():
            raise LlmconfError(
                f"both {HOOK} and {CHAINED} exist, and {HOOK} is not llmconf's; nothing changed",
                hooks,
                hint=f"merge them into {HOOK} (or remove {CHAINED}), then install again",
            )
        os.replace(hook, chained)  # same folder: a rename, mode and content kept
        ui.out(f"Kept the existing {HOOK} hook as {display_path(chained, ui.cwd)}; it still runs first.")
    hooks.mkdir(parents=True, exist_ok=True)
    text = _SCRIPT.format(
        mark=MARK,
        restores=f" and puts back {CHAINED}" if chained.exists() else "",
        config=str(ws.config.file).replace("\n", " "),
        chained=shlex.quote(str(chained)),
        python=shlex.quote(sys.executable),
        config_dir=shlex.quote(str(ws.config.dir)),
    )
    fs.write_atomic(hook, text, mode=0o755)
    verb = "Updated" if ours else "Installed"
    ui.out(
        f"{verb} the {HOOK} hook in {display_path(hooks, ui.cwd)}: 'git worktree add' now applies "
        f"the profile {display_path(ws.config.file, ui.cwd)} declares."
    )
    return 0


def _check_covered(ws: Workspace, repo: Path, arg: str, ui: Ui) -> None:
    """Refuse a repo that no entry of worktrees.yaml covers: the hook would do nothing there."""
    from llmconf import gitwt
    from llmconf.load import folder_identity

    listed = gitwt.worktree_lists([repo])[0]
    if isinstance(listed, gitwt.GitError):
        raise LlmconfError(f"'{arg}': git cannot list its worktrees: {listed.message}")
    identities = {folder_identity(w.path) for w in listed} - {None}
    name = ws.config.file.name
    if any(folder_identity(r.path) in identities for r in ws.config.repos):
        return
    if not any(folder_identity(d.path) in identities for d in ws.config.worktrees):
        raise LlmconfError(
            f"no repos: or worktrees: entry covers the git repository of '{arg}'; nothing installed",
            ws.config.file,
            hint=f"add it under repos: (repos: {{{arg}: PROFILE}}), so each new worktree gets that profile",
        )
    ui.warn(
        f"only worktrees listed under worktrees: in {name} get a profile from the hook; "
        "add the repo under repos: to cover every new worktree"
    )


def _uninstall(hooks: Path, ui: Ui) -> int:
    hook, chained = hooks / HOOK, hooks / CHAINED
    if not _is_ours(hook):
        other = f" (its {HOOK} is not llmconf's: left as it is)" if hook.exists() else ""
        ui.out(f"No llmconf hook in {display_path(hooks, ui.cwd)}{other}; nothing to do.")
        return 0
    if chained.exists() or chained.is_symlink():
        os.replace(chained, hook)
        ui.out(f"Removed llmconf's {HOOK} hook and put back the one it had kept.")
    else:
        hook.unlink()
        ui.out(f"Removed llmconf's {HOOK} hook from {display_path(hooks, ui.cwd)}.")
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
    from llmconf import gitwt
    from llmconf.commands.apply import confirm_and_apply
    from llmconf.commands.plan import show
    from llmconf.engine import open_workspace
    from llmconf.load import folder_identity
    from llmconf.lock import locked
    from llmconf.state import state_file

    # git runs the hook in the new worktree with variables that tie git to it (GIT_INDEX_FILE,
    # ...); llmconf's own git calls name their repository themselves.
    for name in gitwt.LOCAL_ENV_VARS:
        os.environ.pop(name, None)
    here = folder_identity(ui.cwd)
    with locked(state_file().parent):
        ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
        decls = tuple(d for d in ws.config.worktrees if here is not None and folder_identity(d.path) == here)[:1]
        if not decls:
            ui.warn(f"{ui.cwd} is not covered by {ws.config.file}; no backend applied")
            return 0
        plan = ws.plan(decls)
        if plan.errors:  # one line, the first problem; 'llmconf plan' shows them all
            raise plan.errors[0]
        show(ws, decls, plan, ui, strict=False)
        return confirm_and_apply(ws, plan, True, ui)
