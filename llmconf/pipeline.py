"""The steps commands share, in the order they run: plan, show, confirm, apply.

plan, apply, use --apply, rollback and the git hook each take the steps they need from here,
so that apply shows exactly what plan would, and no command imports another.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmconf.apply.state import FileRecord
from llmconf.config.load import WorktreeDecl
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.plan.model import Action, Plan
from llmconf.plan.planner import Planner
from llmconf.session import Session
from llmconf.views.plan import plan_json, plan_text

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def plan(session: Session, decls: Sequence[WorktreeDecl]) -> tuple[Plan, Planner]:
    """Plan these worktrees, then keep the config cache for the next run (when it was sound)."""
    planner = Planner(session)
    result = planner.plan(decls)
    session.keep_cache(result)
    return result, planner


def show(
    session: Session, decls: Sequence[WorktreeDecl], plan: Plan, ui: Ui, strict: bool, as_json: bool = False
) -> list[LlmconfError]:
    """Print a plan with what each switch costs, then its lint (as errors when `strict`, or
    `strict: true` in worktrees.yaml); return the lint warnings."""
    from llmconf.catalog import catalog, lint

    known = catalog.load(session.config.dir)
    warnings = lint.for_plan(decls, plan, session.profiles, known)
    costs = None
    if plan.changed:  # a no-change plan, the common case, prices nothing (and imports no Decimal)
        from llmconf.catalog import cost

        costs = cost.plan_changes(plan, known)
    ui.out(plan_json(plan, warnings, costs) if as_json else plan_text(plan, ui.cwd, ui.color, costs))
    for warning in session.secrets.warnings:
        ui.warn(warning)
    lint.show(warnings, ui, strict or session.config.strict)
    return warnings


def apply_worktrees(session: Session, names: Sequence[str], yes: bool, ui: Ui, strict: bool = False) -> int:
    """Plan the named worktrees, show the plan, then write it (apply, use --apply)."""
    decls = session.select(names, ui.cwd)
    result, _ = plan(session, decls)
    refuse_if_strict(session, show(session, decls, result, ui, strict), strict)
    return confirm_and_apply(session, result, yes, ui)


def refuse_if_strict(session: Session, warnings: list[LlmconfError], strict: bool) -> None:
    """Raise when lint warned and --strict (or the config's `strict: true`) makes that an error."""
    if warnings and (strict or session.config.strict):
        n = len(warnings)
        why = "--strict" if strict else f"strict: true in {session.config.file.name}"
        raise LlmconfError(
            f"{why}: {n} lint warning{'s' if n != 1 else ''}; nothing written",
            hint="fix them, or accept each at its line with '# noqa: CODE reason'",
        )


def confirm_and_apply(
    session: Session,
    plan: Plan,
    yes: bool,
    ui: Ui,
    records: dict[str, FileRecord | None] | None = None,
    carry: dict[str, Any] | None = None,
    verb: str = "Apply",
) -> int:
    """Refuse on errors, ask for 'yes' unless told, write, and say what was done."""
    from llmconf.apply import write

    write.clean_after_crash(session.state)
    if plan.errors:
        for error in plan.errors_once():
            ui.error(error)
        ui.stderr.write("llmconf: nothing written: fix the errors above, or name the other worktrees\n")
        return 1
    if not plan.changed:
        _remember(session, plan)
        return 0
    if not yes:
        if not ui.interactive():
            raise LlmconfError("refusing to apply without confirmation: stdin is not a terminal", hint="pass --yes")
        if not ui.confirm("Do you want to apply these changes?"):
            ui.out(f"{verb} cancelled; nothing written.")
            return 1
    written = write.write(plan, session.state, records, carry)
    _remember(session, plan)
    files = len(written)
    loose = sum(1 for wp in written if wp.loose_mode is not None)
    modes = f", {loose} file mode{'s' if loose != 1 else ''} made 0600" if loose else ""
    ui.out(
        f"{verb} complete: {plan.count(Action.ADD)} added, {plan.count(Action.CHANGE)} changed, "
        f"{plan.count(Action.REMOVE)} removed{modes} (in {files} file{'s' if files != 1 else ''})."
    )
    # Claude Code reads its settings at start: a session already running keeps the old ones.
    from llmconf.targets.claude_code.sessions import running_sessions

    running = running_sessions([wp.worktree for wp in written])
    for wp in written:
        if wp.worktree in running:
            pids = ", ".join(str(pid) for pid, _ in running[wp.worktree])
            ui.warn(f"{wp.name}: claude is running there (pid {pids}) on the old settings; restart it")
    return 0


def _remember(session: Session, plan: Plan) -> None:
    """So that a command run inside these worktrees finds this config with no -C."""
    from llmconf.config import discover

    discover.remember(session.config.dir, [wp.worktree for wp in plan.local])
