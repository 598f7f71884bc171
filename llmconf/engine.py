"""Orchestration: one pipeline from config to plan, and apply as the one step that writes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from dataclasses import dataclass, field, replace
from pathlib import Path

from llmconf import fs

from llmconf.targets.claude_code import settings as target
from llmconf.errors import LlmconfError, did_you_mean, display_path
from llmconf.config.load import CONFIG_FILE, Config, Profiles, WorktreeDecl, load_config, user_path
from llmconf.plan.model import FileAction, KeyChange, Plan, WorktreePlan, diff, document_diff, holds_secret
from llmconf.render import Sensitive, render, resolve_fields, uses_worktree
from llmconf.secrets import SecretStore
from llmconf.apply.state import FileRecord, State, load_state, record_from_json, record_json

if TYPE_CHECKING:
    from llmconf.targets.claude_code.client import Client
    from llmconf.targets.claude_code.layers import Delivery


@dataclass
class Workspace:
    """Everything a command needs: the config, its profiles, the secret store and state."""

    config: Config
    profiles: Profiles
    secrets: SecretStore
    state: State
    #: Every secret and env var the templates looked up ("secret:NAME", "env:NAME"): inputs
    #: a saved plan checks. Values stay in memory; only their fingerprints are ever written.
    reads: dict[str, str | None] = field(default_factory=dict)
    rendered: dict[tuple[str, str], str] = field(default_factory=dict)  # see render_value's memo
    #: Per profile, the keys every worktree without overrides gets (None: they differ per
    #: worktree, as a field reads `worktree`). See desired().
    _by_profile: dict[str, dict[target.KeyPath, str] | None] = field(default_factory=dict, init=False)

    #: Whether the config came from the cache (else it is saved there after a clean plan).
    cached: bool = False
    cached_profiles: int = 0
    cache_key: str | None = None  # set on a miss: the inputs' digest, taken before reading them
    _client: Client | None = field(default=None, init=False)

    @classmethod
    def open(cls, config_dir: Path) -> Workspace:
        from llmconf.config import cache

        state = load_state()
        hit = cache.load(config_dir)
        if hit is not None:
            config, resolved, key = hit
            profiles = Profiles(config.profile_dirs)
            profiles.prime(resolved)
            store = SecretStore(sources=config.secret_sources, config_dir=config_dir)
            return cls(config, profiles, store, state, cached=True, cached_profiles=len(resolved), cache_key=key)
        try:
            config_bytes = (config_dir / CONFIG_FILE).read_bytes()
        except OSError:
            config_bytes = b""  # load_config reports it
        config = load_config(config_dir)
        store = SecretStore(sources=config.secret_sources, config_dir=config_dir)
        ws = cls(config, Profiles(config.profile_dirs), store, state)
        ws.cache_key = cache.digest(config.profile_dirs, config_bytes)  # before any profile is read
        return ws

    def select(self, args: Sequence[str], cwd: Path) -> tuple[WorktreeDecl, ...]:
        """The worktrees named by args (paths or names), or all of them."""
        if not args:
            return self.config.worktrees
        # A broken repos: entry's stand-in yields its folder and name to a worktree that works.
        ordered = sorted(self.config.worktrees, key=lambda w: w.error is None)
        by_path = {w.path: w for w in ordered}
        by_name = {w.name: w for w in ordered}
        chosen: dict[Path, WorktreeDecl] = {}
        for arg in args:
            as_path = user_path(cwd, arg)
            decl = by_path.get(as_path) or by_name.get(arg) or by_name.get(arg.rstrip("/"))
            if decl is None:
                hint = did_you_mean(arg, by_name) or "see 'llmconf status' for the declared worktrees"
                raise LlmconfError(f"'{arg}' is not a worktree declared in {self.config.file.name}", hint=hint)
            chosen[decl.path] = decl
        return tuple(chosen.values())

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
        fields = resolve_fields(decl, self.profiles)
        keys = render(decl, fields, self.config.vars, self.secrets, self.reads, self.rendered)
        if not decl.overrides and decl.profile.value not in self._by_profile:
            self._by_profile[decl.profile.value] = None if uses_worktree(fields) else dict(keys)
        return keys

    def plan(self, decls: Sequence[WorktreeDecl]) -> Plan:
        """Render each worktree and diff it against its settings file; errors stay per worktree."""
        identity: dict[int, tuple[int, int]] = {}
        delivering = _Delivering(self)
        plans = [self._plan_one(d, identity, delivering) for d in decls]
        seen: dict[tuple[int, int], WorktreeDecl] = {}
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
        # A secret never goes into a file git tracks: one commit and the key is in history.
        holding = [
            i
            for i, (d, wp) in enumerate(zip(decls, plans))
            if wp.changes and wp.error is None and not d.allow_tracked_secret and wp.private
        ]
        for i in _tracked([plans[i].settings for i in holding]):
            wp, key = plans[holding[i]], decls[holding[i]].key
            error = LlmconfError(
                "git tracks this file; llmconf will not write a secret into it",
                wp.settings,
                hint=f"git-ignore {target.SETTINGS_FILE} and 'git rm --cached' it, "
                f"or set allow_tracked_secret: true on '{key}' in worktrees.yaml",
            )
            plans[holding[i]] = replace(wp, error=error)
        plans = self._deliver(decls, plans, delivering)
        resolved = self.profiles.resolved()
        fresh = not self.cached or len(resolved) > self.cached_profiles
        errors_at = {wp.error.path for wp in plans if wp.error is not None}
        if fresh and self.cache_key and decls and not (errors_at and errors_at & self._inputs()):
            from llmconf.config import cache

            cache.save(self.config, resolved, self.cache_key)
            self.cached, self.cached_profiles = True, len(resolved)
        return Plan(tuple(plans))

    def claude(self) -> Client:
        """The Claude Code a plain `claude` runs here (found once per workspace)."""
        if self._client is None:
            from llmconf.targets.claude_code import client

            self._client = client.find(self.config.claude_code)
        return self._client

    def _deliver(
        self, decls: Sequence[WorktreeDecl], plans: list[WorktreePlan], delivering: _Delivering
    ) -> list[WorktreePlan]:
        """Beside the plan of each worktree's own settings file, the plan of its --settings
        file: one its delivery needs, or one an earlier apply left that is no longer needed
        (then deleted). A declared key managed settings override is a plan error."""
        from llmconf.targets.claude_code import layers

        out: list[WorktreePlan] = []
        for decl, wp in zip(decls, plans):
            how = wp.delivery
            if wp.error is not None or how is None:
                out.append(wp)
                continue
            error = delivering.overridden(wp.desired)
            if error is not None:
                out.append(replace(wp, error=error, changes=(), file_action=FileAction.NONE))
                continue
            out.append(wp)
            if how.kind != "settings" and not delivering.recorded:
                continue  # the common case, at no cost: no --settings file was ever written
            name = layers.delivery_name(decl.path, delivering.folder)
            if how.kind != "settings" and name not in self.state.files:
                continue
            want: dict[target.KeyPath, str] = {}
            if how.kind == "settings":
                assert how.root_local is not None
                want = layers.delivered(wp.desired, delivering.roots[how.root_local])
            out.append(self._plan_delivery(decl, Path(name), want, how))
        return out

    def _file_changes(
        self, path: Path, desired: Mapping[target.KeyPath, str]
    ) -> tuple[str | None, tuple[KeyChange, ...], FileAction]:
        """A settings file's text as read, and the changes that bring it to `desired`."""
        text, current = fs.read_settings(path)
        record = self.state.record(path)
        changes, action = diff(desired, current, record.keys, self.state.fingerprint, record.created, record.secret)
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
        )

    def _inputs(self) -> set[Path | None]:
        """Config files an error can point at: a plan that has one is not cached."""
        return {self.config.file, *(p for d in self.profiles.dirs for p in d.glob("*.yaml"))}

    def _plan_one(self, decl: WorktreeDecl, identity: dict[int, tuple[int, int]], delivering: _Delivering) -> WorktreePlan:
        settings = target.settings_path(decl.path)
        desired: dict[target.KeyPath, str] = {}
        try:
            desired = self.desired(decl)
            try:  # a .claude folder shared by symlink is one target too
                st = os.stat(os.path.dirname(settings))  # settings.parent, without making a Path
            except OSError:
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
            identity[id(decl)] = (st.st_dev, st.st_ino)
            text, changes, action = self._file_changes(settings, desired)
            how = delivering.of(decl, desired)
        except LlmconfError as e:
            if e.path is None:
                e.path = settings
            missing = decl.error is not None and not decl.path.is_dir()
            return WorktreePlan(
                decl.name, decl.path, settings, decl.profile.value, error=e, folder_missing=missing, desired=desired
            )
        return WorktreePlan(
            decl.name,
            decl.path,
            settings,
            decl.profile.value,
            changes,
            action,
            desired=desired,
            before_text=text,
            private=holds_secret(desired),
            delivery=how,
        )

    def apply(
        self,
        plan: Plan,
        records: dict[str, FileRecord | None] | None = None,
        carry: dict[str, Any] | None = None,
    ) -> list[WorktreePlan]:
        """Write every changed file of a plan; return the ones written.

        Crash-safe order: the journal (what each file's record was, for rollback) and a
        write-ahead record owning old and new keys are saved first; then, per file, its
        previous bytes are backed up and the new ones atomically replace them; last, the
        state records exactly what was written. `records` overrides those final records
        (rollback restores the ones the undone apply replaced); `carry` keeps journal entries
        of files this run leaves alone (a rollback of some worktrees keeps the others' undo).
        """
        from llmconf.apply import backup

        changed = plan.changed
        if not changed:
            return []
        # Every new text is made (and known to encode) before any file is touched.
        prepared = [self._prepare(wp) for wp in changed]
        apply_id = backup.new_apply_id()
        previous = {str(wp.settings): self.state.files.get(str(wp.settings)) for wp in changed}
        journal: dict[str, Any] = dict(carry or {})
        journal.update(
            {
                key: {"apply": apply_id, "existed": wp.before_text is not None, "record": record_json(previous[key])}
                for key, wp in zip(previous, changed)
            }
        )
        for key, wp in zip(previous, changed):
            old = previous[key] or FileRecord()
            self.state.files[key] = FileRecord(
                {**old.keys, **self._fingerprints(wp.desired)},
                old.created or wp.before_text is None,
                old.secret | _secret_names(wp.desired),
            )
        self.state.last_apply = {"id": apply_id, "files": journal}
        self.state.save()
        # Every previous version in one file, durable before the first settings file changes.
        backup.save(self.state.dir, apply_id, {key: wp.before_text for key, wp in zip(previous, changed) if wp.before_text is not None})
        done: list[WorktreePlan] = []
        try:
            for wp, new in zip(changed, prepared):
                self._apply_one(wp, new)
                done.append(wp)
                key = str(wp.settings)
                final = records[key] if records is not None else self._record_after(wp, previous[key])
                if final is None:
                    self.state.files.pop(key, None)
                else:
                    self.state.files[key] = final
        finally:
            for wp in changed[len(done) :]:  # not reached: back to what they were
                key = str(wp.settings)
                journal.pop(key)
                before = previous[key]
                if before is None:
                    self.state.files.pop(key, None)
                else:
                    self.state.files[key] = before
            self.state.save()
        return done

    def _fingerprints(self, desired: Mapping[target.KeyPath, str]) -> dict[str, str]:
        return {target.key_name(k): self.state.fingerprint(v) for k, v in desired.items()}

    def _record_after(self, wp: WorktreePlan, old: FileRecord | None) -> FileRecord | None:
        if not wp.desired or wp.file_action is FileAction.DELETE:
            return None
        created = (old is not None and old.created) or wp.before_text is None
        return FileRecord(self._fingerprints(wp.desired), created, _secret_names(wp.desired))

    def clean_after_crash(self) -> None:
        """Remove temp files an interrupted apply may have left (they can hold a key): in the
        folders of the files the last apply set out to write, as its journal lists them."""
        files = (self.state.last_apply or {}).get("files") or {}
        for key in files if isinstance(files, dict) else ():
            fs.remove_stale_temps(Path(key))

    @staticmethod
    def _prepare(wp: WorktreePlan) -> str | None:
        """The file's new text (None: delete it)."""
        from llmconf.apply import jsonedit

        if wp.file_action is FileAction.DELETE:
            return None
        new = wp.replacement if wp.replacement is not None else jsonedit.edit(wp.before_text, wp.changes)
        new.encode("utf-8")  # fails here, before any write, rather than halfway through
        return new

    def _apply_one(self, wp: WorktreePlan, new: str | None) -> None:
        text, _ = fs.read_settings(wp.settings)
        if text != wp.before_text:
            raise LlmconfError(
                "changed on disk since the plan was made; nothing written to it",
                wp.settings,
                hint="run the command again",
            )
        if new is None:
            fs.remove_file(wp.settings)
            return
        if wp.role == "delivery":  # its folders are made private: they name the worktrees
            from llmconf.targets.claude_code.layers import deliveries_dir

            deliveries_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
            wp.settings.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fs.write_atomic(wp.settings, new, private=wp.private)

    def rollback_plan(
        self, only: set[Path] | None = None
    ) -> tuple[Plan, dict[str, FileRecord | None], dict[str, Any], list[str]]:
        """The plan that puts back the files of the last apply: the plan, the records to
        restore, the journal entries it leaves for later, and warnings."""
        from llmconf.apply import backup

        last = self.state.last_apply
        if not last or not last["files"]:
            raise LlmconfError("nothing to roll back: no apply recorded on this machine")
        journal: dict[str, Any] = last["files"]  # type: ignore[assignment]
        from llmconf.targets.claude_code.layers import delivery_path

        names = {w.path / target.SETTINGS_FILE: w for w in self.config.worktrees}
        sent = {delivery_path(w.path): w for w in self.config.worktrees}  # their --settings files
        plans, records, warnings = [], {}, []
        for settings in sorted(only or ()):
            if str(settings) not in journal:
                warnings.append(f"{display_path(settings)}: the last apply did not change it; nothing to roll back")
        if only is not None:  # a worktree's --settings file goes back with it
            only = only | {path for path, w in sent.items() if w.path / target.SETTINGS_FILE in only}
        carry = {k: e for k, e in journal.items() if only is not None and Path(k) not in only}
        for key, entry in journal.items():
            settings = Path(key)
            if key in carry:
                continue
            apply_id = str(entry.get("apply", last["id"]))
            decl = names.get(settings) or sent.get(settings)
            wp = WorktreePlan(
                decl.name if decl else settings.parent.parent.name,
                decl.path if decl else settings.parent.parent,
                settings,
                decl.profile.value if decl else "-",
                label=f"back to before apply {apply_id}",
                role="delivery" if settings in sent else "local",
            )
            wanted = backup.load(self.state.dir, settings, apply_id) if entry["existed"] else None
            if entry["existed"] and wanted is None:
                warnings.append(f"{display_path(settings)}: no backup from apply {apply_id}; left as it is")
                continue
            restored = record_from_json(entry["record"])
            secret = self.state.record(settings).secret | (restored.secret if restored else frozenset())
            try:
                text, current = fs.read_settings(settings)
                wanted_doc = json.loads(wanted) if wanted is not None else None
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


class _Delivering:
    """One plan's delivery decisions: the client's rules, the repository roots walked, the keys
    each root's local file will hold, and the managed settings (each found once per plan)."""

    def __init__(self, ws: Workspace) -> None:
        from llmconf.targets.claude_code import layers

        self.ws = ws
        self.rules = ws.claude().rules
        self.home = Path.home()
        self.folder = os.fspath(layers.deliveries_dir())
        #: Whether the state records any --settings file (one may have to be deleted).
        self.recorded = any(name.startswith(self.folder + os.sep) for name in ws.state.files)
        self.walked: dict[str, str | None] = {}  # repository roots by folder
        self.roots: dict[Path, dict[target.KeyPath, Any]] = {}  # what each root's file will hold
        self.declared = {os.path.normpath(d.path): d for d in ws.config.worktrees}
        self.managed_path = target.common_layer_paths()["managed"]
        try:
            _, self.managed = fs.read_settings(self.managed_path)
        except LlmconfError:
            self.managed = None  # doctor says why Claude Code ignores it

    def of(self, decl: WorktreeDecl, desired: Mapping[target.KeyPath, str]) -> Delivery:
        """A worktree's delivery (targets.claude_code.layers.Delivery)."""
        from llmconf.targets.claude_code import layers

        how = layers.delivery(decl.path, self.rules, self.home, self.walked)
        if how.root_local is None:
            return how
        if how.root_local not in self.roots:
            self.roots[how.root_local] = self._root_keys(how.root_local)
        return layers.settle(how, self.roots[how.root_local], desired)

    def _root_keys(self, root_local: Path) -> dict[target.KeyPath, Any]:
        """The keys a repository root's local file will hold after this run's apply: a
        declared main checkout's rendered keys, else what the file holds now."""
        from llmconf.plan.model import ABSENT, get_key
        from llmconf.targets.claude_code import layers

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
                desired = self.ws.desired(decl)
            except LlmconfError:
                return keys  # its plan reports it; meanwhile its file is what it is
            keys = {k: v for k, v in keys.items() if k not in target.BACKEND_KEYS and k not in desired}
            keys.update(desired)
        return keys

    def overridden(self, desired: Mapping[target.KeyPath, str]) -> LlmconfError | None:
        from llmconf.targets.claude_code import layers

        return layers.overridden(desired, self.managed, self.managed_path)


def missing_folder(decl: WorktreeDecl) -> tuple[str, str]:
    """The message and hint for a declared worktree whose folder is not there."""
    return f"worktree folder {display_path(decl.path)} does not exist", "create it, or remove the entry"


def _secret_names(desired: Mapping[target.KeyPath, str]) -> frozenset[str]:
    return frozenset(target.key_name(k) for k, v in desired.items() if isinstance(v, Sensitive))


def _document_keys(doc: Mapping[str, Any] | None) -> dict[target.KeyPath, Any]:
    doc = doc or {}
    env = doc.get(target.ENV)
    env = env if isinstance(env, dict) else {}
    return {**{(k,): v for k, v in doc.items() if k != target.ENV}, **{(target.ENV, k): v for k, v in env.items()}}


def _tracked(paths: list[Path]) -> list[int]:
    """Which of these files git tracks: one `git ls-files` per repository, none outside one."""
    import subprocess

    by_repo: dict[Path, list[int]] = {}
    memo: dict[Path, Path | None] = {}  # this call's only: a folder may become a repository later
    for i, path in enumerate(paths):
        root = _git_root(path.parent, memo)
        if root is not None:
            by_repo.setdefault(root, []).append(i)
    tracked = []
    for root, indices in by_repo.items():
        rels = [os.path.relpath(paths[i], root) for i in indices]
        try:
            out = subprocess.run(
                ["git", "-C", str(root), "ls-files", "-z", "--", *rels],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue  # no usable git: nothing can be tracked by it
        listed = set(out.stdout.decode(errors="replace").split("\0"))
        tracked += [i for i, rel in zip(indices, rels) if rel in listed]
    return tracked


def _git_root(folder: Path, memo: dict[Path, Path | None]) -> Path | None:
    """The nearest folder upward holding .git (a folder, or a file in a linked worktree);
    remembered in `memo` per folder, so sibling worktrees share the walk up."""
    if folder not in memo:
        if (folder / ".git").exists():
            memo[folder] = folder
        else:
            memo[folder] = None if folder.parent == folder else _git_root(folder.parent, memo)
    return memo[folder]


def open_workspace(config_dir: str | None, cwd: Path) -> Workspace:
    from llmconf.config.load import find_config_dir

    folder = (cwd / config_dir) if config_dir else find_config_dir(cwd)
    return Workspace.open(Path(os.path.normpath(folder)))
