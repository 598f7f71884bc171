"""Claude Code as a target: the one object the planner, status and doctor ask about it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmconf import fs
from llmconf.errors import LlmconfError
from llmconf.plan.model import ABSENT, Delivery, WorktreePlan, get_key
from llmconf.targets.base import Deliveries, KeyPath, Renders
from llmconf.targets.claude_code import layers
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.config.load import WorktreeDecl
    from llmconf.plan.model import Plan
    from llmconf.targets.claude_code.client import Client


class ClaudeCode:
    """Claude Code: its settings file, its keys, its layers and deliveries, as the client
    that will run decides them (found once, on first need)."""

    name = "claude_code"
    backend_keys = target.BACKEND_KEYS

    def __init__(self, configured: Path | None = None) -> None:
        self._configured = configured
        self._client: Client | None = None

    def client(self) -> Client:
        """The Claude Code a plain `claude` runs here."""
        if self._client is None:
            from llmconf.targets.claude_code import client

            self._client = client.find(self._configured)
        return self._client

    def settings_path(self, worktree: Path) -> Path:
        return target.settings_path(worktree)

    def keys(self, fields: dict[str, str], models: dict[str, str], env: dict[str, str]) -> dict[KeyPath, str]:
        return target.to_keys(fields, models, env)

    def own_file(self, desired: Mapping[KeyPath, Any]) -> Mapping[KeyPath, Any]:
        """The keys a worktree's own file holds: all but those Claude Code reads only from
        --settings, user and managed settings (its --settings delivery carries those)."""
        if target.FLAG_ONLY_KEYS.isdisjoint(desired):
            return desired
        return {k: v for k, v in desired.items() if k not in target.FLAG_ONLY_KEYS}

    def deliveries(self, plan: Renders, declared: tuple[WorktreeDecl, ...], owned: Mapping[str, Any]) -> Deliveries:
        return _Deliveries(self, plan, declared, owned)

    def effective(self, plan: Plan, shell: Mapping[str, str]) -> Mapping[Path, Any]:
        from llmconf.targets.claude_code.effective import every_effective

        return every_effective(plan, shell)


class _Deliveries:
    """One plan's delivery decisions: the client's rules, the repository roots walked, the keys
    each root's local file will hold, and the managed settings (each found once per plan)."""

    def __init__(self, claude: ClaudeCode, plan: Renders, declared: tuple[WorktreeDecl, ...], owned: Mapping[str, Any]) -> None:
        self.plan = plan
        self.rules = claude.client().rules
        self.home = Path.home()
        self.folder = os.fspath(layers.deliveries_dir())
        #: Whether the state records any --settings file (one may have to be deleted).
        self.recorded = any(name.startswith(self.folder + os.sep) for name in owned)
        self.owned = owned
        self.walked: dict[str, str | None] = {}  # repository roots by folder
        self.roots: dict[Path, dict[target.KeyPath, Any]] = {}  # what each root's file will hold
        self.declared = {os.path.normpath(d.path): d for d in declared}
        self.managed_path = target.common_layer_paths()["managed"]
        try:
            _, self.managed = fs.read_settings(self.managed_path)
        except LlmconfError:
            self.managed = None  # doctor says why Claude Code ignores it

    def of(self, decl: WorktreeDecl, desired: Mapping[target.KeyPath, Any]) -> Delivery:
        """Its own file, or --settings where the repository root's file would win with another
        value, or where a key is one Claude Code reads from no checkout's file."""
        how = layers.delivery(decl.path, self.rules, self.home, self.walked)
        if how.root_local is not None:
            if how.root_local not in self.roots:
                self.roots[how.root_local] = self._root_keys(how.root_local)
            how = layers.settle(how, self.roots[how.root_local], desired)
        if how.kind == "file" and not target.FLAG_ONLY_KEYS.isdisjoint(desired):
            return layers.flag_only(how, desired)
        return how

    def _root_keys(self, root_local: Path) -> dict[target.KeyPath, Any]:
        """The keys a repository root's local file will hold after this run's apply: a
        declared main checkout's rendered keys, else what the file holds now."""
        decl = self.declared.get(os.path.normpath(root_local.parent.parent))
        keys: dict[target.KeyPath, Any] = {}
        try:
            _, doc = fs.read_settings(root_local)
        except LlmconfError:
            doc = None  # Claude Code ignores a file it cannot read, and so does this
        for key in layers.OWNED:
            value = get_key(doc, key)
            if value is not ABSENT:
                keys[key] = value
        if decl is not None and decl.error is None:
            try:
                desired = self.plan.desired(decl)
            except LlmconfError:
                return keys  # its plan reports it; meanwhile its file is what it is
            keys = {k: v for k, v in keys.items() if k not in target.BACKEND_KEYS and k not in desired}
            keys.update(desired)
        return keys

    def refused(self, desired: Mapping[target.KeyPath, str]) -> LlmconfError | None:
        """A declared key managed settings set to another value: Claude Code uses theirs."""
        return layers.overridden(desired, self.managed, self.managed_path)

    def extra(self, decl: WorktreeDecl, wp: WorktreePlan) -> tuple[Path, dict[KeyPath, str]] | None:
        """The worktree's --settings file: the one its delivery needs, or one an earlier apply
        left that is no longer needed (then emptied, so deleted)."""
        how = wp.delivery
        if how is None:
            return None
        if how.kind != "settings" and not self.recorded:
            return None  # the common case, at no cost: no --settings file was ever written
        name = layers.delivery_name(decl.path, self.folder)
        if how.kind != "settings":
            return (Path(name), {}) if name in self.owned else None
        return Path(name), layers.delivered(wp.desired, self.roots.get(how.root_local, {}) if how.root_local else {})
