"""llmconf import [PATH...]: adopt the settings files switch scripts left behind (adoption.py).

Like `use`, it asks nothing: it only adds declarations, and plan and apply still gate every
write to a settings file.
"""

from __future__ import annotations

import argparse

from llmconf.adoption import adopt
from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.console import Ui
from llmconf.session import open_for
from llmconf.views.import_ import imported


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Under the lock: worktrees.yaml and the secret store are read, checked and written.
    with locked(state_file().parent):
        session = open_for(getattr(args, "config_dir", None), ui.cwd)
        done = adopt(session, args.paths or ["."], args.key_file, ui, args.dry_run)
    ui.out(imported(done.skipped, done.decls, done.stored, done.left_out, session.secrets.path, args.dry_run, ui.cwd, done.agents))
    return 0
