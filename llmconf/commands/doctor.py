"""llmconf doctor [WORKTREE...] [--online] [--timeout S] [--json]: what Claude Code will really use, and why not."""

from __future__ import annotations

import argparse
import os

from llmconf import pipeline
from llmconf.console import Ui
from llmconf.session import open_for
from llmconf.targets.claude_code import effective
from llmconf.targets.claude_code.sessions import running_sessions
from llmconf.views.doctor import AgentReport, Report, counts, doctor_json, doctor_text

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from llmconf.plan.planner import Planner
    from llmconf.session import Session
    from llmconf.targets.claude_code.live import Report as Live


def run(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    plan, planner = pipeline.plan(session, session.select(args.worktrees, ui.cwd))
    sessions = running_sessions([wp.worktree for wp in plan.local])
    shared: dict[object, object] = {}  # user and managed settings: found and read once, not per worktree
    report = [(wp, *effective.diagnose(plan, wp, shared, os.environ, sessions)) for wp in plan.local]
    others: AgentReport = []
    if any(wp.role == "agent" for wp in plan.worktrees):  # agents: beyond Claude Code
        from llmconf.targets import agents

        others = [(wp, agents.key_plan(plan, wp), agents.diagnose(plan, wp, os.environ)) for wp in plan.worktrees if wp.role == "agent"]
    claude = planner.claude()
    live = _online(session, planner, report, ui, args) if args.online else None
    ui.out(doctor_json(report, claude, live, others) if args.json else doctor_text(report, claude, ui.cwd, live, others))
    errors, _ = counts(report, others)
    return 1 if errors or (live is not None and live.count("failed")) else 0


def _online(session: Session, planner: Planner, report: Report, ui: Ui, args: argparse.Namespace) -> Live:
    """Each slot tried on the wire; what that sends and costs is said first (JSON carries it instead)."""
    from llmconf.catalog import catalog
    from llmconf.errors import LlmconfError
    from llmconf.targets.claude_code import live
    from llmconf.views.doctor import live_notice

    try:
        known: catalog.Catalog | None = catalog.load(session.config.dir)
    except LlmconfError:  # plan and validate report a broken catalog.yaml; here nothing is priced
        known = None
    names = live.Names(planner.reads, session.secrets)
    slots = {wp.worktree: live.slots_of(wp.worktree, eff, names, wp.folder_missing) for wp, eff, _ in report}
    if not args.json:
        ui.out(live_notice(live.estimate([s for found in slots.values() for s in found], known), args.timeout))
    return live.run(slots, known, args.timeout)
