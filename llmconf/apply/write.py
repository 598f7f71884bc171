"""The one step that writes: a plan's files, in a crash-safe order, with the state that
records what llmconf owns and a backup of every file it changes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from llmconf import fs
from llmconf.apply.state import FileRecord, State, os_problem, record_json
from llmconf.errors import LlmconfError
from llmconf.plan.model import FileAction, Plan, WorktreePlan
from llmconf.render import is_sensitive
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def write(
    plan: Plan,
    state: State,
    records: dict[str, FileRecord | None] | None = None,
    carry: dict[str, Any] | None = None,
) -> list[WorktreePlan]:
    """Write every changed file of a plan; return the ones written.

    Crash-safe order: the previous bytes of every file (one backup bundle), then the journal
    (what each file's record was, for rollback) with a write-ahead record owning old and new
    keys, are made durable first; then the new files atomically replace the old; last, the
    state records exactly what was written. `records` overrides those final records
    (rollback restores the ones the undone apply replaced); `carry` keeps journal entries
    of files this run leaves alone (a rollback of some worktrees keeps the others' undo).
    A disk error before the first replace leaves every file as it was; one after it says
    how many were written, and the record on disk is one the next apply converges from.
    """
    from llmconf.apply import backup

    changed = plan.changed
    if not changed:
        return []
    # Every new text is made (and known to encode) before any file is touched.
    prepared = [_prepare(wp) for wp in changed]
    apply_id = backup.new_apply_id()
    previous = {str(wp.settings): state.files.get(str(wp.settings)) for wp in changed}
    journal: dict[str, Any] = dict(carry or {})
    journal.update(
        {
            key: {"apply": apply_id, "existed": wp.before_text is not None, "record": record_json(previous[key])}
            for key, wp in zip(previous, changed)
        }
    )
    # Every previous version in one file, durable before the first settings file changes.
    # It goes first: should the state save below fail, it is only a bundle no journal names.
    try:
        backup.save(
            state.dir,
            apply_id,
            {key: wp.before_text for key, wp in zip(previous, changed) if wp.before_text is not None},
            created=[key for key, wp in zip(previous, changed) if wp.before_text is None],
        )
    except OSError as e:
        raise os_problem(e, backup.bundle(state.dir, apply_id), "cannot keep the backups", NOTHING) from None
    for key, wp in zip(previous, changed):
        old = previous[key] or FileRecord()
        state.files[key] = FileRecord(
            {**old.keys, **_fingerprints(state, wp.desired)},
            old.created or wp.before_text is None,
            old.secret | _secret_names(wp.desired),
        )
    state.last_apply = {"id": apply_id, "files": journal}
    # The write-ahead record, durable (its folder fsynced, which also keeps a backups folder
    # made just now) before the first settings file changes.
    try:
        state.save()
    except OSError as e:
        with contextlib.suppress(OSError):  # a bundle no journal names: it goes too
            backup.bundle(state.dir, apply_id).unlink(missing_ok=True)
        raise os_problem(e, state.path, "cannot record llmconf's state", NOTHING) from None
    with contextlib.suppress(OSError):  # old bundles that stay only cost space
        backup.prune(state.dir)
    done: list[WorktreePlan] = []
    failed = False
    try:
        for wp, new in zip(changed, prepared):
            try:
                _write_one(wp, new)
            except OSError as e:
                raise _unwritten(e, wp, len(done)) from None
            done.append(wp)
            key = str(wp.settings)
            final = records[key] if records is not None else _record_after(state, wp, previous[key])
            if final is None:
                state.files.pop(key, None)
            else:
                state.files[key] = final
    except BaseException:
        failed = True
        raise
    finally:
        for wp in changed[len(done) :]:  # not reached: back to what they were
            key = str(wp.settings)
            journal.pop(key)
            before = previous[key]
            if before is None:
                state.files.pop(key, None)
            else:
                state.files[key] = before
        try:
            # The final record only narrows the write-ahead one, which is durable and owns every
            # key written: should a crash lose this rename, the next apply converges from that
            # one, and rollback reads the same journal. So its folder is not fsynced, and when it
            # is the same text (every file written, no old key dropped) it is not written at all.
            state.save(sync_folder=False)
        except OSError as e:
            # The write-ahead record on disk owns every key written: the next apply converges.
            if not failed:
                n = len(done)
                written = f"; {n} file{'s' if n != 1 else ''} written, and the next apply completes the record"
                raise os_problem(e, state.path, "cannot record llmconf's state", written) from None
    return done


NOTHING = "; nothing written"


def _unwritten(e: OSError, wp: WorktreePlan, done: int) -> LlmconfError:
    """A settings file that could not be written, the files before it being written."""
    outcome = f"; {done} file{'s' if done != 1 else ''} before it written, it and the rest left as they were"
    if wp.role in ("delivery", "agent-key"):  # it lives in llmconf's state folder
        return os_problem(e, wp.settings, "cannot write it", outcome)
    return LlmconfError(
        f"cannot write it: {e.strerror or e.__class__.__name__}{outcome}",
        wp.settings,
        hint="fix that, then run apply again: it picks up where this one stopped",
    )


def _fingerprints(state: State, desired: Mapping[target.KeyPath, str]) -> dict[str, str]:
    return {target.key_name(k): state.fingerprint(v) for k, v in desired.items()}


def _record_after(state: State, wp: WorktreePlan, old: FileRecord | None) -> FileRecord | None:
    if not wp.desired or wp.file_action is FileAction.DELETE:
        return None
    created = (old is not None and old.created) or wp.before_text is None
    return FileRecord(_fingerprints(state, wp.desired), created, _secret_names(wp.desired))


def clean_after_crash(state: State) -> None:
    """Remove temp files an interrupted apply may have left (they can hold a key): in the
    folders of the files the last apply set out to write, as its journal lists them."""
    files = (state.last_apply or {}).get("files") or {}
    for key in files if isinstance(files, dict) else ():
        fs.remove_stale_temps(Path(key))


def _prepare(wp: WorktreePlan) -> str | None:
    """The file's new text (None: delete it)."""
    from llmconf.apply import jsonedit

    if wp.file_action is FileAction.DELETE:
        return None
    try:
        new = wp.replacement if wp.replacement is not None else jsonedit.edit(wp.before_text, wp.changes)
    except LlmconfError as e:
        e.path = e.path or wp.settings
        raise
    new.encode("utf-8")  # fails here, before any write, rather than halfway through
    return new


def _write_one(wp: WorktreePlan, new: str | None) -> None:
    text = fs.settings_text(wp.settings)  # its text only: another agent's file may not be JSON
    if text != wp.before_text:
        raise LlmconfError(
            "changed on disk since the plan was made; nothing written to it",
            wp.settings,
            hint="run the command again",
        )
    if new is None:
        fs.remove_file(wp.settings)
        # An agent's folder in the worktree (.gemini/), not one outside it (Codex's CODEX_HOME).
        # Never the worktree itself (opencode.json lives there), nor a folder above it.
        own_folder = wp.role in ("local", "dropped", "agent") and wp.worktree in wp.settings.parent.parents
        if own_folder and not os.path.islink(wp.settings.parent):
            # A file llmconf created goes; so does the .claude/ (or an agent's folder, such as
            # .gemini/) it leaves empty, not a link to one.
            with contextlib.suppress(OSError):  # anything else in it: it stays
                os.rmdir(wp.settings.parent)
        return
    if wp.role in ("delivery", "agent-key"):  # its folders are made private: they name the worktrees
        from llmconf.targets.claude_code.layers import deliveries_dir

        fs.make_dirs(deliveries_dir(), 0o700)
        fs.make_dirs(wp.settings.parent, 0o700)
    elif not os.path.lexists(wp.settings.parent) and wp.settings.parent.parent.is_dir():
        # The worktree's .claude/, and only that: a dangling symlink is refused by write_atomic
        # rather than followed into folders made outside the worktree.
        fs.make_dirs(wp.settings.parent)
    fs.write_atomic(wp.settings, new, private=wp.private)


def _secret_names(desired: Mapping[target.KeyPath, str]) -> frozenset[str]:
    return frozenset(target.key_name(k) for k, v in desired.items() if is_sensitive(v))


