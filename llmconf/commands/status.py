"""llmconf status: one row per worktree, what it is declared to use and whether it is in sync."""

from __future__ import annotations

import argparse

from llmconf import pipeline
from llmconf.console import Ui
from llmconf.session import Session, open_for
from llmconf.views.plan import ProfileOrigin, status_json, status_text


def _effective(plan):  # type: ignore[no-untyped-def]
    """Each worktree as Claude Code will see it, after merging its settings layers: as a plain
    `claude` runs there, and (for a --settings delivery) as `llmconf exec`/`activate` runs it."""
    import os

    from llmconf.targets.claude_code import effective as doctor

    shared: dict[object, object] = {}  # user and managed settings: found and read once, not per worktree
    out = {}
    for wp in plan.local:
        if wp.folder_missing:
            continue
        out[wp.worktree] = doctor.effective_of(plan, wp, shared, os.environ)
    return out


def _origins(session: Session, names: list[str]) -> dict[str, ProfileOrigin]:
    """Where each profile in use, and each profile it extends, came from."""
    from llmconf.errors import LlmconfError
    from llmconf.config.load import PROFILES_DIR, Sourced, shipped_profiles_dir

    local, shipped = (session.config.dir / PROFILES_DIR).resolve(), shipped_profiles_dir().resolve()
    out: dict[str, ProfileOrigin] = {}
    todo = list(dict.fromkeys(names))
    while todo:
        name = todo.pop(0)
        if name in out:
            continue
        try:
            profile, path = session.profiles.load(name, Sourced(name, session.config.file, ()))
        except LlmconfError:
            continue  # the plan reports it, at the line that names it
        folder = path.parent.resolve()
        source = "local" if folder == local else "shipped" if folder == shipped else "shared"
        out[name] = ProfileOrigin(path, source, profile.extends)
        if profile.extends:
            todo.append(profile.extends)
    return dict(sorted(out.items()))


def run(args: argparse.Namespace, ui: Ui) -> int:
    from llmconf.catalog import catalog

    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    plan, _ = pipeline.plan(session, session.select(args.worktrees, ui.cwd))
    known = catalog.load(session.config.dir)
    effective = _effective(plan)
    origins = _origins(session, [wp.profile for wp in plan.local])
    view = status_json if args.json else status_text
    ui.out(view(plan, known, effective, origins))
    for warning in session.secrets.warnings:
        ui.warn(warning)
    for error in plan.errors:
        ui.error(error)
    return 1 if plan.errors else 0
