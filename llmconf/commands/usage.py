"""llmconf usage: what each worktree really spent, read from Claude Code's transcripts."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from llmconf.console import Ui
from llmconf.errors import LlmconfError

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from llmconf.catalog.catalog import Catalog
    from llmconf.config.load import WorktreeDecl
    from llmconf.session import Session

_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def parse_day(option: str, text: str) -> str:
    """YYYY-MM-DD (or ccusage's YYYYMMDD) as YYYY-MM-DD; anything else is an error."""
    import datetime

    m = _DATE.fullmatch(text.strip())
    try:
        if m is None:
            raise ValueError
        return datetime.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise LlmconfError(f"{option}: '{text}' is not a date", hint="write it as YYYY-MM-DD, e.g. 2026-01-31") from None


def run(args: argparse.Namespace, ui: Ui) -> int:
    from llmconf.catalog import catalog
    from llmconf.catalog import usage as spend
    from llmconf.config.discover import resolve
    from llmconf.targets.claude_code import transcripts

    since = parse_day("--since", args.since) if args.since else None
    until = parse_day("--until", args.until) if args.until else None
    if since and until and since > until:
        raise LlmconfError(f"--since {since} is after --until {until}", hint="swap them")
    folder = resolve(getattr(args, "config_dir", None), ui.cwd, required=bool(args.worktrees or args.what_if), must_exist=True)
    session = None
    decls: Sequence[WorktreeDecl] = ()
    only = None
    if folder is not None and os.path.lexists(folder / "worktrees.yaml"):
        from llmconf.session import open_session

        session = open_session(folder)
        decls = session.config.worktrees
        if args.worktrees:
            chosen = session.select(args.worktrees, ui.cwd)
            only = {d.name for d in chosen}
    elif args.worktrees or args.what_if:
        raise LlmconfError("file not found", (folder or ui.cwd) / "worktrees.yaml", hint="run 'llmconf init' or pass -C DIR")
    roots = transcripts.roots()
    scanned = transcripts.scan(roots)
    known = catalog.load(folder)
    worktrees = [spend.Worktree(d.name, _folders(d.path)) for d in decls]
    located = spend.locate(worktrees)
    memo: dict[str, str | None] = {}
    used = {spend.worktree_of(cwd, located, memo) for cwd, _, _, _ in scanned.rows}
    slot_models, gateways = _slot_models(session, [d for d in decls if d.name in used], known)
    what_if = {}
    if args.what_if:
        from llmconf.catalog import cost

        assert session is not None
        what_if = {name: cost.profile_slots(name, session.profiles, known) for name in args.what_if}
    result = spend.report(
        scanned.rows, worktrees, args.by, known, slot_models, _claude_slots(known), what_if, only, since, until, gateways
    )
    from llmconf.views.usage import usage_json, usage_text

    if args.json:
        ui.out(usage_json(result, scanned, roots))
    else:
        ui.out(usage_text(result, scanned, roots))
    return 0


def _folders(path: Path) -> tuple[str, ...]:
    """A worktree's folder as declared and as Claude Code records it (symlinks resolved)."""
    declared = os.path.normpath(str(path))
    real = os.path.realpath(declared)
    return (declared,) if real == declared else (declared, real)


def _claude_slots(known: Catalog) -> dict[str, set[str]]:
    """The models Claude Code sends per slot when nothing maps it: the catalog's defaults, by
    their OpenRouter and Anthropic IDs."""
    from llmconf.targets.claude_code import settings as target

    out: dict[str, set[str]] = {}
    for slot in target.SLOTS:
        model = known.claude_default(slot)
        if model is not None:
            out[slot] = {model.id, *([model.anthropic_id] if model.anthropic_id else [])}
    return out


def _slot_models(
    session: Session | None, decls: Sequence[WorktreeDecl], known: Catalog
) -> tuple[Mapping[str, Mapping[str, Collection[str]]], set[str]]:
    """Per worktree, the models each slot sends (its profile's, else Claude Code's own), and
    the worktrees whose profile maps some slot. A worktree that does not render has none."""
    if session is None or not decls:
        return {}, set()
    from llmconf import pipeline
    from llmconf.apply import backup
    from llmconf.render import is_sensitive
    from llmconf.targets.claude_code import settings as target

    plan, _ = pipeline.plan(session, decls)
    defaults = _claude_slots(known)
    out: dict[str, dict[str, set[str]]] = {}
    gateways = set()
    for wp in plan.local:
        if wp.error is not None and not wp.desired:
            continue
        slots: dict[str, set[str]] = {}
        for slot in target.SLOTS:
            value = wp.desired.get((target.ENV, target.slot_var(slot)))
            if value is None:
                slots[slot] = defaults.get(slot, set())
            elif isinstance(value, str) and not is_sensitive(value):
                slots[slot] = {value}
                gateways.add(wp.name)
        out[wp.name] = slots
    # What each slot sent before the last switch: the earlier versions of the worktree's files
    # that apply kept. A model a slot held then maps back to that slot, unless a slot holds it now.
    files = {str(wp.settings): wp.name for wp in plan.worktrees if wp.name in out}
    for path, texts in backup.earlier(session.state.dir, set(files)).items():
        name = files[path]
        for text in texts:
            for slot, model in _slot_vars(text).items():
                if not any(model in held for held in out[name].values()):
                    out[name].setdefault(slot, set()).add(model)
                    gateways.add(name)
    return out, gateways


def _slot_vars(text: str) -> dict[str, str]:
    """The model each slot variable of a settings file's text names (none, if it is not JSON)."""
    from llmconf.targets.claude_code import settings as target

    try:
        env = json.loads(text).get("env")
    except (ValueError, AttributeError, RecursionError):
        return {}
    if not isinstance(env, dict):
        return {}
    found = {slot: env.get(target.slot_var(slot)) for slot in target.SLOTS}
    return {slot: model for slot, model in found.items() if isinstance(model, str) and model}
