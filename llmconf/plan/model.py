"""The plan: a frozen value saying, key by key, what apply would change in each file.

Pure: built from the desired keys, the current document and the state record; no I/O.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from llmconf.errors import LlmconfError
from llmconf.records import dataclass, field
from llmconf.render import is_sensitive
from llmconf.secrets.mask import holds_key
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.settings import KeyPath

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

ABSENT: Any = object()


class Action(enum.Enum):
    ADD = "+"
    CHANGE = "~"
    REMOVE = "-"


class FileAction(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NONE = "none"


@dataclass(frozen=True)
class Keys:
    """How a target's settings document is keyed, which is what diff() needs of a target: the
    backend keys it always owns, how a key's name (as the state records it) parses back, and
    whether the document nests an `env` object diffed per variable (Claude Code's)."""

    backend: tuple[KeyPath, ...]
    parse: Callable[[str], KeyPath]
    env: bool = False
    #: Whether a key's value is a secret by its name (Claude Code's: *_TOKEN, *_KEY...).
    looks_secret: Callable[[KeyPath], bool] = target.looks_secret
    #: A file that is not plain JSON (None: JSON, edited member by member by apply.jsonedit):
    #: how its text parses into a document (raising a located LlmconfError), and its new text
    #: after some changes (text None: a new file).
    load: Callable[[str], dict[str, Any]] | None = None
    edit: Callable[[str | None, tuple[KeyChange, ...]], str] | None = None


def dotted(name: str) -> KeyPath:
    """A key's name as the state records it, split on its dots (no part of a key holds one)."""
    return tuple(name.split("."))


def element(member: str, value: str) -> str:
    """The last part of a key that names one element of an array: the first object in it whose
    `member` is the string `value` (`[name=llmconf]`). llmconf owns that element whole, and
    the array's other elements are the user's. Neither part may hold a dot, `=` or `]`."""
    return f"[{member}={value}]"


def _element_of(part: str) -> tuple[str, str] | None:
    """(member, value) of a key part element() made; None for an object's key."""
    if part.startswith("[") and part.endswith("]") and "=" in part:
        member, value = part[1:-1].split("=", 1)
        return member, value
    return None


def is_element(part: str) -> bool:
    """Whether a key part names an element of an array (element())."""
    return _element_of(part) is not None


def find_element(array: list[Any], part: str) -> int | None:
    """The index of the element `part` (element()) names in an array; None when none is there."""
    selector = _element_of(part)
    if selector is None:
        return None
    member, value = selector
    return next((i for i, e in enumerate(array) if isinstance(e, dict) and e.get(member) == value), None)


@dataclass(frozen=True)
class KeyChange:
    """One key's change. `drift`: its value on disk is not what llmconf last wrote."""

    key: KeyPath
    action: Action
    before: Any
    after: Any
    sensitive: bool
    drift: bool = False


@dataclass(frozen=True)
class Delivery:
    """How a worktree's settings reach its agent: its own file ("file"), or another layer the
    agent reads above it ("settings": Claude Code's --settings), and why."""

    kind: str
    why: str
    root_local: Path | None = None  # the file that wins over the worktree's own, when one does


@dataclass(frozen=True, slots=True)  # slots: one per worktree, so smaller and quicker to make
class WorktreePlan:
    """What apply would do to one worktree's settings file (or why it cannot)."""

    name: str
    worktree: Path
    settings: Path
    profile: str
    changes: tuple[KeyChange, ...] = ()
    file_action: FileAction = FileAction.NONE
    error: LlmconfError | None = None
    folder_missing: bool = False
    desired: Mapping[KeyPath, str] = field(default_factory=dict)
    before_text: str | None = None  # the file as read, so apply can refuse if it changed
    #: The exact text to write: a rollback's backup, or the edit the planner already made.
    replacement: str | None = None
    label: str = ""  # what the header says the change comes from; default "profile NAME"
    private: bool = False  # the file will hold a secret, so it is written 0600
    #: How the worktree's settings reach its agent:
    #: set on the worktree's own plan once it is known.
    delivery: Delivery | None = None
    #: "local": the worktree's .claude/settings.local.json; "delivery": its --settings file;
    #: "agent": another agent's project file (opencode.json); "agent-key": that agent's key,
    #: in a 0600 file outside the repository (llmconf exec and activate hand it over);
    #: "dropped": Claude Code's file of a worktree whose `agents:` no longer lists it.
    role: str = "local"
    #: The file will hold a key but others may read it: its mode now (apply makes it 0600).
    loose_mode: int | None = None
    #: Keys the state record says held a secret when llmconf last wrote this file: what is on
    #: disk there is hidden by status and doctor too, whatever the profile renders now.
    secret: frozenset[str] = frozenset()
    #: `allow_tracked_secret: true`: a key may go into this file though git tracks it, or does
    #: not ignore it (doctor then does not call that an error either).
    tracked_ok: bool = False
    #: Keys this plan removes or replaces whose value held a key kept nowhere else (not in the
    #: secret store): the file holds its only copy, and the plan says so loudly.
    only_copy: tuple[str, ...] = ()
    #: The coding agent this file configures (`agents:`).
    agent: str = "claude-code"


def holds_secret(keys: Mapping[KeyPath, Any], secret: frozenset[str] = frozenset(), spec: Keys | None = None) -> bool:
    """Whether settings keys hold a secret: one rendered from secret(), named like one (by
    `spec`'s rule; None: Claude Code's), recorded as one, or a key-shaped value."""
    looks_secret = target.looks_secret if spec is None else spec.looks_secret
    return any(
        v
        and (
            is_sensitive(v)
            or looks_secret(k)
            or (secret and target.key_name(k) in secret)
            or holds_key(v)  # a literal key: 0600, never into git
        )
        for k, v in keys.items()
    )


@dataclass(frozen=True)
class Plan:
    worktrees: tuple[WorktreePlan, ...]
    #: The version of the client the plan was made for (None: a plan made without one).
    client: str | None = None
    #: Lines that are neither changes nor warnings: what a newer client would take, say.
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[WorktreePlan, ...]:
        return tuple(w for w in self.worktrees if (w.changes or w.loose_mode is not None) and w.error is None)

    @property
    def local(self) -> tuple[WorktreePlan, ...]:
        """One plan per worktree: its own settings file's (its --settings file has one more)."""
        return tuple(w for w in self.worktrees if w.role == "local")

    def delivery_of(self, wp: WorktreePlan) -> WorktreePlan | None:
        """The plan of a worktree's --settings file, when it has one."""
        return self._deliveries.get(wp.worktree)

    @functools.cached_property
    def _deliveries(self) -> dict[Path, WorktreePlan]:
        return {w.worktree: w for w in self.worktrees if w.role == "delivery"}

    @property
    def errors(self) -> tuple[LlmconfError, ...]:
        return tuple(w.error for w in self.worktrees if w.error is not None)

    def errors_once(self) -> list[LlmconfError]:
        """The errors as printed: one shared by several worktrees once, naming them."""
        from llmconf.errors import grouped

        return grouped((w.name, w.error) for w in self.worktrees if w.error is not None)

    def count(self, action: Action) -> int:
        return sum(1 for w in self.changed for c in w.changes if c.action is action)


def get_key(doc: Mapping[str, Any] | None, key: KeyPath) -> Any:
    """A key's value in a settings document, or ABSENT."""
    node: Any = doc
    for part in key:
        # dict, not Mapping: documents come from json.loads, and an ABC check costs 10x.
        if isinstance(node, list):  # an element() of an array
            i = find_element(node, part)
            if i is None:
                return ABSENT
            node = node[i]
            continue
        if not isinstance(node, dict) or part not in node:
            return ABSENT
        node = node[part]
    return node


def _copied(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and immutable scalars), as copy.deepcopy makes
    it, without importing copy; anything else goes through copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    import copy

    return copy.deepcopy(value)


def _object_at(doc: dict[str, Any], parents: list[str], change: KeyChange) -> dict[str, Any] | None:
    """The object a change's key lives in, made where it is missing (None: a removal from an
    object that is not there). A parent that is something else than an object (`"model":
    "m"` where llmconf sets model.name) is refused, never overwritten."""
    node = doc
    for i, part in enumerate(parents):
        if part not in node and change.action is Action.REMOVE:
            return None
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise LlmconfError(
                f"'{'.'.join(parents[: i + 1])}' is not an object, and llmconf sets {'.'.join(parents[: i + 1])}.{'.'.join(change.key[i + 1:])} in it;"
                " nothing written",
                hint="make it an object (or remove it) by hand; llmconf never overwrites a value it does not own",
            )
    return node


def apply_changes(doc: Mapping[str, Any] | None, changes: tuple[KeyChange, ...]) -> dict[str, Any]:
    """The document after the changes. An `env` object that a removal emptied goes too, and so
    do an array and the objects above it that removing an element() emptied."""
    out: dict[str, Any] = _copied(dict(doc or {}))
    emptied: set[str] = set()
    deep: set[tuple[str, ...]] = set()  # objects below the top a removal emptied (opencode's provider.llmconf.options)
    for change in changes:
        *parents, leaf = change.key
        if parents and is_element(leaf):  # one element of the array the last parent names
            *parents, array = parents
            node = _object_at(out, parents, change)
            if node is None:
                continue
            if not _change_element(node, array, leaf, change):
                continue
            leaf = array  # a removal emptied the array: it goes, as an emptied object would
        node = _object_at(out, parents, change)
        if node is None:
            continue
        if change.action is Action.REMOVE:
            node.pop(leaf, None)
            if parents and not node:
                emptied.add(parents[0])
                if len(parents) > 1:
                    deep.add(tuple(parents))
        else:  # a str subclass (Sensitive) is written as plain text; modelPicker is an object
            node[leaf] = str(change.after) if isinstance(change.after, str) else _copied(change.after)
    for path in sorted(deep, key=len, reverse=True):  # deepest first: each may empty the one above
        for n in range(len(path), 1, -1):
            above = get_key(out, path[: n - 1])
            if not isinstance(above, dict) or above.get(path[n - 1]) not in ({}, []):
                break
            del above[path[n - 1]]
    for name in emptied:
        if out.get(name) in ({}, []):
            del out[name]
    return out


def _change_element(parent: dict[str, Any], name: str, part: str, change: KeyChange) -> bool:
    """Set, replace or remove the element `part` names in the array `parent[name]` (made when
    missing); whether a removal left the array empty."""
    array = parent.get(name)
    if array is None:
        if change.action is Action.REMOVE:
            return False
        array = parent[name] = []
    elif not isinstance(array, list):
        raise LlmconfError(f"'{name}' is not a JSON array", hint="fix it by hand; llmconf will not overwrite it")
    i = find_element(array, part)
    if change.action is Action.REMOVE:
        if i is not None:
            del array[i]
        return not array
    value = _copied(change.after)
    if i is None:
        array.insert(0, value)  # first: an agent that takes the first of two matching elements takes llmconf's
    else:
        array[i] = value
    return False


def diff(
    desired: Mapping[KeyPath, str],
    current: Mapping[str, Any] | None,
    owned: Mapping[str, str],
    fingerprint: Callable[[Any], str],
    created: bool,
    secret: frozenset[str] = frozenset(),
    spec: Keys | None = None,
) -> tuple[tuple[KeyChange, ...], FileAction]:
    """The key changes that bring `current` to `desired`, and what happens to the file.

    llmconf owns the backend keys, the keys it renders now, and the keys it wrote before
    (`owned`: key name -> fingerprint of the value it wrote). Nothing else is touched.
    `spec`: how the target keys its document (None: Claude Code's settings file).
    """
    if spec is not None:
        if current is not None and _in_sync_keys(desired, current, owned, spec):
            return (), FileAction.NONE
        backend, parse, looks_secret = spec.backend, spec.parse, spec.looks_secret
    else:
        if current is not None and target.ENV in current and not isinstance(current[target.ENV], Mapping):
            raise LlmconfError("'env' is not a JSON object", hint="fix it by hand; llmconf will not overwrite it")
        if current is not None and _in_sync(desired, current, owned):
            return (), FileAction.NONE
        backend, parse, looks_secret = target.BACKEND_KEYS, target.parse_key, target.looks_secret
    keys = dict.fromkeys([*desired, *backend, *(parse(k) for k in owned)])
    changes = []
    for key in keys:
        before = get_key(current, key)
        after = desired.get(key, ABSENT)
        if before is ABSENT and after is ABSENT:
            continue
        if _same(before, after):
            continue
        written = owned.get(target.key_name(key))
        drift = written is not None and (before is ABSENT or fingerprint(before) != written)
        sensitive = (
            is_sensitive(after) or looks_secret(key) or target.key_name(key) in secret
            # What the file holds may be a key that no record names (the state folder was
            # deleted, or the file was hand-edited): a key-shaped value is hidden either way.
            or holds_key(before) or holds_key(after)
        )
        changes.append(_change(key, before, after, sensitive, drift))
    frozen = tuple(changes)
    if not frozen:
        return frozen, FileAction.NONE
    if current is None:
        return frozen, FileAction.CREATE
    if created and not apply_changes(current, frozen):
        return frozen, FileAction.DELETE
    return frozen, FileAction.UPDATE


def _same(before: Any, after: Any) -> bool:
    """Whether a file's value is the desired one: equal strings, or the same JSON (where
    Python's == takes 1 for true)."""
    if isinstance(after, str) or isinstance(before, str):
        return bool(before == after)
    if before is ABSENT or after is ABSENT:
        return before is after
    import json

    return json.dumps(before, sort_keys=True) == json.dumps(after, sort_keys=True)


def _in_sync(desired: Mapping[KeyPath, str], current: Mapping[str, Any], owned: Mapping[str, str]) -> bool:
    """Whether diff() would find no change: every rendered key holds its value, and no other
    key llmconf owns is there. Most files of a large fleet are in sync; this says so without
    building the key list or a KeyChange (some 30% of a no-change plan's diff time)."""
    # get_key, inlined for the two shapes every key has here, ("env", NAME) and (NAME,):
    # a call per key was half of this function's time. `env` stands for current["env"]
    # as get_key walks it (not a dict: it holds nothing).
    env = current.get(target.ENV, ABSENT)
    if not isinstance(env, dict):
        env = {}

    def get(key: KeyPath) -> Any:
        if len(key) == 1:
            return current.get(key[0], ABSENT)
        if len(key) == 2 and key[0] == target.ENV:
            return env.get(key[1], ABSENT)
        return get_key(current, key)

    for key, value in desired.items():
        held = get(key)
        if held != value or not isinstance(value, str) and not _same(held, value):
            return False
    for key in target.BACKEND_KEYS:
        if key not in desired and key[1] in env:  # every backend key is ("env", NAME)
            return False
    for name in owned:
        key = target.parse_key(name)
        if key not in desired and get(key) is not ABSENT:
            return False
    return True


def _in_sync_keys(desired: Mapping[KeyPath, Any], current: Mapping[str, Any], owned: Mapping[str, str], spec: Keys) -> bool:
    """_in_sync for any target's document: every rendered key holds its value, and no other
    key llmconf owns is there."""
    for key, value in desired.items():
        if not _same(get_key(current, key), value):
            return False
    others = [*spec.backend, *(spec.parse(name) for name in owned)]
    return all(key in desired or get_key(current, key) is ABSENT for key in others)


def document_diff(
    current: Mapping[str, Any] | None, wanted: Mapping[str, Any] | None, secret: frozenset[str] = frozenset()
) -> tuple[KeyChange, ...]:
    """Every key that differs between two whole documents: top-level keys, and env per key.
    Keys named in `secret` (or that look secret) are sensitive."""
    docs = (wanted or {}, current or {})
    if any(not isinstance(d.get(target.ENV, {}), Mapping) for d in docs):
        raise LlmconfError("'env' is not a JSON object", hint="fix it by hand; llmconf will not overwrite it")
    env_keys = [(target.ENV, name) for d in docs for name in d.get(target.ENV, {})]
    top_keys = [(name,) for d in docs for name in d if name != target.ENV]
    changes = []
    for key in dict.fromkeys([*env_keys, *top_keys]):
        before, after = get_key(current, key), get_key(wanted, key)
        if before != after:
            sensitive = target.looks_secret(key) or target.key_name(key) in secret or holds_key(before) or holds_key(after)
            changes.append(_change(key, before, after, sensitive))
    return tuple(changes)


def _change(key: KeyPath, before: Any, after: Any, sensitive: bool, drift: bool = False) -> KeyChange:
    """One key's change; ABSENT on either side makes it an add or a remove."""
    action = Action.ADD if before is ABSENT else Action.REMOVE if after is ABSENT else Action.CHANGE
    return KeyChange(
        key, action, None if before is ABSENT else before, None if after is ABSENT else after, sensitive, drift
    )
