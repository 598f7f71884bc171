"""llmconf plan: what apply would change, without writing anything."""

from __future__ import annotations

import argparse

from llmconf.engine import open_workspace
from llmconf.errors import display_path
from llmconf.ui import Ui
from llmconf.view import plan_json, plan_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
    plan = ws.plan(ws.select(args.worktrees, ui.cwd))
    ui.out(plan_json(plan) if args.json else plan_text(plan, ui.cwd, ui.color))
    for warning in ws.secrets.warnings:
        ui.warn(warning)
    for error in plan.errors:
        ui.error(error)
    if plan.errors:
        return 1
    if args.out:
        from llmconf import savedplan

        out = ui.cwd / args.out
        savedplan.save(out, ws, plan, args.worktrees)
        ui.out(f"Saved this plan to {display_path(out, ui.cwd)}. Apply exactly it with: llmconf apply {args.out}")
    return 2 if args.detailed_exitcode and plan.changed else 0
