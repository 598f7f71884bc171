"""llmconf status: one row per worktree, what it is declared to use and whether it is in sync."""

from __future__ import annotations

import argparse

from llmconf.engine import open_workspace
from llmconf.ui import Ui
from llmconf.view import status_json, status_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    from llmconf import catalog

    ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
    plan = ws.plan(ws.select(args.worktrees, ui.cwd))
    known = catalog.load(ws.config.dir)
    ui.out(status_json(plan, known) if args.json else status_text(plan, known))
    for warning in ws.secrets.warnings:
        ui.warn(warning)
    for error in plan.errors:
        ui.error(error)
    return 1 if plan.errors else 0
