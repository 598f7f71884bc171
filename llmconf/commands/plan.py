"""llmconf plan: what apply would change, without writing anything."""

from __future__ import annotations

import argparse

from llmconf import pipeline
from llmconf.console import Ui
from llmconf.session import open_for


def run(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    decls = session.select(args.worktrees, ui.cwd)
    plan, planner = pipeline.plan(session, decls)
    strict = getattr(args, "strict", False) or session.config.strict
    warnings = pipeline.show(session, decls, plan, ui, strict, as_json=args.json)
    for error in plan.errors_once():
        ui.error(error)
    if plan.errors or (strict and warnings):
        return 1
    if args.out:
        from llmconf.plan import saved
        from llmconf.views import done

        out = ui.cwd / args.out
        saved.save(out, planner, plan, args.worktrees)
        ui.out(done.plan_saved(out, args.out, ui.cwd))
    return 2 if args.detailed_exitcode and plan.changed else 0
