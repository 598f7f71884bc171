"""Rollback: the plan that puts back the files the last apply changed, from its backups."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmconf import fs
from llmconf.apply.state import FileRecord, State, record_from_json
from llmconf.config.load import WorktreeDecl
from llmconf.errors import LlmconfError
from llmconf.plan.model import FileAction, Plan, WorktreePlan, document_diff, holds_secret
from llmconf.records import replace
from llmconf.targets.base import agent_target
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def rollback_plan(
    state: State, worktrees: Sequence[WorktreeDecl], only: set[Path] | None = None, to: str | None = None
) -> tuple[Plan, dict[str, FileRecord | None], dict[str, Any], list[LlmconfError]]:
    """The plan that puts back the files of the last apply (or, `to`, of apply `to`, from its
    kept backup): the plan, the records to restore, the journal entries it leaves for later,
    and warnings."""
    from llmconf.apply import backup

    last = state.last_apply if to is None else _from_backup(state, to)
    if state.journal_damaged and to is None:
        raise LlmconfError(
            "cannot roll back: the record of the last apply is damaged",
            state.path,
            hint="the files stay as they are; their old versions are in the backups ('llmconf rollback --list'), "
            "and the next apply starts a new record",
        )
    if not last or not last["files"]:
        raise LlmconfError(
            "nothing to roll back: no apply recorded on this machine",
            hint="'llmconf rollback --list' shows the kept backups; 'llmconf rollback --to ID' restores one",
        )
    journal: dict[str, Any] = last["files"]  # type: ignore[assignment]
    from llmconf.targets.claude_code.layers import delivery_path

    names = {w.path / target.SETTINGS_FILE: w for w in worktrees}
    sent = {delivery_path(w.path): w for w in worktrees}  # their --settings files
    agents = _agent_files(worktrees, journal)  # other agents' files: path -> (worktree, role, agent)
    plans, records, warnings = [], {}, []
    others: dict[Path, list[str]] = {}  # a worktree's Claude Code file -> its other agents' files
    for path, (w, _, _) in agents.items():
        others.setdefault(w.path / target.SETTINGS_FILE, []).append(str(path))
    for settings in sorted(only or ()):
        # A worktree whose other agents' files the apply changed has something to roll back.
        if str(settings) not in journal and not any(f in journal for f in others.get(settings, ())):
            which = "the last apply" if to is None else f"apply {to}"
            warnings.append(LlmconfError(f"{which} did not change it; nothing to roll back", settings, severity="warning"))
    if only is not None:  # a worktree's --settings file goes back with it, and its other agents' files
        only = only | {path for path, w in sent.items() if w.path / target.SETTINGS_FILE in only}
        only = only | {path for path, (w, _, _) in agents.items() if w.path / target.SETTINGS_FILE in only}
    carry = {k: e for k, e in journal.items() if only is not None and Path(k) not in only}
    for key, entry in journal.items():
        settings = Path(key)
        if key in carry:
            continue
        apply_id = str(entry.get("apply", last["id"]))
        decl = names.get(settings) or sent.get(settings)
        load = None  # how the file parses: JSON, unless its agent's target says otherwise
        if settings in agents:
            decl, role, agent = agents[settings]
            load = agent_target(agent).keys_spec.load if role == "agent" else None
            wp = WorktreePlan(
                decl.name, decl.path, settings, decl.profile.value, label=f"back to before apply {apply_id}", role=role, agent=agent
            )
        else:
            wp = WorktreePlan(
                decl.name if decl else settings.parent.parent.name,
                decl.path if decl else settings.parent.parent,
                settings,
                decl.profile.value if decl else "-",
                label=f"back to before apply {apply_id}",
                role="delivery" if settings in sent else "local",
            )
        wanted = backup.load(state.dir, settings, apply_id) if entry["existed"] else None
        if entry["existed"] and wanted is None:
            warnings.append(LlmconfError(f"no backup from apply {apply_id}; left as it is", settings, severity="warning"))
            continue
        restored = record_from_json(entry["record"])
        secret = state.record(settings).secret | (restored.secret if restored else frozenset())
        try:
            wanted_doc = (load or json.loads)(wanted) if wanted is not None else None
        except (ValueError, RecursionError, LlmconfError):
            wanted_doc = None
        if wanted is not None and not isinstance(wanted_doc, dict):
            warnings.append(LlmconfError(f"the backup from apply {apply_id} is damaged; left as it is", settings, severity="warning"))
            continue
        try:
            text, current = fs.read_settings(settings, load)
            changes = document_diff(current, wanted_doc, secret)
        except LlmconfError as e:
            e.path = e.path or settings
            plans.append(replace(wp, error=e))
            continue
        action = (
            FileAction.NONE if not changes
            else FileAction.DELETE if wanted is None
            else FileAction.CREATE if text is None
            else FileAction.UPDATE
        )
        keys = _document_keys(wanted_doc)
        plans.append(
            replace(
                wp,
                changes=changes,
                file_action=action,
                before_text=text,
                replacement=wanted,
                private=holds_secret(keys, secret),
            )
        )
        records[key] = restored
    return Plan(tuple(plans)), records, carry, warnings




def _agent_files(worktrees: Sequence[WorktreeDecl], journal: Mapping[str, Any]) -> dict[Path, tuple[WorktreeDecl, str, str]]:
    """The files of the agents other than Claude Code in the worktrees: each one's project
    file and key file, with its worktree, role and agent. Every agent's, listed or not (the
    apply may have taken one out of `agents:`), once the journal holds such a file."""
    from llmconf.targets.base import OTHER_AGENT_FILES, OTHER_AGENTS, agent_target

    if not any(key.endswith(OTHER_AGENT_FILES) for key in journal):
        return {}
    out: dict[Path, tuple[WorktreeDecl, str, str]] = {}
    for name in OTHER_AGENTS:
        agent = agent_target(name)
        for w in worktrees:
            out.update({path: (w, "agent", name) for path in agent.project_files(w.path)})
            out[agent.key_path(w.path)] = (w, "agent-key", name)
    return out


def _from_backup(state: State, apply_id: str) -> dict[str, Any]:
    """Apply `apply_id` as a journal, from its kept backup: each file back to its text before
    that apply (one it created: deleted), keeping the record llmconf has of it now."""
    from llmconf.apply import backup
    from llmconf.apply.state import record_json

    kept = backup.kept(state.dir, apply_id)
    if kept is None:
        raise LlmconfError(
            f"no backup named '{apply_id}' is kept", state.dir / "backups", hint="'llmconf rollback --list' shows the kept ones"
        )
    return {
        "id": apply_id,
        "files": {
            # A file it created goes, and with it llmconf's record of it.
            key: {"apply": apply_id, "existed": text is not None, "record": record_json(state.files.get(key)) if text is not None else None}
            for key, text in kept.items()
        },
    }


def _document_keys(doc: Mapping[str, Any] | None) -> dict[target.KeyPath, Any]:
    doc = doc or {}
    env = doc.get(target.ENV)
    env = env if isinstance(env, dict) else {}
    return {**{(k,): v for k, v in doc.items() if k != target.ENV}, **{(target.ENV, k): v for k, v in env.items()}}


