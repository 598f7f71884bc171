"""llmconf doctor [WORKTREE...] [--online] [--json]: what Claude Code will really use, and why not."""

from __future__ import annotations

import argparse
import os

from llmconf import pipeline
from llmconf.console import Ui
from llmconf.session import open_for
from llmconf.targets.claude_code import effective
from llmconf.views.doctor import counts, doctor_json, doctor_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    plan, planner = pipeline.plan(session, session.select(args.worktrees, ui.cwd))
    sessions = effective.running_sessions([wp.worktree for wp in plan.local])
    probed: dict[str, str | None] | None = {} if args.online else None
    shared: dict[object, object] = {}  # user and managed settings: found and read once, not per worktree
    report = [(wp, *effective.diagnose(plan, wp, shared, os.environ, sessions, probed)) for wp in plan.local]
    claude = planner.claude()
    ui.out(doctor_json(report, claude) if args.json else doctor_text(report, claude, ui.cwd))
    errors, _ = counts(report)
    return 1 if errors else 0
