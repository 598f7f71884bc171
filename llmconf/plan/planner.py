"""Planning: render each worktree's keys and diff them against its settings files.

A Planner lives for one plan: its memos (rendered values, each profile's keys, the client,
the repository roots walked) last that long and no longer. It reads the world (settings
files, git, secrets) and writes nothing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmconf import fs
from llmconf.config.load import DEFAULT_AGENTS, FieldPath, WorktreeDecl, folder_identity
from llmconf.errors import LlmconfError, display_path
from llmconf.plan.model import Action, Delivery, FileAction, KeyChange, Keys, Plan, WorktreePlan, diff, holds_secret
from llmconf.records import replace
from llmconf.render import render, render_fields, resolve_fields, uses_worktree
from llmconf.targets.base import CLAUDE_CODE, OTHER_AGENT_FILES, OTHER_AGENTS, AgentTarget, Deliveries, agent_target, model_fields
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.agent import ClaudeCode

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.catalog import Describer
    from llmconf.git import Tracked
    from llmconf.session import Session
    from llmconf.targets.claude_code.client import Client


class Planner:
    """One plan's work: renders worktrees and diffs them against their files."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.state = session.state
        #: Every secret and env var the templates looked up ("secret:NAME", "env:NAME"): inputs
        #: a saved plan checks. Values stay in memory; only their fingerprints are ever written.
        self.reads: dict[str, str | None] = {}
        self._rendered: dict[tuple[str, str], str] = {}  # see render_value's memo
        #: Per profile, the keys every worktree without overrides gets (None: they differ per
        #: worktree, as a field reads `worktree`). See desired().
        self._by_profile: dict[str, dict[target.KeyPath, str] | None] = {}
        self.target = ClaudeCode(session.config.claude_code)
        #: Keys some profile sets that the client ignores, so they were left out (plan notes them).
        self.unwritten: set[target.KeyPath] = set()
        self._describer: Describer | None = None  # see _describe

    def desired(self, decl: WorktreeDecl) -> dict[target.KeyPath, str]:
        """The settings keys a worktree should hold (may raise a located LlmconfError)."""
        if decl.error is not None:  # a repos: entry git could not expand
            raise decl.error
        # A worktree without overrides, under a profile no field of which reads `worktree`,
        # holds exactly what every other such worktree of that profile holds: render it once
        # per run (about 5 us a worktree). Only a success is kept, so each worktree still
        # reports its own error; each gets its own copy of the keys.
        same = self._by_profile.get(decl.profile.value) if not decl.overrides else None
        if same is not None:
            return dict(same)
        s = self.session
        fields = resolve_fields(decl, s.profiles)
        rules = self.target.client().rules
        keys = render(
            decl, fields, s.config.vars, s.secrets, self.reads, self._rendered, rules.lacks, self.unwritten, self._describe
        )
        if not decl.overrides and decl.profile.value not in self._by_profile:
            self._by_profile[decl.profile.value] = None if uses_worktree(fields) else dict(keys)
        return keys

    def _describe(self, base_url: str, model: str) -> tuple[str, str | None, str | None] | None:
        """The catalog's label, description and capabilities of a model: each gateway slot's
        default (the catalog is imported and loaded only once a gateway profile renders)."""
        if self._describer is None:
            from llmconf.catalog.catalog import Describer

            self._describer = Describer(self.session.config.dir)
        return self._describer(base_url, model)

    def plan(self, decls: Sequence[WorktreeDecl]) -> Plan:
        """Render each worktree and diff it against its settings file; errors stay per worktree."""
        identity: dict[int, tuple[int, int, str]] = {}
        delivering = self.target.deliveries(self, self.session.config.worktrees, self.state.files)
        # The other agents' files to plan: (worktree, agent, whether it still lists that agent).
        others: list[tuple[WorktreeDecl, str, bool]] = []
        declared = decls
        if any(d.agents != DEFAULT_AGENTS for d in decls):  # one pass; a config without agents: stops here
            others = [(d, name, True) for d in decls for name in d.agents if name != CLAUDE_CODE]
            decls = [d for d in decls if CLAUDE_CODE in d.agents]
        recorded = self._agent_records()
        if recorded:  # an earlier apply wrote another agent's files: one its worktree no longer lists loses its keys
            others += [(d, name, False) for d in declared for name in _dropped(d, recorded)]
        plans = [self._plan_one(d, identity, delivering) for d in decls]
        seen: dict[tuple[int, int, str], WorktreeDecl] = {}
        for i, d in enumerate(decls):
            if id(d) not in identity:
                continue
            first = seen.setdefault(identity[id(d)], d)
            if first is not d:
                plans[i] = replace(
                    plans[i],
                    error=d.profile.error(
                        f"worktree '{d.key}' writes the same settings file as '{first.key}' (through a symlink)",
                        "list it once",
                    ),
                    changes=(),
                )
        _refuse_tracked(decls, plans)
        agents = self._plan_agents(others) if others else ()
        if others:  # a worktree that no longer lists Claude Code loses the keys llmconf wrote in its file
            agents += tuple(p for d in declared if CLAUDE_CODE not in d.agents for p in self._drop_claude(d))
        return Plan(tuple(self._deliver(decls, plans, delivering)) + agents, self.target.client().version, self._notes())

    def _agent_records(self) -> frozenset[str]:
        """The files of agents other than Claude Code that the state records, found by the
        endings their targets' files have (targets.base.OTHER_AGENT_FILES; most states: none)."""
        return frozenset(name for name in self.state.files if name.endswith(OTHER_AGENT_FILES))

    def _plan_agents(self, others: Sequence[tuple[WorktreeDecl, str, bool]]) -> tuple[WorktreePlan, ...]:
        """The plans of the agents other than Claude Code each worktree lists (or no longer
        lists, when an earlier apply wrote their files): its project file, and the key file
        beside its Claude Code delivery file (see targets.opencode)."""
        plans: list[WorktreePlan] = []
        owner: list[WorktreeDecl] = []
        for decl, name, listed in others:
            found = self._plan_agent(decl, agent_target(name), listed)
            plans += found
            owner += [decl] * len(found)
        # Two worktrees whose project file is one file (through a symlink): the second is an error, as for Claude Code.
        seen: dict[str, WorktreeDecl] = {}
        for i, (d, wp) in enumerate(zip(owner, plans)):
            if wp.role == "agent" and wp.error is None:
                first = seen.setdefault(os.path.realpath(wp.settings), d)
                if first is not d:
                    error = d.profile.error(
                        f"worktree '{d.key}' writes the same {wp.settings.name} as '{first.key}' (through a symlink)", "list it once"
                    )
                    plans[i] = replace(wp, error=error, changes=())
        # A secret never goes into a file git may commit (a base URL from env(), say): as for Claude Code.
        _refuse_tracked(owner, plans, role="agent")
        return tuple(plans)

    def _plan_agent(self, decl: WorktreeDecl, agent: AgentTarget, listed: bool = True) -> list[WorktreePlan]:
        """One agent's files in one worktree: its project file, and its key file (when the
        profile has a key, or an earlier apply wrote one). An agent the worktree no longer
        lists (`listed` false) loses every key llmconf wrote for it."""
        path = agent.settings_path(decl.path)
        desired: dict[target.KeyPath, Any] = {}
        rendered: Mapping[FieldPath, str] = {}
        try:
            if decl.error is not None and listed:
                raise decl.error
            if listed:
                s = self.session
                fields = resolve_fields(decl, s.profiles)
                source = model_fields(agent.name, agent.fields, fields)
                got = render_fields(decl, fields, tuple(source.values()), s.config.vars, s.secrets, self.reads, self._rendered)
                rendered = {fp: got[src] for fp, src in source.items() if src in got}
                desired = agent.desired(decl, fields, rendered)
            if not os.path.isdir(decl.path):
                error = decl.profile.error(*missing_folder(decl))
                return [replace(self._agent_plan(decl, path, agent), error=error, folder_missing=True)]
            text, changes, action = self._file_changes(path, desired, agent.keys_spec)
            new_text = _edited(text, changes, action, agent.keys_spec)
        except LlmconfError as e:
            e.path = e.path or path
            missing = decl.error is not None and folder_identity(decl.path) is None
            return [replace(self._agent_plan(decl, path, agent), error=e, folder_missing=missing, desired=desired)]
        own = replace(
            self._agent_plan(decl, path, agent), changes=changes, file_action=action, desired=desired, before_text=text,
            replacement=new_text, private=holds_secret(desired, spec=agent.keys_spec),
        )
        # A project file an earlier apply wrote that the one now written beats: llmconf's keys go.
        stale = [other for other in agent.project_files(decl.path) if other != path and str(other) in self.state.files]
        own_plans = [own, *(self._dropped(decl, other, agent) for other in stale)]
        key_path = agent.key_path(decl.path)
        wanted = agent.key_keys(rendered) if listed else {}
        if not wanted and str(key_path) not in self.state.files:
            return own_plans
        try:
            text, changes, action = self._file_changes(key_path, wanted, agent.key_file_spec)
        except LlmconfError as e:
            e.path = e.path or key_path
            return [*own_plans, WorktreePlan(decl.name, decl.path, key_path, decl.profile.value, error=e, role="agent-key", agent=agent.name)]
        return [
            *own_plans,
            WorktreePlan(
                decl.name, decl.path, key_path, decl.profile.value, changes, action, desired=wanted, before_text=text,
                private=True, role="agent-key", agent=agent.name, secret=self.state.record(key_path).secret,
            ),
        ]

    def _dropped(self, decl: WorktreeDecl, path: Path, agent: AgentTarget | None = None) -> WorktreePlan:
        """The plan that takes llmconf's keys out of a file it wrote that nothing asks for now:
        Claude Code's settings once it left `agents:`, or an agent's project file the agent no
        longer reads first (opencode.json, once an opencode.jsonc beats it)."""
        spec = agent.keys_spec if agent is not None else None
        name = agent.name if agent is not None else CLAUDE_CODE
        try:
            text, changes, action = self._file_changes(path, {}, spec)
            new = _edited(text, changes, action, spec)
        except LlmconfError as e:
            e.path = e.path or path
            return WorktreePlan(decl.name, decl.path, path, decl.profile.value, error=e, role="dropped", agent=name)
        return WorktreePlan(
            decl.name, decl.path, path, decl.profile.value, changes, action, before_text=text, replacement=new,
            role="dropped", agent=name, secret=self.state.record(path).secret,
            only_copy=self._only_copies(changes, path) if agent is None else (),
        )

    def _notes(self) -> tuple[str, ...]:
        """One line for the keys a newer Claude Code would take: the fields that set them, and
        the release each is read from."""
        if not self.unwritten:
            return ()
        from llmconf.targets.claude_code.client import KEY_SINCE

        by_release: dict[tuple[int, int, int], set[str]] = {}
        for key in self.unwritten:
            by_release.setdefault(KEY_SINCE[key], set()).add(target.field_of(key))
        fields = "; ".join(
            f"{', '.join(sorted(names))} (read from {'.'.join(map(str, release))} on)"
            for release, names in sorted(by_release.items())
        )
        return (f"Claude Code {self.target.client().version} would ignore, so plan leaves out: {fields}",)

    def claude(self) -> Client:
        """The Claude Code a plain `claude` runs here (found once per plan)."""
        return self.target.client()

    def _deliver(
        self, decls: Sequence[WorktreeDecl], plans: list[WorktreePlan], deliveries: Deliveries
    ) -> list[WorktreePlan]:
        """Beside the plan of each worktree's own settings file, the plan of the file its
        delivery needs (or one an earlier apply left that it no longer needs, then deleted).
        A declared key that no write can deliver is a plan error."""
        out: list[WorktreePlan] = []
        for decl, wp in zip(decls, plans):
            if wp.error is not None or wp.delivery is None:
                out.append(wp)
                continue
            error = deliveries.refused(wp.desired)
            if error is not None:
                out.append(replace(wp, error=error, changes=(), file_action=FileAction.NONE))
                continue
            out.append(wp)
            extra = deliveries.extra(decl, wp)
            if extra is not None:
                out.append(self._plan_delivery(decl, *extra, wp.delivery))
        return out

    def _drop_claude(self, decl: WorktreeDecl) -> list[WorktreePlan]:
        """The plan that takes every key llmconf wrote out of Claude Code's settings file, for a
        worktree whose `agents:` no longer lists it (none when the state records no such file)."""
        from llmconf.targets.claude_code.layers import delivery_path

        sent = delivery_path(decl.path)  # its --settings file, which llmconf owns whole: it goes
        out = [self._plan_delivery(decl, sent, {}, Delivery("file", "Claude Code is not in agents:"))] if str(sent) in self.state.files else []
        settings = self.target.settings_path(decl.path)
        if str(settings) not in self.state.files:
            return out
        dropped = self._dropped(decl, settings)
        return [dropped, *out] if dropped.error is not None else [*out, dropped]

    def _agent_plan(self, decl: WorktreeDecl, path: Path, agent: AgentTarget) -> WorktreePlan:
        """An agent's project file's plan, before its changes are known."""
        return WorktreePlan(
            decl.name, decl.path, path, decl.profile.value, role="agent", agent=agent.name,
            secret=self.state.record(path).secret, tracked_ok=decl.allow_tracked_secret,
        )

    def _file_changes(
        self, path: Path, desired: Mapping[target.KeyPath, str], spec: Keys | None = None
    ) -> tuple[str | None, tuple[KeyChange, ...], FileAction]:
        """A settings file's text as read, and the changes that bring it to `desired` (`spec`:
        how its target keys it; None: Claude Code's)."""
        text, current = fs.read_settings(path, spec.load if spec is not None else None)
        record = self.state.record(path)
        changes, action = diff(desired, current, record.keys, self.state.fingerprint, record.created, record.secret, spec)
        if changes:
            fs.check_writable(path)  # found now, so apply refuses before writing any file
        return text, changes, action

    def _plan_delivery(self, decl: WorktreeDecl, path: Path, desired: dict[target.KeyPath, str], how: Delivery) -> WorktreePlan:
        """The plan of a worktree's --settings file, which llmconf owns whole: always private."""
        try:
            text, changes, action = self._file_changes(path, desired)
        except LlmconfError as e:
            e.path = e.path or path
            return WorktreePlan(
                decl.name, decl.path, path, decl.profile.value, error=e, desired=desired, delivery=how, role="delivery"
            )
        return WorktreePlan(
            decl.name, decl.path, path, decl.profile.value, changes, action,
            desired=desired, before_text=text, private=True, delivery=how, role="delivery",
            secret=self.state.record(path).secret,
        )

    def _plan_one(self, decl: WorktreeDecl, identity: dict[int, tuple[int, int, str]], delivering: Deliveries) -> WorktreePlan:
        settings = self.target.settings_path(decl.path)
        desired: dict[target.KeyPath, str] = {}
        try:
            desired = self.desired(decl)
            name = settings.name  # in the folder `st` is of
            try:  # a .claude folder shared by symlink is one target too
                st = os.stat(os.path.dirname(settings))  # settings.parent, without making a Path
            except OSError:
                name = os.path.relpath(settings, decl.path)  # not the worktree folder's own file
                # No .claude (or not reachable): is the worktree folder there at all? When
                # .claude is, the folder holding it must be: one stat, not two, per worktree.
                try:
                    st = os.stat(decl.path)
                except OSError:
                    st = None
                if st is None or not stat.S_ISDIR(st.st_mode):
                    error = decl.profile.error(*missing_folder(decl))
                    return WorktreePlan(
                        decl.name, decl.path, settings, decl.profile.value, error=error, folder_missing=True, desired=desired
                    )
            assert st is not None  # .claude's, or else the worktree folder's (which returned above)
            identity[id(decl)] = _identity(settings, st, name)
            text, changes, action = self._file_changes(settings, self.target.own_file(desired))
            how = delivering.of(decl, desired)
        except LlmconfError as e:
            if e.path is None:
                e.path = settings
            missing = decl.error is not None and folder_identity(decl.path) is None  # is_dir raises on EACCES
            return WorktreePlan(
                decl.name, decl.path, settings, decl.profile.value, error=e, folder_missing=missing, desired=desired,
                secret=self.state.record(settings).secret,  # doctor still shows the file: hide what it recorded
            )
        private = holds_secret(desired)
        loose = fs.loose_mode(settings) if private and text is not None else None
        if loose is not None and action is FileAction.NONE:
            action = FileAction.UPDATE  # the key stays; who can read it changes
            try:
                fs.check_writable(settings)  # a mode-only change is still a write apply would refuse
            except LlmconfError as e:
                return WorktreePlan(decl.name, decl.path, settings, decl.profile.value, error=e, desired=desired)
        try:
            new_text = _edited(text, changes, action)
        except LlmconfError as e:
            e.path = e.path or settings
            return WorktreePlan(decl.name, decl.path, settings, decl.profile.value, error=e, desired=desired)
        return WorktreePlan(
            decl.name,
            decl.path,
            settings,
            decl.profile.value,
            changes,
            action,
            desired=desired,
            before_text=text,
            only_copy=self._only_copies(changes, settings),
            replacement=new_text,
            private=private,
            delivery=how,
            loose_mode=loose,
            secret=self.state.record(settings).secret,
            tracked_ok=decl.allow_tracked_secret,
        )

    def _only_copies(self, changes: tuple[KeyChange, ...], settings: Path) -> tuple[str, ...]:
        """The credential keys these changes remove or replace whose old value is kept nowhere
        else: not written by llmconf from the config (a switch script's key, say), and not in
        the secret store. After apply, that key is gone for good."""
        written = self.state.record(settings).keys
        return tuple(
            name
            for c in changes
            if c.action is not Action.ADD
            and target.looks_secret(c.key)
            and isinstance(c.before, str)
            and c.before
            and written.get(name := target.key_name(c.key)) != self.state.fingerprint(c.before)
            and not self.session.secrets.holds(c.before)
        )


def _edited(text: str | None, changes: tuple[KeyChange, ...], action: FileAction, spec: Keys | None = None) -> str | None:
    """The edit apply will make, made at plan time: one it would refuse (a duplicate key it
    would drop) is the plan's error, and apply writes this text without editing again. A
    target's file that is not plain JSON is edited as its target says (`spec.edit`)."""
    if spec is not None and spec.edit is not None:
        if not changes or action not in (FileAction.CREATE, FileAction.UPDATE):
            return None
        return spec.edit(text, changes)
    if not changes or text is None or action is not FileAction.UPDATE:
        return None
    from llmconf.apply import jsonedit

    return jsonedit.edit(text, changes)


def _refuse_tracked(decls: Sequence[WorktreeDecl], plans: list[WorktreePlan], role: str | None = None) -> None:
    """Make an error of each plan (of `role`, if given) that would write a secret into a file
    git tracks or would commit: one commit and the key is in history. `decls[i]` owns `plans[i]`."""
    holding = [
        i
        for i, (d, wp) in enumerate(zip(decls, plans))
        if (role is None or wp.role == role) and wp.changes and wp.error is None and not d.allow_tracked_secret and wp.private
    ]
    for t in _tracked([plans[i].settings for i in holding]) if holding else ():
        i = holding[t.index]
        plans[i] = replace(plans[i], error=_tracked_error(decls[i].path, plans[i].settings, decls[i].key, t))


def _dropped(decl: WorktreeDecl, recorded: frozenset[str]) -> list[str]:
    """The agents other than Claude Code whose files in this worktree the state records,
    though the worktree no longer lists them."""
    return [
        name
        for name in OTHER_AGENTS
        if name not in decl.agents
        and any(str(p) in recorded for p in (*agent_target(name).project_files(decl.path), agent_target(name).key_path(decl.path)))
    ]


def _identity(settings: Path, folder: os.stat_result, name: str) -> tuple[int, int, str]:
    """Which file a worktree's settings file really is: its folder's device and inode, and its
    name. A .claude folder shared by symlink has one folder; a settings file that is a symlink
    (to another worktree's, maybe through more links) is named by where it leads."""
    try:
        link = stat.S_ISLNK(os.lstat(settings).st_mode)
    except OSError:
        link = False
    if link:
        real = os.path.realpath(settings)
        try:
            st = os.stat(os.path.dirname(real))
        except OSError:
            return (-1, -1, real)  # leads nowhere yet: its path is all there is
        return (st.st_dev, st.st_ino, os.path.basename(real))
    return (folder.st_dev, folder.st_ino, name)


def _tracked(paths: list[Path]) -> list[Tracked]:
    from llmconf import git  # only now: most plans write no secret into a repository

    return git.tracked(paths)


def _tracked_error(worktree: Path, settings: Path, key: str, t: Tracked) -> LlmconfError:
    """Why a secret will not go into a settings file git tracks (or may track), and what to do."""
    allow = f"or set allow_tracked_secret: true on '{key}' in worktrees.yaml"
    if t.unignored:
        rel = os.path.relpath(t.real, t.root)
        return LlmconfError(
            "git does not ignore this file, and it would hold a key: one 'git add .' and the key is committed; "
            "llmconf will not write it",
            settings,
            hint=f"add {rel} to {display_path(t.root / '.gitignore')} (or to .git/info/exclude, for this clone only), {allow}",
        )
    if t.unknown is not None:
        fix = "install git or put it on PATH" if t.no_git else f"check the repository at {display_path(t.root)}"
        return LlmconfError(
            f"cannot tell whether git tracks this file ({t.unknown}); llmconf will not write a secret into it",
            settings,
            hint=f"{fix}, {allow}",
        )
    # A link below the worktree (its .claude, or the file): the file written lives elsewhere, and
    # the fix is there. A worktree that is a link (or lies below one) needs no such detour.
    if str(t.real) != os.path.normpath(os.path.join(os.path.realpath(worktree), os.path.relpath(settings, worktree))):
        real = display_path(t.real)
        return LlmconfError(
            f"git tracks the file this links to, {real}; llmconf will not write a secret into it",
            settings,
            hint=f"git-ignore and 'git rm --cached' {real}, {allow}",
        )
    return LlmconfError(
        "git tracks this file; llmconf will not write a secret into it",
        settings,
        hint=f"git-ignore {os.path.relpath(settings, worktree)} and 'git rm --cached' it, {allow}",
    )


def missing_folder(decl: WorktreeDecl) -> tuple[str, str]:
    """The message and hint for a declared worktree whose folder is not there."""
    return f"worktree folder {display_path(decl.path)} does not exist", "create it, or remove the entry"


