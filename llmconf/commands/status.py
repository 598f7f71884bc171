"""llmconf status: one row per worktree, what it is declared to use and whether it is in sync."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from llmconf import pipeline
from llmconf.config.profiles import origins
from llmconf.console import Ui
from llmconf.plan.model import Plan
from llmconf.session import open_for
from llmconf.views.status import status_json, status_rows, status_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    from llmconf.catalog import catalog

    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    plan, planner = pipeline.plan(session, session.select(args.worktrees, ui.cwd))
    known = catalog.load(session.config.dir)
    effective = planner.target.effective(plan, os.environ)
    found = origins(session.config, session.profiles, [wp.profile for wp in plan.local])
    rows = status_rows(plan, known, effective, _agents_effective(plan))
    ui.out(status_json(rows, found) if args.json else status_text(rows, found, None if args.wide else ui.width(), ui.cwd))
    for warning in session.secrets.warnings:
        ui.warn(warning)
    for error in plan.errors_once():
        ui.error(error)
    return 1 if plan.errors else 0


def _agents_effective(plan: Plan) -> dict[Path, str | None]:
    """For each other agent's project file, what beats it (None: nothing llmconf knows of)."""
    from llmconf.targets.base import agent_target

    return {wp.settings: agent_target(wp.agent).effective(wp.worktree, os.environ) for wp in plan.worktrees if wp.role == "agent"}
