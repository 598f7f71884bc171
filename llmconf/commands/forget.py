"""llmconf forget WORKTREE...: remove worktrees from worktrees.yaml, even when their folder is gone."""

from __future__ import annotations

import argparse

from llmconf import fs
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.config.load import folder_identity
from llmconf.config.yamledit import replace_entry
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.session import open_for
from llmconf.views import done


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Under the lock: worktrees.yaml is read, edited and written back, as `use` does.
    with locked(state_file().parent):
        session = open_for(getattr(args, "config_dir", None), ui.cwd)
        decls = session.select(args.worktrees, ui.cwd)
        for decl in decls:
            if decl.repo is not None:
                raise LlmconfError(
                    f"'{decl.name}' is one of the worktrees of repos: {decl.repo}; it is not declared on its own",
                    session.config.file,
                    hint=f"remove the repos: entry {decl.repo}, or 'git worktree remove' the worktree",
                )
        text = fs.read_text(session.config.file, fs.CONFIG_LIMIT)
        new = text
        for decl in decls:
            new = replace_entry(new, decl.key, None)
        fs.write_atomic(session.config.file, new)
        for decl in decls:
            ui.out(done.forgotten(decl.key, session.config.file.name, folder_identity(decl.path) is not None))
        return 0
