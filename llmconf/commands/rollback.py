"""llmconf rollback [WORKTREE...]: put back the files the last apply changed."""

from __future__ import annotations

import argparse

from llmconf import pipeline
from llmconf.apply import backup
from llmconf.apply.lock import locked
from llmconf.apply.rollback import rollback_plan
from llmconf.apply.state import state_file
from llmconf.console import Ui
from llmconf.session import open_for
from llmconf.targets.claude_code import settings as target
from llmconf.views import done
from llmconf.views.plan import plan_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    with locked(state_file().parent):
        session = open_for(getattr(args, "config_dir", None), ui.cwd)
        if args.list:
            ui.out(done.backups(backup.listing(session.state.dir), ui.cwd))
            return 0
        only = {target.settings_path(w.path) for w in session.select(args.worktrees, ui.cwd)} if args.worktrees else None
        plan, records, carry, warnings = rollback_plan(session.state, session.config.worktrees, only, args.to)
        for warning in warnings:
            ui.warn(warning)
        ui.out(plan_text(plan, ui.cwd, ui.color))
        return pipeline.confirm_and_apply(session, plan, args.yes, ui, records=records, carry=carry, verb="Rollback")
