"""Orchestration: one pipeline from config to plan, and apply as the one step that writes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from llmconf import fs, jsonedit, target
from llmconf.errors import LlmconfError, did_you_mean, display_path
from llmconf.load import Config, Profiles, WorktreeDecl, load_config
from llmconf.plan import FileAction, Plan, WorktreePlan, diff
from llmconf.render import render, resolve_fields
from llmconf.secrets import SecretStore
from llmconf.state import FileRecord, State, load_state


@dataclass
class Workspace:
    """Everything a command needs: the config, its profiles, the secret store and state."""

    config: Config
    profiles: Profiles
    secrets: SecretStore
    state: State

    @classmethod
    def open(cls, config_dir: Path) -> Workspace:
        config = load_config(config_dir)
        return cls(config, Profiles(config.profile_dirs), SecretStore(), load_state())

    def select(self, args: Sequence[str], cwd: Path) -> tuple[WorktreeDecl, ...]:
        """The worktrees named by args (paths or names), or all of them."""
        if not args:
            return self.config.worktrees
        by_path = {w.path: w for w in self.config.worktrees}
        by_name = {w.name: w for w in self.config.worktrees}
        chosen: dict[Path, WorktreeDecl] = {}
        for arg in args:
            as_path = Path(os.path.normpath(cwd / os.path.expanduser(arg)))
            decl = by_path.get(as_path) or by_name.get(arg) or by_name.get(arg.rstrip("/"))
            if decl is None:
                hint = did_you_mean(arg, by_name) or "see 'llmconf status' for the declared worktrees"
                raise LlmconfError(f"'{arg}' is not a worktree declared in {self.config.file.name}", hint=hint)
            chosen[decl.path] = decl
        return tuple(chosen.values())

    def desired(self, decl: WorktreeDecl) -> dict[target.KeyPath, str]:
        """The settings keys a worktree should hold (may raise a located LlmconfError)."""
        return render(decl, resolve_fields(decl, self.profiles), self.config.vars, self.secrets)

    def plan(self, decls: Sequence[WorktreeDecl]) -> Plan:
        """Render each worktree and diff it against its settings file; errors stay per worktree."""
        return Plan(tuple(self._plan_one(d) for d in decls))

    def _plan_one(self, decl: WorktreeDecl) -> WorktreePlan:
        settings = target.settings_path(decl.path)
        base = WorktreePlan(decl.name, decl.path, settings, decl.profile.value)
        try:
            desired = self.desired(decl)
            if not decl.path.is_dir():
                error = decl.profile.error(
                    f"worktree folder {display_path(decl.path)} does not exist", "create it, or remove the entry"
                )
                return replace(base, error=error, folder_missing=True, desired=desired)
            text, current = fs.read_settings(settings)
            record = self.state.record(settings)
            changes, action = diff(desired, current, record.keys, self.state.fingerprint, record.created)
        except LlmconfError as e:
            if e.path is None:
                e.path = settings
            return replace(base, error=e)
        return replace(base, changes=changes, file_action=action, desired=desired, before_text=text)

    def apply(self, plan: Plan) -> list[WorktreePlan]:
        """Write every changed file of a plan; return the ones written. Records what it owns."""
        done = []
        try:
            for wp in plan.changed:
                self._apply_one(wp)
                done.append(wp)
        finally:
            if done:
                self.state.save()
        return done

    def _apply_one(self, wp: WorktreePlan) -> None:
        text, _ = fs.read_settings(wp.settings)
        if text != wp.before_text:
            raise LlmconfError(
                "changed on disk since the plan was made; nothing written to it",
                wp.settings,
                hint="run the command again",
            )
        key = str(wp.settings)
        record = self.state.record(wp.settings)
        if wp.file_action is FileAction.DELETE:
            fs.remove_file(wp.settings)
            self.state.files.pop(key, None)
            return
        fs.write_atomic(wp.settings, jsonedit.edit(text, wp.changes), private=wp.private)
        if wp.desired:
            self.state.files[key] = FileRecord(
                {target.key_name(k): self.state.fingerprint(v) for k, v in wp.desired.items()},
                record.created or text is None,
            )
        else:
            self.state.files.pop(key, None)


def open_workspace(config_dir: str | None, cwd: Path) -> Workspace:
    from llmconf.load import find_config_dir

    folder = (cwd / config_dir) if config_dir else find_config_dir(cwd)
    return Workspace.open(Path(os.path.normpath(folder)))
