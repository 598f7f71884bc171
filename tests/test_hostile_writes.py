"""Writes keep what they found (issue 18): only regular files are written, no folder the user
did not ask for is made, and a replaced file keeps its mode, owner and line endings."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.helpers import assert_unchanged, snapshot_tree

SETTINGS = "a/.claude/settings.local.json"
CONFIG = {"worktrees.yaml": "worktrees:\n  a: openrouter\n", "a/.keep": ""}
#: What the openrouter profile adds to a settings file, as apply reports it.
ADDED = "Apply complete: 12 added, 0 changed, 0 removed.\n"
NOTHING = "llmconf: nothing written: fix the errors above, or name the other worktrees\n"
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "k-test")


def cli(cwd: Path, *argv: str, stdin: str = "v\n", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """llmconf in a subprocess, for what may hang (a FIFO): 20 s is a hang guard, not a timing."""
    return subprocess.run(
        [sys.executable, "-m", "llmconf", *argv],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, **(env or {})},
    )


def _device(path: Path) -> None:
    """A char device like /dev/null, made here: a test never points llmconf at a real device,
    so a regression replaces this node, not the machine's /dev/null."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")


# --- regular files only -----------------------------------------------------------------


def _special(tmp_path: Path, kind: str) -> Path:
    """A path that is no regular file, made in tmp_path."""
    path = tmp_path / "out"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        _device(path)
    elif kind == "device-link":
        _device(tmp_path / "null")
        path.symlink_to(tmp_path / "null")
    elif kind == "fifo-link":
        os.mkfifo(tmp_path / "pipe")
        path.symlink_to(tmp_path / "pipe")
    else:
        path.mkdir()
    return path


def _special_message(kind: str) -> str:
    return {
        "fifo": "out: is a FIFO, not a regular file",
        "device": "out: is a device, not a regular file",
        "device-link": "out: is a symlink to null, which is a device, not a regular file",
        "fifo-link": "out: is a symlink to pipe, which is a FIFO, not a regular file",
        "dir": "out: is a directory, not a regular file",
    }[kind]


def _still_special(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "out"
    if kind == "fifo":
        assert stat.S_ISFIFO(path.lstat().st_mode)
    elif kind == "device":
        assert stat.S_ISCHR(path.lstat().st_mode)
    elif kind == "device-link":
        assert stat.S_ISCHR((tmp_path / "null").lstat().st_mode) and path.is_symlink()
    elif kind == "fifo-link":
        assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode) and path.is_symlink()
    else:
        assert path.is_dir() and os.listdir(path) == []


KINDS = ["fifo", "device", "device-link", "fifo-link", "dir"]
HINT = "; nothing written (llmconf writes only regular files: remove it or name another path)"


@pytest.mark.parametrize("kind", KINDS)
def test_plan_out_writes_only_a_regular_file(tmp_path, kind, isolated_home):
    write_tree(tmp_path, CONFIG)
    _special(tmp_path, kind)
    result = cli(tmp_path, "plan", "--out", "out")
    assert (result.returncode, result.stderr) == (1, f"llmconf: {_special_message(kind)}{HINT}\n")
    _still_special(tmp_path, kind)
    # Refused before anything else: not even the state's salt was made.
    assert not (isolated_home / ".local" / "state" / "llmconf").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_secret_set_file_writes_only_a_regular_file(tmp_path, kind):
    _special(tmp_path, kind)
    result = cli(tmp_path, "secret", "set", "x", "--file", "out")
    assert (result.returncode, result.stderr) == (1, f"llmconf: {_special_message(kind)}{HINT}\n")
    _still_special(tmp_path, kind)


@pytest.mark.parametrize("verb", [("set", "x"), ("rm", "x")])
@pytest.mark.parametrize("kind", KINDS)
def test_secrets_file_env_writes_only_a_regular_file(tmp_path, kind, verb):
    _special(tmp_path, kind)
    result = cli(tmp_path, "secret", *verb, env={"LLMCONF_SECRETS_FILE": str(tmp_path / "out")})
    assert (result.returncode, result.stderr) == (1, f"llmconf: {_special_message(kind)}{HINT}\n")
    _still_special(tmp_path, kind)


def test_a_secrets_file_like_dev_null_is_refused_and_stays_a_device(tmp_path):
    # A root CI container may point the store at /dev/null to switch it off: storing is
    # refused (nothing is kept), the device stays one, and read, it is an empty store.
    _device(tmp_path / "null")
    env = {"LLMCONF_SECRETS_FILE": str(tmp_path / "null")}
    result = cli(tmp_path, "secret", "set", "x", env=env)
    assert (result.returncode, result.stderr) == (1, f"llmconf: null: is a device, not a regular file{HINT}\n")
    assert stat.S_ISCHR((tmp_path / "null").lstat().st_mode)
    listed = cli(tmp_path, "secret", "list", env=env)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "")


# --- no folders the user did not ask for -------------------------------------------------


def test_plan_out_makes_no_folder(tmp_path, run):
    write_tree(tmp_path, CONFIG)
    for out, shown in (("nope/dir/x.plan", "nope/dir"), (str(tmp_path / "abs" / "x.plan"), "abs")):
        result = run("plan", "--out", out)
        assert (result.code, result.err) == (
            1,
            f"llmconf: {os.path.relpath(out) if out.startswith(str(tmp_path)) else out}: cannot be written: the folder {shown} does not exist "
            "(create that folder first; llmconf makes no folder there)\n",
        )
    assert sorted(os.listdir(tmp_path)) == ["a", "worktrees.yaml"]


@pytest.mark.parametrize("how", ["--file", "env"])
def test_a_named_secret_store_makes_no_folder(tmp_path, run, monkeypatch, how):
    store = tmp_path / "nope" / "secrets.env"
    if how == "env":
        monkeypatch.setenv("LLMCONF_SECRETS_FILE", str(store))
        result = run("secret", "set", "x", stdin="v\n")
    else:
        result = run("secret", "set", "x", "--file", str(store), stdin="v\n")
    assert (result.code, result.err) == (
        1,
        "llmconf: nope/secrets.env: cannot be written: the folder nope does not exist "
        "(create that folder first; llmconf makes no folder there)\n",
    )
    assert not store.parent.exists()


def test_the_default_secret_store_folder_is_still_made(tmp_path, run, monkeypatch, isolated_home):
    monkeypatch.delenv("LLMCONF_SECRETS_FILE")
    assert run("secret", "set", "x", stdin="v\n").code == 0
    store = isolated_home / ".config" / "llmconf" / "secrets.env"
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700 and store.read_text().endswith('x="v"\n')


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_dangling_settings_symlink_makes_no_folder_outside(tmp_path, run, link):
    write_tree(tmp_path, CONFIG)
    far = tmp_path / "outside" / "deep" / "settings.json"
    if link == "file":
        (tmp_path / "a" / ".claude").mkdir()
        (tmp_path / SETTINGS).symlink_to(far)
        what = f"{SETTINGS}: is a symlink to outside/deep/settings.json"
    else:  # .claude itself points nowhere
        (tmp_path / "a" / ".claude").symlink_to(far.parent)
        what = f"{SETTINGS}: leads through a symlink to outside/deep/settings.local.json"
    expected = (
        f"llmconf: {what}, which cannot be written: the folder outside/deep does not exist "
        "(fix or remove the symlink; llmconf makes no folder there)\n"
    )
    before = snapshot_tree(tmp_path)
    for argv in (("plan",), ("apply", "--yes")):
        result = run(*argv)
        assert (result.code, result.err) == (1, expected + (NOTHING if argv[0] == "apply" else ""))
    assert not (tmp_path / "outside").exists()
    assert_unchanged(before, tmp_path)


def test_a_settings_symlink_whose_folder_exists_is_written_through(tmp_path, run):
    write_tree(tmp_path, {**CONFIG, "shared/.keep": ""})
    (tmp_path / "a" / ".claude").mkdir()
    (tmp_path / SETTINGS).symlink_to(tmp_path / "shared" / "settings.json")
    assert run("apply", "--yes").code == 0
    assert (tmp_path / SETTINGS).is_symlink()
    assert "ANTHROPIC_BASE_URL" in json.loads((tmp_path / "shared" / "settings.json").read_text())["env"]


# --- read-only files -----------------------------------------------------------------------


READ_ONLY = "is read-only; nothing written (make it writable (chmod u+w) or remove it, then run again)"


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o040, 0o000])
def test_a_read_only_settings_file_is_refused_by_plan_and_apply(tmp_path, run, mode):
    write_tree(tmp_path, {**CONFIG, SETTINGS: '{"env": {"KEEP": "1"}}\n'})
    settings = tmp_path / SETTINGS
    settings.chmod(mode)
    before = snapshot_tree(tmp_path)
    plan = run("plan")
    assert (plan.code, plan.err) == (1, f"llmconf: {SETTINGS}: {READ_ONLY}\n")
    apply = run("apply", "--yes")
    assert (apply.code, apply.err) == (1, f"llmconf: {SETTINGS}: {READ_ONLY}\n{NOTHING}")
    assert_unchanged(before, tmp_path)


def test_a_read_only_file_whose_only_change_is_its_mode_is_refused_by_plan(tmp_path, run):
    # Applied, then made 0444: the key is in place, and only 'mode -> 0600' is left to do,
    # which is a write too: plan says apply will refuse it.
    write_tree(tmp_path, CONFIG)
    assert run("apply", "--yes").code == 0
    (tmp_path / SETTINGS).chmod(0o444)
    before = snapshot_tree(tmp_path)
    plan = run("plan")
    assert (plan.code, plan.err) == (1, f"llmconf: {SETTINGS}: {READ_ONLY}\n")
    apply = run("apply", "--yes")
    assert (apply.code, apply.err) == (1, f"llmconf: {SETTINGS}: {READ_ONLY}\n{NOTHING}")
    assert_unchanged(before, tmp_path)


def test_other_read_only_targets_are_refused(tmp_path, run, isolated_home):
    write_tree(tmp_path, {**CONFIG, "p.plan": "old\n", "b/.keep": ""})
    (tmp_path / "p.plan").chmod(0o444)
    store = isolated_home / "secrets.env"
    store.write_text("# store\n")
    store.chmod(0o400)
    (tmp_path / "worktrees.yaml").chmod(0o444)
    before = snapshot_tree(tmp_path)
    cases = [
        (("plan", "--out", "p.plan"), "p.plan"),
        (("secret", "set", "x"), str(store)),
        (("secret", "rm", "x"), str(store)),
        (("use", "anthropic", "a"), "worktrees.yaml"),
    ]
    for argv, shown in cases:
        result = run(*argv, stdin="v\n")
        assert (result.code, result.err) == (1, f"llmconf: {shown}: {READ_ONLY}\n"), argv
    assert_unchanged(before, tmp_path)
    assert store.read_text() == "# store\n"


# --- line endings ----------------------------------------------------------------------------


def _line_ends(data: bytes) -> tuple[int, int]:
    """(CRLF line ends, bare LF line ends)."""
    crlf = data.count(b"\r\n")
    return crlf, data.count(b"\n") - crlf


@pytest.mark.parametrize(
    ("text", "crlf"),
    [
        ('{\r\n  "env": {\r\n    "KEEP": "1"\r\n  }\r\n}\r\n', True),
        ('{"env": {"KEEP": "1"}}\r\n', True),
        ('{\r\n  "env": {"KEEP": "1"},\r\n  "x": 1\n}\r\n', True),  # mixed: CRLF dominant
        ('{\n  "env": {"KEEP": "1"},\n  "x": 1\r\n}\n', False),  # mixed: LF dominant
        ('{\n  "env": {"KEEP": "1"}\n}\n', False),
    ],
)
def test_a_settings_file_keeps_its_line_endings(tmp_path, run, text, crlf):
    write_tree(tmp_path, CONFIG)
    settings = tmp_path / SETTINGS
    settings.parent.mkdir()
    settings.write_bytes(text.encode())
    assert run("apply", "--yes").code == 0
    data = settings.read_bytes()
    crlfs, lfs = _line_ends(data)
    assert (crlfs > 0, lfs) == (True, 0) if crlf else (crlfs, lfs > 0) == (0, True)
    assert json.loads(data)["env"]["KEEP"] == "1"
    # ...and a rollback brings the old text back in the same style.
    assert run("rollback", "--yes").code == 0
    back = settings.read_bytes()
    assert _line_ends(back)[1 if crlf else 0] == 0
    assert json.loads(back) == json.loads(text)


@pytest.mark.parametrize(
    ("argv", "entry"),
    [
        (("use", "anthropic", "a"), "  a: anthropic # main\r\n"),  # an entry edited in place
        (("use", "anthropic", "b"), "  b: anthropic\r\n"),  # an entry appended
    ],
)
def test_worktrees_yaml_keeps_crlf_after_use(tmp_path, run, argv, entry):
    write_tree(tmp_path, {"a/.keep": "", "b/.keep": ""})
    config = tmp_path / "worktrees.yaml"
    config.write_bytes(b"# team\r\nworktrees:\r\n  a: openrouter # main\r\n")
    result = run(*argv)
    assert result.code == 0, result.err
    data = config.read_bytes().decode()
    assert _line_ends(data.encode())[1] == 0
    assert entry in data and data.startswith("# team\r\nworktrees:\r\n")


def test_worktrees_yaml_keeps_crlf_after_import(tmp_path, run):
    write_tree(tmp_path, {"old/.keep": ""})
    config = tmp_path / "worktrees.yaml"
    config.write_bytes(b"# team\r\nworktrees:\r\n  a: anthropic\r\n")
    (tmp_path / "a").mkdir()
    settings = tmp_path / "old" / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text('{"env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic"}}\n')
    result = run("import", "old")
    assert result.code == 0, result.err
    data = config.read_bytes()
    assert _line_ends(data)[1] == 0 and b"\r\n  old:" in data


# --- JSON the client would reject --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"env": {"X": NaN}}\n', "1: invalid JSON: NaN is not JSON (column 15)"),
        ('{\n  "x": "NaN is fine here",\n  "y": Infinity\n}\n', "3: invalid JSON: Infinity is not JSON (column 8)"),
        ('{\n  "y": [1,\n    -Infinity]\n}\n', "3: invalid JSON: -Infinity is not JSON (column 5)"),
        ('{"a": "\\"NaN", "b": NaN}', "1: invalid JSON: NaN is not JSON (column 21)"),
    ],
)
def test_nan_and_infinity_are_refused_as_invalid_json(tmp_path, run, text, where):
    write_tree(tmp_path, {**CONFIG, SETTINGS: text})
    before = snapshot_tree(tmp_path)
    line = f"llmconf: {SETTINGS}:{where} (fix it by hand; llmconf never overwrites a file it cannot parse)\n"
    plan = run("plan")
    assert (plan.code, plan.err) == (1, line)
    apply = run("apply", "--yes")
    assert (apply.code, apply.err) == (1, line + NOTHING)
    assert_unchanged(before, tmp_path)


def test_the_word_nan_inside_a_string_is_plain_json(tmp_path, run):
    write_tree(tmp_path, {**CONFIG, SETTINGS: '{"note": "NaN, Infinity and -Infinity"}\n'})
    assert run("apply", "--yes").code == 0
    assert json.loads((tmp_path / SETTINGS).read_text())["note"] == "NaN, Infinity and -Infinity"


# --- ownership ------------------------------------------------------------------------------------


@root_only
def test_apply_as_root_keeps_the_owner_of_a_users_file(tmp_path, run):
    write_tree(tmp_path, {**CONFIG, SETTINGS: '{"env": {"KEEP": "1"}}\n'})
    settings = tmp_path / SETTINGS
    os.chown(settings, 1234, 1235)
    assert run("apply", "--yes").code == 0
    st = settings.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 1235, 0o600)


@root_only
def test_a_new_file_as_root_belongs_to_its_folders_owner(tmp_path, run):
    write_tree(tmp_path, CONFIG)
    os.chown(tmp_path / "a", 1234, 1235)
    assert run("apply", "--yes").code == 0
    for path in (tmp_path / "a" / ".claude", tmp_path / SETTINGS):
        assert (path.stat().st_uid, path.stat().st_gid) == (1234, 1235), path


@root_only
def test_config_store_and_state_keep_their_owner_as_root(tmp_path, run, isolated_home):
    write_tree(tmp_path, {**CONFIG, "b/.keep": ""})
    os.chown(tmp_path / "worktrees.yaml", 1234, 1235)
    store = isolated_home / "secrets.env"
    store.write_text("")
    os.chown(store, 1234, 1235)
    state_dir = isolated_home / ".local" / "state" / "llmconf"
    state_dir.mkdir(parents=True)
    os.chown(state_dir, 1234, 1235)  # the user's own state folder: a sudo run must leave it theirs
    assert run("use", "anthropic", "b").code == 0
    assert run("secret", "set", "x", stdin="v\n").code == 0
    assert run("apply", "--yes").code == 0
    owned = [tmp_path / "worktrees.yaml", store, state_dir / "state.json"]
    assert {(p.stat().st_uid, p.stat().st_gid) for p in owned} == {(1234, 1235)}


@root_only
def test_caches_and_the_hook_as_root_belong_to_their_folders_owner(tmp_path, run, isolated_home):
    """A sudo run leaves the user's caches (the config cache, the config index) and the
    repository's hook theirs, as it does their settings files."""
    from tests.helpers import make_repo

    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {"worktrees.yaml": "repos:\n  repo: anthropic\n"})
    cache, state = isolated_home / ".cache" / "llmconf", isolated_home / ".local" / "state" / "llmconf"
    for folder in (cache, state):
        folder.mkdir(parents=True)
        os.chown(folder, 1234, 1235)
    os.chown(repo / ".git" / "hooks", 1234, 1235)
    assert run("apply", "--yes").code == 0
    assert run("plan").code == 0  # a second run: the config cache is written
    assert run("git-hook", "install", "repo").code == 0
    written = [*cache.rglob("*"), state / "configs.json", repo / ".git/hooks/post-checkout"]
    assert len([p for p in written if p.is_file()]) >= 3
    assert {(p.stat().st_uid, p.stat().st_gid) for p in written} == {(1234, 1235)}


# --- the hint for an unknown profile -------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "name", "hint"),
    [
        ({"profiles/.hidden.yaml": "base_url: http://x\n"}, ".hidden", "profiles/.hidden.yaml is a hidden file, never loaded as a profile: rename it to hidden.yaml"),
        ({"profiles/.hidden.yaml": "base_url: http://x\n"}, "hidden", "profiles/.hidden.yaml is a hidden file, never loaded as a profile: rename it to hidden.yaml"),
        ({}, ".nope", "a profile's name never starts with '.': a hidden file is not a profile"),
        ({"profiles/mine.yaml": "base_url: http://x\n"}, "mien", "did you mean 'mine'?"),
    ],
)
def test_an_unknown_profile_hint_never_names_itself(tmp_path, run, files, name, hint):
    write_tree(tmp_path, {**files, "worktrees.yaml": f"worktrees:\n  a: '{name}'\n", "a/.keep": ""})
    plan = run("plan")
    assert (plan.code, plan.err) == (1, f"llmconf: worktrees.yaml:2: unknown profile '{name}' ({hint})\n")
    use = run("use", name, "a")
    assert (use.code, use.err) == (1, f"llmconf: unknown profile '{name}' ({hint})\n")
    assert f"'{name}'" not in hint


def test_a_folder_where_a_profile_would_be_is_reported_there(tmp_path, run):
    write_tree(tmp_path, {"profiles/dir.yaml/.keep": "", "worktrees.yaml": "worktrees:\n  a: dir\n", "a/.keep": ""})
    plan = run("plan")
    assert (plan.code, plan.err) == (1, "llmconf: profiles/dir.yaml: is a directory, not a regular file (move it out of the way)\n")


def test_a_folder_named_like_a_profile_is_not_listed_as_one(tmp_path, run):
    write_tree(tmp_path, {"profiles/zz-dir.yaml/.keep": "", "worktrees.yaml": "worktrees:\n  a: zz\n", "a/.keep": ""})
    result = run("plan")
    assert result.code == 1 and "zz-dir" not in result.err


# --- duplicate keys and lone surrogates: kept as the user wrote them ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"x": "\\ud800", "env": {"Y": "\\udc00z"}}\n',  # lone surrogates: JSON.parse takes them too
        '{"env": {"A": "1"}, "env": {"B": "2"}}\n',  # duplicates: the last one is read, both are kept
        '{"env": {"ANTHROPIC_BASE_URL": "mine", "ANTHROPIC_BASE_URL": "b"}}\n',
    ],
)
def test_odd_but_valid_json_survives_apply_and_rollback(tmp_path, run, text):
    write_tree(tmp_path, {**CONFIG, SETTINGS: text})
    settings = tmp_path / SETTINGS
    assert run("apply", "--yes").code == 0
    written = settings.read_text()
    assert written.startswith(text[: text.index('"env"')]) and json.loads(written)["env"]["ANTHROPIC_AUTH_TOKEN"] == "k-test"
    if '"A"' in text:
        assert written.startswith('{"env": {"A": "1"}, "env": {"B": "2", ')
    assert run("rollback", "--yes").code == 0
    assert settings.read_text() == text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"env": {"A": "1"}, "env": {"ANTHROPIC_BASE_URL": "b"}}\n', "env"),
        ('{"env": {"ANTHROPIC_BASE_URL": "mine", "ANTHROPIC_BASE_URL": "b"}}\n', "ANTHROPIC_BASE_URL"),
    ],
)
def test_duplicate_keys_are_never_dropped_by_a_rewrite(tmp_path, run, text, name):
    # Removing the keys would surface or rewrite a shadowed duplicate: refused, not lost.
    write_tree(tmp_path, {**CONFIG, SETTINGS: text})
    assert run("apply", "--yes").code == 0
    settings = tmp_path / SETTINGS
    config = (tmp_path / "worktrees.yaml").read_bytes()
    before = snapshot_tree(tmp_path, skip=lambda rel: rel.name == "worktrees.yaml")  # use puts it back
    result = run("use", "anthropic", "a", "--apply", "--yes")
    assert (result.code, result.err) == (  # the plan already refuses it, before anything is written
        1,
        f"llmconf: {SETTINGS}: has the key '{name}' twice in one object, and this change cannot be made without "
        "dropping one; nothing written (merge the duplicates by hand (Claude Code reads only the last), then run again)\n"
        "llmconf: nothing written: fix the errors above, or name the other worktrees\n"
        "llmconf: warning: worktrees.yaml put back as it was: the switch is undone with the apply\n",
    )
    assert_unchanged(before, tmp_path, skip=lambda rel: rel.name == "worktrees.yaml")
    assert (tmp_path / "worktrees.yaml").read_bytes() == config
    assert settings.read_text().startswith(text[: text.index('"b"')])
