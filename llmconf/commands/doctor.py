"""llmconf doctor [WORKTREE...] [--online] [--json]: what Claude Code will really use, and why not."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict

from llmconf.targets.claude_code import effective as doctor

from llmconf.targets.claude_code import settings as target
from llmconf import pipeline
from llmconf.errors import display_path
from llmconf.targets.claude_code.layers import Overridden
from llmconf.console import Ui
from llmconf.session import open_for
from llmconf.views.plan import JSON_FORMAT_VERSION


def run(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    plan, planner = pipeline.plan(session, session.select(args.worktrees, ui.cwd))
    sessions = doctor.running_sessions([wp.worktree for wp in plan.local])
    probed: dict[str, str | None] = {}
    shared: dict[object, object] = {}  # user and managed settings: found and read once, not per worktree
    report = []
    for wp in plan.local:
        findings: list[doctor.Finding] = []
        if wp.error is not None and not isinstance(wp.error, Overridden):  # examine says it, with the value
            findings.append(doctor.Finding("error", wp.error.message, wp.error.path, wp.error.hint))
        if wp.changes and wp.error is None:
            findings.append(doctor.Finding("warning", "not applied yet: the file differs from the profile", wp.settings, "run 'llmconf apply'"))
        sent = plan.delivery_of(wp)
        if sent is not None and sent.error is not None:
            findings.append(doctor.Finding("error", sent.error.message, sent.error.path, sent.error.hint))
        elif sent is not None and sent.changes:
            findings.append(
                doctor.Finding("warning", "not applied yet: its --settings file differs from the profile", sent.settings, "run 'llmconf apply'")
            )
        if wp.folder_missing:
            effective, found = doctor.examine(wp.desired, [], os.environ)
        else:
            plain, delivered, plain_found, found = doctor.effective_of(plan, wp, shared, os.environ)
            effective = delivered or plain
            if delivered is None:
                found = plain_found
            else:  # and what a plain `claude`, with llmconf not in the way, does
                found = found + _plain(plain_found, wp.delivery.root_local if wp.delivery else None)
        findings += found
        local = doctor.read_layer("local", wp.settings, wp.before_text) if wp.before_text is not None else None
        if local is not None and local.doc is not None:
            leak = doctor.not_ignored_with_a_key(wp.worktree, wp.settings, local.doc)
            if leak is not None:
                findings.append(leak)
        try:
            changed_at = wp.settings.stat().st_mtime
        except OSError:
            changed_at = None
        for pid, started in sessions.get(wp.worktree, []):
            if changed_at is not None and started < changed_at:
                findings.append(
                    doctor.Finding(
                        "warning",
                        f"claude (pid {pid}) started before the settings last changed and still uses the old ones",
                        wp.settings,
                        "restart that Claude Code session",
                    )
                )
        if args.online and effective.base_url:
            if effective.base_url not in probed:
                probed[effective.base_url] = doctor.probe(effective.base_url)
            if probed[effective.base_url] is not None:
                findings.append(
                    doctor.Finding("warning", f"gateway {effective.base_url} does not answer: {probed[effective.base_url]}", None)
                )
        report.append((wp, effective, findings))

    claude = planner.claude()
    errors = sum(f.level == "error" for _, _, fs in report for f in fs)
    warnings = sum(f.level == "warning" for _, _, fs in report for f in fs)
    if args.json:
        doc = {
            "format_version": JSON_FORMAT_VERSION,
            "claude_code": {"path": str(claude.path) if claude.path else None, "version": claude.version, "assumed": claude.assumed},
            "worktrees": [_json(wp, eff, fs) for wp, eff, fs in report],
            "errors": errors,
            "warnings": warnings,
        }
        ui.out(json.dumps(doc, indent=2))
    else:
        for wp, effective, findings in report:
            ui.out(_text(wp, effective, findings, ui))
        if claude.assumed:
            ui.out(f"Claude Code: {claude.why}; assuming {claude.version}'s rules (the newest llmconf knows).")
        else:
            ui.out(f"Claude Code {claude.version}: {display_path(claude.path, ui.cwd) if claude.path else '?'}")
        ui.out(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}.")
    return 1 if errors else 0


def _plain(findings: list[doctor.Finding], root: object) -> list[doctor.Finding]:
    """What a plain `claude` gets wrong in a worktree delivered through --settings: the root
    file's keys in one finding, and every other finding as it is."""
    taken = [f for f in findings if f.path == root and f.key]
    rest = [f for f in findings if f not in taken]
    if not taken:
        return rest
    names = ", ".join(str(f.key) for f in taken)
    level = "error" if any(f.level == "error" for f in taken) else "warning"
    message = (
        f"a plain claude (not started through llmconf) takes {names} from this file, "
        "which Claude Code 2.1.211+ reads first"
    )
    return [doctor.Finding(level, message, taken[0].path, taken[0].hint), *rest]


def _text(wp, effective: doctor.Effective, findings: list[doctor.Finding], ui: Ui) -> str:
    backend = effective.base_url or "anthropic direct"
    lines = [f"# {wp.name} (profile {wp.profile}): {backend}"]
    for slot in target.SLOTS:
        lines.append(f"  {slot:<7} {effective.models[slot] or '-'}")
    default = f"{effective.default_model or '-'} ({effective.default_slot})" if effective.default_slot else str(effective.default_model)
    lines.append(f"  default {default}")
    if wp.delivery is not None and wp.delivery.kind == "settings":
        lines.append(f"  via     llmconf exec / activate: claude --settings (because {wp.delivery.why})")
    for f in findings:
        where = f"{display_path(f.path, ui.cwd)}: " if f.path else ""
        hint = f" ({f.hint})" if f.hint else ""
        lines.append(f"  {f.level}: {where}{f.message}{hint}")
    return "\n".join(lines) + "\n"


def _json(wp, effective: doctor.Effective, findings: list[doctor.Finding]) -> dict:
    return {
        "name": wp.name,
        "profile": wp.profile,
        "effective": {
            "base_url": effective.base_url,
            "models": effective.models,
            "default_slot": effective.default_slot,
            "default_model": effective.default_model,
            "sources": effective.sources or {},
        },
        "delivery": None if wp.delivery is None else {"kind": wp.delivery.kind, "why": wp.delivery.why},
        "findings": [
            {k: v for k, v in {**asdict(f), "path": str(f.path) if f.path else None}.items() if k != "key"}
            for f in findings
        ],
    }
