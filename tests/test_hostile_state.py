"""llmconf's own files damaged or unwritable: state.json, its folder, the lock, the journal
(state.json's last_apply), the backups, saved plans, the caches. Each is one located line and
exit 1 (never an internal error, never a hang), and no worktree file changes; a failure after
the first settings file is replaced leaves a state the next apply converges from.

Tests run as root here, so chmod cannot make a file unreadable: damage is made with what a
user's system can produce (a folder, FIFO or symlink in a file's place, a file in a folder's
place, truncated or mistyped JSON), and a read-only or full disk with an OSError injected at
the exact step.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import assert_unchanged, make_repo, snapshot_tree

GROWN = '{\n    "permissions": {"allow": ["Read"]},\n    "env": {"KEEP": "1"}\n}\n'
RECOVER = "move it aside; llmconf then re-learns what it owns on the next apply"
CORRUPT = "state file is corrupt or from another version"
IN_THE_WAY = "a file stands where llmconf needs a folder"
MOVE_FOLDER = "move it aside, or set XDG_STATE_HOME to another folder"
EROFS = "the file system is read-only: set XDG_STATE_HOME to a writable folder"
ENOSPC = "free some space, then run it again"


class Hung(BaseException):
    """Not an OSError (TimeoutError is one): no `except OSError` in llmconf can swallow it."""


@pytest.fixture(autouse=True)
def hang_guard():
    """A read that blocks (a FIFO opened for reading) fails the test instead of hanging the suite."""

    def hung(signum, frame):
        raise Hung("hung for 20 s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def team(tmp_path, monkeypatch):
    """Worktrees a (a grown settings file) and b (no file yet) on a gateway with a key."""
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", SECRET)
    write_tree(
        tmp_path,
        {"worktrees.yaml": "worktrees:\n  a: openrouter\n  b: openrouter\n", "a/.claude/settings.local.json": GROWN, "b/.keep": ""},
    )
    return tmp_path


def sdir(home: Path) -> Path:
    return home / ".local" / "state" / "llmconf"


def one_line(result, line: str) -> None:
    """Exit 1, nothing on stdout, exactly `line` on stderr."""
    assert (result.code, result.out, result.err) == (1, "", f"llmconf: {line}\n")


def no_secret(result) -> None:
    assert SECRET not in result.out + result.err


# --- state.json, and the folder it lives in ---------------------------------------------

def _folder(p: Path) -> None:
    p.mkdir(parents=True)


def _fifo(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(p)


def _dangling(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.symlink_to(p.parent / "gone" / "state.json")


def _loop(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.symlink_to(p.name)


STATE_DAMAGE = {
    "a folder": (_folder, "cannot read llmconf's state: it is a folder, not a file"),
    "a FIFO": (_fifo, "cannot read llmconf's state: it is a FIFO, not a regular file"),
    "a dangling symlink": (_dangling, "cannot read llmconf's state: it is a symlink to a missing file"),
    "a symlink loop": (_loop, "cannot read llmconf's state: Too many levels of symbolic links"),
}


@pytest.mark.parametrize("kind", STATE_DAMAGE)
@pytest.mark.parametrize("argv", [("plan",), ("status",), ("apply", "--yes"), ("rollback", "--yes"), ("plan", "--out", "p.json")])
def test_a_state_file_that_is_not_a_file_is_one_line(team, run, isolated_home, kind, argv):
    make, message = STATE_DAMAGE[kind]
    state = sdir(isolated_home) / "state.json"
    make(state)
    before = snapshot_tree(team)
    one_line(run(*argv), f"{state}: {message} ({RECOVER})")
    assert_unchanged(before, team)


@pytest.mark.parametrize("where", ["llmconf", "state", ".local"])
@pytest.mark.parametrize("argv", [("plan",), ("status",), ("apply", "--yes"), ("rollback", "--list"), ("plan", "--out", "p.json")])
def test_a_file_where_the_state_folder_should_be_is_named(team, run, isolated_home, where, argv):
    blocker = {"llmconf": sdir(isolated_home), "state": sdir(isolated_home).parent, ".local": isolated_home / ".local"}[where]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder\n")
    before = snapshot_tree(team)
    doing = "cannot take llmconf's lock" if argv[0] in ("apply", "rollback") else "cannot read llmconf's state"
    outcome = "; nothing written" if argv[0] in ("apply", "rollback") else ""
    one_line(run(*argv), f"{blocker}: {doing}: {IN_THE_WAY}{outcome} ({MOVE_FOLDER})")
    assert_unchanged(before, team)
    assert blocker.read_text() == "not a folder\n"


def test_an_unreadable_state_file_says_so(team, run, isolated_home, monkeypatch):
    assert run("apply", "--yes").code == 0
    state = sdir(isolated_home) / "state.json"
    real = os.open

    def os_open(path, *args, **kwargs):  # root reads anything: simulate a 0000 state file
        if os.fspath(path) == str(state):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    before = snapshot_tree(team)
    for argv in (("plan",), ("apply", "--yes"), ("rollback", "--yes")):
        one_line(
            run(*argv),
            f"{state}: cannot read llmconf's state: Permission denied (fix its permissions, or set XDG_STATE_HOME to a folder you own)",
        )
    assert_unchanged(before, team)


def _valid_state(run, home: Path) -> dict:
    assert run("apply", "--yes").code == 0
    return json.loads((sdir(home) / "state.json").read_text())


def _files_entry(doc: dict) -> dict:
    return next(iter(doc["files"].values()))


CORRUPTIONS = {
    "truncated": lambda text, doc: text[: len(text) // 2],
    "empty": lambda text, doc: "",
    "not UTF-8": lambda text, doc: "\udcff",
    "nested too deep": lambda text, doc: "[" * 100_000 + "]" * 100_000,
    "a list": lambda text, doc: "[]",
    "files is a list": lambda text, doc: json.dumps({**doc, "files": []}),
    "keys is a list": lambda text, doc: json.dumps({**doc, "files": {k: {**v, "keys": ["K"]} for k, v in doc["files"].items()}}),
    "a fingerprint is a number": lambda text, doc: json.dumps(
        {**doc, "files": {k: {**v, "keys": {n: 1 for n in v["keys"]}} for k, v in doc["files"].items()}}
    ),
    "created is text": lambda text, doc: json.dumps({**doc, "files": {k: {**v, "created": "yes"} for k, v in doc["files"].items()}}),
    "secret is a number": lambda text, doc: json.dumps({**doc, "files": {k: {**v, "secret": 5} for k, v in doc["files"].items()}}),
    "secret is text": lambda text, doc: json.dumps({**doc, "files": {k: {**v, "secret": "KEY"} for k, v in doc["files"].items()}}),
    "a relative file name": lambda text, doc: json.dumps({**doc, "files": {"a/x.json": _files_entry(doc)}}),
    "salt not hex": lambda text, doc: json.dumps({**doc, "salt": "zz"}),
    "another version": lambda text, doc: json.dumps({**doc, "version": 99}),
}


@pytest.mark.parametrize("damage", CORRUPTIONS)
def test_a_corrupt_state_file_is_one_line_and_nothing_changes(team, run, isolated_home, damage):
    doc = _valid_state(run, isolated_home)
    state = sdir(isolated_home) / "state.json"
    text = CORRUPTIONS[damage](state.read_text(), doc)
    state.write_bytes(text.encode("utf-8", "surrogateescape"))
    (team / "a/.claude/settings.local.json").write_text(GROWN)  # so that apply has work to do
    before = snapshot_tree(team)
    for argv in (("plan",), ("apply", "--yes"), ("rollback", "--yes")):
        one_line(run(*argv), f"{state}: {CORRUPT} ({RECOVER})")
    assert_unchanged(before, team)
    state.rename(state.with_name("state.json.old"))  # the recovery the hint gives
    assert run("apply", "--yes").code == 0


# --- the journal: state.json's record of the last apply ---------------------------------

def _entry(change):
    def damage(doc: dict) -> None:
        key = next(iter(doc["last_apply"]["files"]))
        doc["last_apply"]["files"][key] = change(doc["last_apply"]["files"][key])

    return damage


JOURNAL_DAMAGE = {
    "not an object": lambda doc: doc.update(last_apply="yesterday"),
    "no id": lambda doc: doc["last_apply"].pop("id"),
    "files is a list": lambda doc: doc["last_apply"].update(files=[]),
    "an entry is text": _entry(lambda e: "gone"),
    "existed missing": _entry(lambda e: {k: v for k, v in e.items() if k != "existed"}),
    "existed is text": _entry(lambda e: {**e, "existed": "true"}),
    "record missing": _entry(lambda e: {k: v for k, v in e.items() if k != "record"}),
    "record mistyped": _entry(lambda e: {**e, "record": {"keys": 1, "created": False}}),
    "apply id a number": _entry(lambda e: {**e, "apply": 7}),
    "a file name with a NUL": lambda doc: doc["last_apply"].update(files={"/x\u0000y": {"existed": False, "record": None}}),
}


@pytest.mark.parametrize("damage", JOURNAL_DAMAGE)
def test_a_damaged_journal_costs_only_that_rollback(team, run, isolated_home, damage):
    doc = _valid_state(run, isolated_home)
    JOURNAL_DAMAGE[damage](doc)
    state = sdir(isolated_home) / "state.json"
    state.write_text(json.dumps(doc))
    before = snapshot_tree(team)
    rollback = run("rollback", "--yes")
    one_line(
        rollback,
        f"{state}: cannot roll back: the record of the last apply is damaged (the files stay as they are; their old "
        "versions are in the backups ('llmconf rollback --list'), and the next apply starts a new record)",
    )
    assert_unchanged(before, team)
    assert run("rollback", "--list").out.count("a/.claude/settings.local.json") == 1  # the backup is still listed
    plan = run("plan", "--detailed-exitcode")
    assert (plan.code, plan.err) == (0, "")  # plan and apply go on
    (team / "b/.claude/settings.local.json").unlink()
    assert run("apply", "--yes").code == 0  # writes a new journal ...
    assert run("rollback", "--yes").code == 0  # ... that rollback follows
    assert not (team / "b/.claude/settings.local.json").exists()


# --- the lock -----------------------------------------------------------------------------

def _lock_dangling(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.symlink_to(p.parent / "gone" / "lock")


def _lock_loop(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.symlink_to("lock")


LOCK_DAMAGE = {
    "a folder": (_folder, "Is a directory"),
    "a FIFO": (_fifo, "it is a FIFO, not a regular file"),
    "a dangling symlink": (_lock_dangling, "it is a symlink"),
    "a symlink loop": (_lock_loop, "it is a symlink"),
}


@pytest.mark.parametrize("kind", LOCK_DAMAGE)
@pytest.mark.parametrize("argv", [("apply", "--yes"), ("rollback", "--yes"), ("use", "anthropic", "a"), ("secret", "rm", "x")])
def test_a_damaged_lock_file_is_one_line(team, run, isolated_home, kind, argv):
    make, reason = LOCK_DAMAGE[kind]
    lock = sdir(isolated_home) / "lock"
    make(lock)
    before = snapshot_tree(team)
    one_line(
        run(*argv),
        f"{lock}: cannot take llmconf's lock: {reason}; nothing written (move it aside (no llmconf is running), then run it again)",
    )
    assert_unchanged(before, team)


def test_a_lock_file_with_junk_in_it_still_locks_and_shows_no_junk(team, run, isolated_home, monkeypatch):
    from llmconf.apply.lock import locked

    lock = sdir(isolated_home) / "lock"
    lock.parent.mkdir(parents=True)
    lock.write_bytes(b"\x1b[31m\xff\xfe" * 4000)
    assert run("apply", "--yes").code == 0  # junk in it is no harm
    assert lock.read_text() == f"{os.getpid()}\n"
    monkeypatch.setenv("LLMCONF_LOCK_TIMEOUT", "0")
    with locked(sdir(isolated_home)):
        lock.write_bytes(b"\x1b]0;owned\x07")
        result = run("apply", "--yes")
    one_line(result, f"{lock}: another llmconf (pid unknown) holds the lock; gave up after 0s (wait for it to finish, then run this again)")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400", "1e300", "3601", "-1", "-0.5", "soon", "", "10s", "0x10"])
def test_a_lock_timeout_that_is_not_a_sane_wait_is_refused(team, run, monkeypatch, value):
    monkeypatch.setenv("LLMCONF_LOCK_TIMEOUT", value)
    before = snapshot_tree(team)
    for argv in (("apply", "--yes"), ("rollback", "--yes"), ("use", "anthropic", "a")):
        one_line(
            run(*argv),
            f"LLMCONF_LOCK_TIMEOUT must be a number of seconds from 0 to 3600 (got '{value}') (unset it for the default of 10 s)",
        )
    assert_unchanged(before, team)


@pytest.mark.parametrize("value", ["0", "0.5", "3600", " 2 "])
def test_a_sane_lock_timeout_is_taken(team, run, monkeypatch, value):
    monkeypatch.setenv("LLMCONF_LOCK_TIMEOUT", value)
    assert run("apply", "--yes").code == 0


# --- a read-only or full disk, at each step of apply ----------------------------------------

@contextlib.contextmanager
def failing_replace(when, code: int) -> Iterator[list[str]]:
    """Within the block, os.replace raises OSError(code) for each target `when` accepts (the
    rename an atomic write ends with); yields the targets it refused. Its own MonkeyPatch:
    undoing the test's would undo the isolated home too."""
    real = os.replace
    refused: list[str] = []

    def replace(src, dst, *args, **kwargs):
        if when(Path(dst)):
            refused.append(os.fspath(dst))
            raise OSError(code, os.strerror(code))
        return real(src, dst, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "replace", replace)
        yield refused


def not_lock(rel) -> bool:
    return rel.name == "lock"  # each run writes its pid in it


def _no_temps(folder: Path) -> None:
    assert [p.name for p in folder.rglob("*.tmp")] == []


def _converges(run) -> None:
    """The next apply, on a sound disk, succeeds and leaves nothing to do."""
    assert run("apply", "--yes").code == 0
    assert run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize(("code", "hint"), [(errno.EROFS, EROFS), (errno.ENOSPC, ENOSPC)])
def test_state_that_cannot_be_recorded_leaves_every_file_untouched(team, run, isolated_home, code, hint):
    assert run("apply", "--yes").code == 0
    (team / "a/.claude/settings.local.json").write_text(GROWN)
    (team / "b/.claude/settings.local.json").unlink()
    state = sdir(isolated_home) / "state.json"
    before, state_before = snapshot_tree(team), snapshot_tree(sdir(isolated_home), not_lock)
    with failing_replace(lambda p: p.name == "state.json", code):
        result = run("apply", "--yes")
    assert (result.code, result.err) == (1, f"llmconf: {state}: cannot record llmconf's state: {os.strerror(code)}; nothing written ({hint})\n")
    assert_unchanged(before, team)
    assert_unchanged(state_before, sdir(isolated_home), not_lock)
    _no_temps(sdir(isolated_home))
    _converges(run)


@pytest.mark.parametrize(("code", "hint"), [(errno.ENOSPC, ENOSPC), (errno.EROFS, EROFS)])
def test_backups_that_cannot_be_kept_leave_every_file_and_the_state_as_they_were(team, run, isolated_home, code, hint):
    assert run("apply", "--yes").code == 0
    (team / "a/.claude/settings.local.json").write_text(GROWN)
    (team / "b/.claude/settings.local.json").unlink()
    state = sdir(isolated_home) / "state.json"
    before, state_text = snapshot_tree(team), state.read_bytes()
    with failing_replace(lambda p: p.parent.name == "backups", code) as refused:
        result = run("apply", "--yes")
    assert len(refused) == 1
    assert (result.code, result.err) == (
        1,
        f"llmconf: {refused[0]}: cannot keep the backups: {os.strerror(code)}; nothing written ({hint})\n",
    )
    assert_unchanged(before, team)
    assert state.read_bytes() == state_text  # the write-ahead record is taken back: rollback still undoes the last apply
    _no_temps(sdir(isolated_home))
    _converges(run)


def test_a_file_where_the_backups_folder_should_be_leaves_everything_untouched(team, run, isolated_home):
    backups = sdir(isolated_home) / "backups"
    backups.parent.mkdir(parents=True)
    backups.write_text("mine\n")
    before = snapshot_tree(team)
    result = run("apply", "--yes")
    assert (result.code, result.err) == (1, f"llmconf: {backups}: cannot keep the backups: {IN_THE_WAY}; nothing written ({MOVE_FOLDER})\n")
    assert_unchanged(before, team)
    assert not (sdir(isolated_home) / "state.json").exists()  # the backups go first: no record was written
    backups.unlink()
    _converges(run)


@pytest.mark.parametrize(("code", "hint"), [(errno.ENOSPC, ENOSPC), (errno.EROFS, EROFS)])
def test_state_that_cannot_be_recorded_after_the_write_says_the_next_apply_converges(team, run, isolated_home, code, hint):
    state = sdir(isolated_home) / "state.json"
    assert run("apply", "--yes").code == 0
    # Keys llmconf wrote go: the final record (the new keys) differs from the write-ahead one (old and new).
    (team / "worktrees.yaml").write_text("worktrees:\n  a: anthropic\n  b: anthropic\n")
    saves = []
    with failing_replace(lambda p: p.name == "state.json" and saves.append(p) is None and len(saves) > 1, code):
        result = run("apply", "--yes")  # the write-ahead record is saved, the final one is not
    assert (result.code, result.err) == (
        1,
        f"llmconf: {state}: cannot record llmconf's state: {os.strerror(code)}; 2 files written, "
        f"and the next apply completes the record ({hint})\n",
    )
    no_secret(result)
    written = {p: p.read_bytes() for p in team.rglob("settings.local.json")}
    _converges(run)
    assert {p: p.read_bytes() for p in team.rglob("settings.local.json")} == written
    assert SECRET not in state.read_text()


def test_an_apply_whose_final_record_is_its_write_ahead_one_saves_it_once(team, run, isolated_home):
    """Every file written and no key dropped: the record on disk is already the final one."""
    saves: list[str] = []
    with failing_replace(lambda p: p.name == "state.json" and saves.append(p) is None and False, errno.EIO):
        assert run("apply", "--yes").code == 0
    assert len(saves) == 1
    doc = json.loads((sdir(isolated_home) / "state.json").read_text())
    assert sorted(doc["files"]) == sorted(str(team / w / ".claude/settings.local.json") for w in "ab")
    assert run("plan", "--detailed-exitcode").code == 0
    assert run("rollback", "--yes").code == 0
    assert (team / "a/.claude/settings.local.json").read_text() == GROWN
    assert not (team / "b/.claude/settings.local.json").exists()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EIO])
def test_a_settings_file_that_cannot_be_written_says_what_was_and_the_next_apply_converges(team, run, code):
    a, b = team / "a/.claude/settings.local.json", team / "b/.claude/settings.local.json"
    with failing_replace(lambda p: p == b, code):
        result = run("apply", "--yes")
    assert (result.code, result.err) == (
        1,
        f"llmconf: b/.claude/settings.local.json: cannot write it: {os.strerror(code)}; 1 file before it written, "
        "it and the rest left as they were (fix that, then run apply again: it picks up where this one stopped)\n",
    )
    assert not b.exists() and a.read_text() != GROWN
    assert run("rollback", "--yes").code == 0  # the journal holds the file that was written
    assert (a.read_text(), b.exists()) == (GROWN, False)
    _converges(run)


@pytest.mark.parametrize(("code", "hint"), [(errno.EROFS, EROFS), (errno.EACCES, "fix its permissions, or set XDG_STATE_HOME to a folder you own")])
@pytest.mark.parametrize("exists", [True, False], ids=["state folder made", "first run"])
def test_a_state_folder_that_cannot_be_written_is_one_line(team, run, isolated_home, monkeypatch, code, hint, exists):
    """A read-only file system (or a folder root does not own, e.g. on NFS): the lock is the first write."""
    if exists:
        assert run("apply", "--yes").code == 0
        (sdir(isolated_home) / "lock").unlink()
        (team / "a/.claude/settings.local.json").write_text(GROWN)
    real_open, real_mkdir = os.open, os.mkdir
    root = str(sdir(isolated_home))

    def os_open(path, flags, *args, **kwargs):
        if os.fspath(path).startswith(root) and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if os.fspath(path).startswith(root):
            raise OSError(code, os.strerror(code))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "mkdir", mkdir)
    before = snapshot_tree(team)
    lock = sdir(isolated_home) / "lock"
    for argv in (("apply", "--yes"), ("rollback", "--yes"), ("use", "anthropic", "a")):
        one_line(run(*argv), f"{lock}: cannot take llmconf's lock: {os.strerror(code)}; nothing written ({hint})")
    assert_unchanged(before, team)
    assert run("plan").code == 0  # reading still works


def test_a_first_saved_plan_on_a_read_only_state_folder_is_one_line(team, run, isolated_home):
    sdir(isolated_home).mkdir(parents=True)
    with failing_replace(lambda p: p.name == "state.json", errno.EROFS):
        result = run("plan", "--out", "p.json")
    assert (result.code, result.err) == (
        1,
        f"llmconf: {sdir(isolated_home) / 'state.json'}: cannot record llmconf's state: Read-only file system; "
        f"no plan written ({EROFS})\n",
    )
    assert not (team / "p.json").exists()


# --- backups ---------------------------------------------------------------------------------

def _bundle(home: Path) -> Path:
    (bundle,) = (sdir(home) / "backups").glob("*.json")
    return bundle


BUNDLE_DAMAGE = {
    "truncated": lambda text: text[: len(text) // 2],
    "not UTF-8": lambda text: "\udcff",
    "nested too deep": lambda text: "[" * 100_000,
    "files a list": lambda text: '{"files": []}',
    "the entry a number": lambda text: json.dumps({"files": {k: 1 for k in json.loads(text)["files"]}}),
}


@pytest.mark.parametrize("damage", BUNDLE_DAMAGE)
def test_a_damaged_backup_is_skipped_with_a_warning(team, run, isolated_home, damage):
    assert run("apply", "--yes").code == 0
    bundle = _bundle(isolated_home)
    bundle.write_bytes(BUNDLE_DAMAGE[damage](bundle.read_text()).encode("utf-8", "surrogateescape"))
    before = snapshot_tree(team / "a")
    result = run("rollback", "--yes")
    assert result.code == 0
    assert result.err == (
        f"llmconf: warning: a/.claude/settings.local.json: no backup from apply {bundle.stem}; left as it is\n"
    )
    assert_unchanged(before, team / "a")
    assert not (team / "b/.claude/settings.local.json").exists()  # b had no backup to need
    assert run("rollback", "--list").code == 0


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "{not json", "[" * 100_000])
def test_a_backed_up_version_that_is_not_a_json_object_is_not_restored(team, run, isolated_home, text):
    assert run("apply", "--yes").code == 0
    bundle = _bundle(isolated_home)
    doc = json.loads(bundle.read_text())
    bundle.write_text(json.dumps({"files": {k: text for k in doc["files"]}}))
    before = snapshot_tree(team / "a")
    result = run("rollback", "--yes")
    assert (result.code, result.err) == (
        0,
        f"llmconf: warning: a/.claude/settings.local.json: the backup from apply {bundle.stem} is damaged; left as it is\n",
    )
    assert_unchanged(before, team / "a")


@pytest.mark.parametrize("kind", ["FIFO", "folder", "dangling symlink"])
def test_a_backup_that_is_not_a_file_is_skipped_without_hanging(team, run, isolated_home, kind):
    assert run("apply", "--yes").code == 0
    bundle = _bundle(isolated_home)
    bundle.unlink()
    {"FIFO": os.mkfifo, "folder": os.mkdir, "dangling symlink": lambda p: os.symlink("gone.json", p)}[kind](bundle)
    assert run("rollback", "--list").out == "No backups.\n"
    result = run("rollback", "--yes")
    assert (result.code, result.err) == (
        0,
        f"llmconf: warning: a/.claude/settings.local.json: no backup from apply {bundle.stem}; left as it is\n",
    )
    (team / "a/.claude/settings.local.json").write_text(GROWN)
    assert run("apply", "--yes").code == 0  # pruning passes over it


# --- saved plans -----------------------------------------------------------------------------

def _saved(run, team: Path) -> dict:
    assert run("plan", "--out", "p.json").code == 0
    return json.loads((team / "p.json").read_text())


SAVED_DAMAGE = {
    "truncated": lambda text, doc: text[: len(text) // 2],
    "not UTF-8": lambda text, doc: "\udcff",
    "nested too deep": lambda text, doc: "[" * 100_000 + "]" * 100_000,
    "empty": lambda text, doc: "",
    "a worktree is a number": lambda text, doc: json.dumps({**doc, "worktrees": [1]}),
    "a worktree with a NUL": lambda text, doc: json.dumps({**doc, "worktrees": ["a\u0000b"]}),
    "config_dir with a NUL": lambda text, doc: json.dumps({**doc, "config_dir": "/tmp/\u0000"}),
    "config_dir relative": lambda text, doc: json.dumps({**doc, "config_dir": "cfg"}),
    "config_dir empty": lambda text, doc: json.dumps({**doc, "config_dir": ""}),
    "inputs a list": lambda text, doc: json.dumps({**doc, "inputs": []}),
    "no kind": lambda text, doc: json.dumps({k: v for k, v in doc.items() if k != "kind"}),
}


@pytest.mark.parametrize("damage", SAVED_DAMAGE)
def test_a_damaged_saved_plan_is_one_line_and_nothing_changes(team, run, damage):
    doc = _saved(run, team)
    path = team / "p.json"
    path.write_bytes(SAVED_DAMAGE[damage](path.read_text(), doc).encode("utf-8", "surrogateescape"))
    before = snapshot_tree(team)
    one_line(run("apply", "p.json"), "p.json: not a saved llmconf plan (make one with 'llmconf plan --out FILE')")
    assert_unchanged(before, team)


def test_a_saved_plan_with_mistyped_inputs_is_stale_not_an_internal_error(team, run):
    doc = _saved(run, team)
    doc["inputs"] = {name: [1] for name in doc["inputs"]}
    (team / "p.json").write_text(json.dumps(doc))
    before = snapshot_tree(team)
    result = run("apply", "p.json")
    assert (result.code, result.err.count("\n"), result.err.startswith("llmconf: p.json: stale plan: ")) == (1, 1, True)
    assert_unchanged(before, team)


def test_a_fifo_given_as_a_saved_plan_does_not_hang(team, run):
    os.mkfifo(team / "p.json")
    result = run("apply", "p.json")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("llmconf: 'p.json' is not a worktree declared in worktrees.yaml")


# --- deliveries, the configs index, the caches --------------------------------------------

@pytest.fixture
def fleet(tmp_path):
    """A main checkout on gateway a and a linked worktree on gateway b: wt needs a --settings delivery."""
    make_repo(tmp_path, "main", linked=("wt",))
    profile = "base_url: http://gw-{0}\nmodels: {{sonnet: {0}-sonnet}}\n"
    write_tree(
        tmp_path,
        {
            "cfg/worktrees.yaml": "worktrees:\n  ../main: a\n  ../wt: b\n",
            "cfg/profiles/a.yaml": profile.format("a"),
            "cfg/profiles/b.yaml": profile.format("b"),
        },
    )
    return tmp_path


@pytest.mark.parametrize("blocker", ["deliver", "deliver/<worktree>"])
def test_a_file_where_a_deliveries_folder_should_be_stops_apply_before_any_write(fleet, run, isolated_home, blocker):
    from llmconf.targets.claude_code.layers import delivery_path

    delivery = delivery_path(fleet / "wt")
    path = sdir(isolated_home) / "deliver" if blocker == "deliver" else delivery.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("mine\n")
    before = snapshot_tree(fleet)
    result = run("-C", "cfg", "apply", "--yes")  # the plan finds it, so no worktree is written
    assert (result.code, result.err.splitlines()) == (
        1,
        [f"llmconf: {delivery}: cannot read it: not a directory (a part of that path is a file, not a folder)", "llmconf: nothing written: fix the errors above, or name the other worktrees"],
    )
    assert_unchanged(before, fleet)
    assert path.read_text() == "mine\n"


@pytest.mark.parametrize("kind", ["FIFO", "folder", "deep JSON", "a list"])
def test_a_damaged_configs_index_is_only_a_lost_convenience(team, run, isolated_home, kind):
    index = sdir(isolated_home) / "configs.json"
    index.parent.mkdir(parents=True)
    {
        "FIFO": os.mkfifo,
        "folder": os.mkdir,
        "deep JSON": lambda p: p.write_text("[" * 100_000),
        "a list": lambda p: p.write_text("[1]"),
    }[kind](index)
    assert run("apply", "--yes").code == 0
    assert run("plan", cwd=team / "a").code == 0


@pytest.mark.parametrize("kind", ["FIFO", "deep JSON", "a list", "folder"])
def test_a_damaged_cache_entry_is_a_miss(team, run, isolated_home, kind):
    assert run("plan").code == 0
    cache = isolated_home / ".cache" / "llmconf"
    entries = sorted(cache.glob("*.json"))
    assert entries  # the config cache at least
    for entry in entries:
        entry.unlink()
        {
            "FIFO": os.mkfifo,
            "folder": os.mkdir,
            "deep JSON": lambda p: p.write_text("[" * 100_000),
            "a list": lambda p: p.write_text("[1]"),
        }[kind](entry)
    first = run("plan")
    assert (first.code, first.err) == (0, "")
    assert run("apply", "--yes").code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_state_folder_unprivileged(team, run, isolated_home):
    """The same as a user without root sees it: chmod makes the state folder read-only."""
    assert run("apply", "--yes").code == 0
    (team / "a/.claude/settings.local.json").write_text(GROWN)
    before = snapshot_tree(team)
    sdir(isolated_home).chmod(0o500)
    try:
        result = run("apply", "--yes")
    finally:
        sdir(isolated_home).chmod(0o700)
    assert (result.code, result.err) == (
        1,
        f"llmconf: {sdir(isolated_home) / 'state.json'}: cannot record llmconf's state: Permission denied; nothing written "
        "(fix its permissions, or set XDG_STATE_HOME to a folder you own)\n",
    )
    assert_unchanged(before, team)
