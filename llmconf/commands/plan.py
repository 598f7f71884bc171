"""llmconf plan: what apply would change, without writing anything."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from llmconf.engine import Workspace, open_workspace
from llmconf.errors import LlmconfError, display_path
from llmconf.config.load import WorktreeDecl
from llmconf.plan.model import Plan
from llmconf.console import Ui
from llmconf.views.plan import plan_json, plan_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    ws = open_workspace(getattr(args, "config_dir", None), ui.cwd)
    decls = ws.select(args.worktrees, ui.cwd)
    plan = ws.plan(decls)
    strict = getattr(args, "strict", False)
    warnings = show(ws, decls, plan, ui, strict, as_json=args.json)
    for error in plan.errors:
        ui.error(error)
    if plan.errors or (strict and warnings):
        return 1
    if args.out:
        from llmconf.plan import saved as savedplan

        out = ui.cwd / args.out
        savedplan.save(out, ws, plan, args.worktrees)
        ui.out(f"Saved this plan to {display_path(out, ui.cwd)}. Apply exactly it with: llmconf apply {args.out}")
    return 2 if args.detailed_exitcode and plan.changed else 0


def show(
    ws: Workspace, decls: Sequence[WorktreeDecl], plan: Plan, ui: Ui, strict: bool, as_json: bool = False
) -> list[LlmconfError]:
    """Print a plan with what each switch costs, then its lint; return the lint warnings.
    Shared by plan and apply, so that apply shows exactly what plan would."""
    from llmconf.catalog import catalog
    from llmconf.catalog import lint

    known = catalog.load(ws.config.dir)
    warnings = lint.for_plan(decls, plan, ws.profiles, known)
    costs = None
    if plan.changed:  # a no-change plan, the common case, prices nothing (and imports no Decimal)
        from llmconf.catalog import cost

        costs = cost.plan_changes(plan, known)
    ui.out(plan_json(plan, warnings, costs) if as_json else plan_text(plan, ui.cwd, ui.color, costs))
    for warning in ws.secrets.warnings:
        ui.warn(warning)
    lint.show(warnings, ui, strict)
    return warnings
