"""Replay: a `plan` or `status` whose inputs have not changed prints the last run's record.

Every test runs llmconf as a user does, a process of its own (`python -m llmconf`) on real
files, and holds a replayed run to the oracle: the same command with replay off
(LLMCONF_REPLAY=0), run on the same files. LLMCONF_REPLAY=explain makes each run say on
stderr whether it was replayed or recorded; that line is taken off before outputs are compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import files_holding, git, make_repo

EXPLAIN = "llmconf: replay: "

CONFIG = {
    "team/worktrees.yaml": (
        "worktrees:\n"
        "  ../a: gateway\n"
        "  ../b:\n"
        "    profile: gateway\n"
        "    models: {sonnet: qwen/qwen3-coder}\n"
    ),
    "team/profiles/gateway.yaml": (
        "base_url: https://openrouter.ai/api\n"
        "auth_token: \"{{ secret('gw') }}\"\n"
        "models: {haiku: mistralai/devstral-2512, sonnet: deepseek/deepseek-v3.2, opus: anthropic/claude-opus-4.5}\n"
    ),
    "a/README.md": "a\n",
    "b/README.md": "b\n",
}


@dataclass
class Run:
    code: int
    out: str
    err: str  # without the explain line
    said: str  # the explain line(s)


def llmconf(cwd: Path, *argv: str, replay: str = "explain", env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "llmconf", *argv],
        cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {}), "LLMCONF_REPLAY": replay},
    )
    lines = proc.stderr.splitlines(keepends=True)
    said = "".join(line for line in lines if line.startswith(EXPLAIN))
    err = "".join(line for line in lines if not line.startswith(EXPLAIN))
    return Run(proc.returncode, proc.stdout, err, said)


def store_secret(value: str) -> None:
    subprocess.run([sys.executable, "-m", "llmconf", "secret", "set", "gw"], input=value, text=True, check=True, capture_output=True)


def settle() -> None:
    """Let the coarse clock move past the last write: a file changed in the tick a run starts
    in is never recorded (see llmconf/replay.py)."""
    time.sleep(0.03)


def assert_as_if_run_afresh(cwd: Path, *argv: str, replayed: bool | None, env: dict[str, str] | None = None) -> Run:
    """The run prints what a run with replay off does; `replayed`: and was (not) a replay."""
    got = llmconf(cwd, *argv, env=env)
    fresh = llmconf(cwd, *argv, replay="0", env=env)
    assert (got.code, got.out, got.err) == (fresh.code, fresh.out, fresh.err)
    if replayed is not None:
        assert got.said.startswith(f"{EXPLAIN}replayed") == replayed, got.said
    return got


@pytest.fixture
def team(tmp_path: Path) -> Path:
    write_tree(tmp_path, CONFIG)
    store_secret(SECRET)
    settle()
    return tmp_path / "team"


@pytest.mark.parametrize("argv", [("plan",), ("plan", "--detailed-exitcode"), ("status",), ("plan", "--json")])
def test_a_second_run_is_replayed_and_prints_exactly_what_a_fresh_run_does(team, argv):
    first = llmconf(team, *argv)
    assert first.said.startswith(f"{EXPLAIN}recorded "), first.said
    assert first.code == (2 if "--detailed-exitcode" in argv else 0)
    assert_as_if_run_afresh(team, *argv, replayed=True)


def test_a_replay_imports_nothing_but_the_replay_itself(team):
    llmconf(team, "plan")
    probe = (
        "import sys\n"
        "sys.argv = ['llmconf', 'plan']\n"
        "from llmconf.__main__ import main\n"
        "code = main()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'jinja2', 'ruamel', 'argparse', 'typing', 'json')"
        " or m.startswith('llmconf.') and m not in ('llmconf.__main__', 'llmconf.replay'))\n"
        "print('IMPORTED', heavy, code, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=team, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env={**os.environ}
    )
    assert "IMPORTED [] 0" in proc.stderr, proc.stderr
    assert proc.stdout == llmconf(team, "plan", replay="0").out


def test_after_apply_the_next_plan_says_no_changes(team):
    llmconf(team, "plan")
    assert llmconf(team, "apply", "--yes").code == 0
    settle()
    run = assert_as_if_run_afresh(team, "plan", replayed=False)
    assert "No changes." in run.out
    assert_as_if_run_afresh(team, "plan", replayed=True)


def _edit_settings_same_size(root: Path) -> None:
    path = root / "a/.claude/settings.local.json"
    text = path.read_text()
    path.write_text(text.replace("deepseek/deepseek-v3.2", "deepseek/deepseek-v3.3"))  # same size, same second


def _add_project_settings(root: Path) -> None:
    # A file that was not there when the run was recorded: the project layer of worktree b.
    write_tree(root, {"b/.claude/settings.json": '{"env": {"ANTHROPIC_BASE_URL": "https://example.invalid"}}\n'})


def _edit_profile(root: Path) -> None:
    path = root / "team/profiles/gateway.yaml"
    path.write_text(path.read_text().replace("anthropic/claude-opus-4.5", "anthropic/claude-opus-4.1"))


def _add_profile_dir_entry(root: Path) -> None:
    write_tree(root, {"team/profiles/other.yaml": "description: another\n"})


def _change_secret(root: Path) -> None:
    store_secret(SECRET + "2")


def _remove_state(root: Path) -> None:
    for path in (Path(os.environ["XDG_STATE_HOME"]) / "llmconf").glob("state.json"):
        path.unlink()


EDITS = [_edit_settings_same_size, _add_project_settings, _edit_profile, _add_profile_dir_entry, _change_secret, _remove_state]


@pytest.mark.parametrize("edit", EDITS, ids=[e.__name__.strip("_") for e in EDITS])
@pytest.mark.parametrize("command", ["plan", "status"])
def test_any_change_to_an_input_is_a_miss_and_the_output_is_fresh(team, edit, command):
    assert llmconf(team, "apply", "--yes").code == 0
    settle()
    llmconf(team, command)
    assert_as_if_run_afresh(team, command, replayed=True)
    before = llmconf(team, command, replay="0")
    edit(team.parent)
    settle()
    after = assert_as_if_run_afresh(team, command, replayed=None)
    if (after.code, after.out, after.err) != (before.code, before.out, before.err):
        assert not after.said.startswith(f"{EXPLAIN}replayed")
    elif edit in (_add_project_settings, _add_profile_dir_entry):
        pass  # may be no input of this command (plan reads no project layer)
    else:
        assert not after.said.startswith(f"{EXPLAIN}replayed"), after.said  # an input, though the output is the same
    assert_as_if_run_afresh(team, command, replayed=True)  # and recorded anew


def test_another_folder_terminal_or_variable_is_another_record(team):
    llmconf(team, "plan")
    assert_as_if_run_afresh(team, "plan", replayed=True)
    assert_as_if_run_afresh(team / "profiles", "plan", replayed=False)  # another folder
    assert_as_if_run_afresh(team, "plan", replayed=False, env={"COLUMNS": "60"})  # a variable it read
    assert_as_if_run_afresh(team, "plan", replayed=False, env={"XDG_STATE_HOME": str(team / "state")})


@pytest.mark.parametrize(
    "env, why",
    [
        ({"LLMCONF_SECRET_GW": "sk-or-v1-" + "f" * 64}, "may hold a secret"),
        ({"ANTHROPIC_API_KEY": "kept-in-the-shell"}, None),  # status reads it: a secret-like name
    ],
)
def test_a_run_that_read_a_secret_from_the_environment_is_not_recorded(team, env, why):
    for command in ("plan", "status"):
        run = llmconf(team, command, env=env)
        assert run.code == 0, run.err
        if why is not None or command == "status":
            assert run.said.startswith(f"{EXPLAIN}not recorded: "), run.said
            assert_as_if_run_afresh(team, command, replayed=False, env=env)
    for value in env.values():
        assert files_holding(Path(os.environ["XDG_CACHE_HOME"]), value) == []


def test_a_template_reading_a_set_variable_is_not_recorded_and_an_unset_one_is_an_input(team):
    profile = team / "profiles/gateway.yaml"
    profile.write_text(profile.read_text() + "env:\n  TEAM_NAME: \"{{ env('WHO', 'nobody') }}\"\n")
    settle()
    assert llmconf(team, "plan").said.startswith(f"{EXPLAIN}recorded ")  # WHO unset: kept as unset
    assert_as_if_run_afresh(team, "plan", replayed=True)
    run = llmconf(team, "plan", env={"WHO": "who-is-kept-nowhere"})
    assert "not recorded: it read $WHO" in run.said
    assert_as_if_run_afresh(team, "plan", replayed=False, env={"WHO": "who-is-kept-nowhere"})
    assert files_holding(Path(os.environ["XDG_CACHE_HOME"]), "who-is-kept-nowhere") == []


def test_a_run_that_writes_or_fails_is_not_recorded(team):
    run = llmconf(team, "plan", "--out", "saved.plan")
    assert run.code == 0 and "not recorded: it wrote" in run.said
    assert llmconf(team, "plan", "--out", "saved.plan").said.startswith(f"{EXPLAIN}not recorded")
    (team / "profiles/gateway.yaml").write_text("base_url: [unclosed\n")
    settle()
    failed = llmconf(team, "plan")
    assert failed.code == 1 and "not recorded: it exited 1" in failed.said
    assert_as_if_run_afresh(team, "plan", replayed=False)


def test_a_file_stamped_in_the_current_tick_or_later_is_not_trusted(team):
    future = time.time() + 3600
    os.utime(team / "worktrees.yaml", (future, future))
    run = llmconf(team, "plan")
    assert "not recorded: " in run.said and "worktrees.yaml changed in the clock tick" in run.said


@pytest.mark.parametrize("damage", [b"", b"\0" * 9, b"garbage that is no record", "truncate"])
def test_a_damaged_record_is_a_miss(team, damage):
    llmconf(team, "plan")
    [record] = (Path(os.environ["XDG_CACHE_HOME"]) / "llmconf/replay").iterdir()
    data = record.read_bytes()
    record.write_bytes(data[: len(data) // 2] if damage == "truncate" else damage)
    assert_as_if_run_afresh(team, "plan", replayed=False)


def test_the_record_is_private_and_holds_no_secret(team):
    assert llmconf(team, "apply", "--yes").code == 0
    settle()
    llmconf(team, "plan")
    [record] = (Path(os.environ["XDG_CACHE_HOME"]) / "llmconf/replay").iterdir()
    assert record.stat().st_mode & 0o777 == 0o600
    assert files_holding(Path(os.environ["XDG_CACHE_HOME"]), SECRET) == []


def test_in_a_git_repository_what_git_answers_is_an_input(tmp_path):
    """git decides whether a key may go into a settings file (it must be ignored): a change to
    .gitignore, or to the index, is a miss."""
    repo = make_repo(tmp_path, ignore=False)
    write_tree(repo, {".gitignore": ".claude/settings.local.json\n"})
    write_tree(tmp_path, {"team/worktrees.yaml": "worktrees:\n  ../repo: gateway\n", "team/profiles/gateway.yaml": CONFIG["team/profiles/gateway.yaml"]})
    store_secret(SECRET)
    team = tmp_path / "team"
    settle()
    assert llmconf(team, "plan").said.startswith(f"{EXPLAIN}recorded ")
    assert_as_if_run_afresh(team, "plan", replayed=True)
    (repo / ".gitignore").write_text("# nothing ignored\n")  # now one `git add .` would commit the key
    settle()
    run = assert_as_if_run_afresh(team, "plan", replayed=False)
    assert run.code == 1 and "git does not ignore this file" in run.err
    (repo / ".gitignore").write_text(".claude/settings.local.json\n")
    settle()
    assert_as_if_run_afresh(team, "plan", replayed=False)
    assert_as_if_run_afresh(team, "plan", replayed=True)
    write_tree(repo, {".claude/settings.local.json": "{}\n"})
    git(repo, "add", "-f", ".claude/settings.local.json")  # tracked now: the index changed
    settle()
    run = assert_as_if_run_afresh(team, "plan", replayed=False)
    assert run.code == 1


def test_replay_off_records_nothing(team):
    llmconf(team, "plan", replay="0")
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "llmconf/replay").exists()


def test_a_secret_named_like_a_path_or_url_is_still_a_secret(team):
    """LLMCONF_SECRET_* holds a secret whatever the secret is called (db-url ends in _URL), and
    a value with a password in a URL is one whatever the variable is called."""
    profile = team / "profiles/gateway.yaml"
    profile.write_text(profile.read_text().replace("secret('gw')", "secret('db-url')"))
    settle()
    cache = Path(os.environ["XDG_CACHE_HOME"])
    run = llmconf(team, "plan", env={"LLMCONF_SECRET_DB_URL": "postgres://app:hunter2@db/x"})
    assert run.code == 0 and "not recorded: it read $LLMCONF_SECRET_DB_URL" in run.said, (run.err, run.said)
    assert files_holding(cache, "hunter2") == []
    profile.write_text(profile.read_text().replace("secret('db-url')", "secret('gw')") + "env:\n  WHERE: \"{{ vars.where }}\"\n")
    (team / "worktrees.yaml").write_text("vars: {where: x}\n" + (team / "worktrees.yaml").read_text())
    settle()
    run = llmconf(team, "status", env={"ANTHROPIC_BASE_URL": "https://app:hunter3@gw.example/api"})
    assert "not recorded: " in run.said, run.said
    assert files_holding(cache, "hunter3") == []


def test_a_record_whose_output_is_not_text_is_a_miss(team):
    """A record with a sound checksum but chunks of the wrong type (written by anything but
    llmconf) prints nothing of itself: the run goes on as if there were none."""
    import marshal
    import zlib

    llmconf(team, "plan")
    [record] = (Path(os.environ["XDG_CACHE_HOME"]) / "llmconf/replay").iterdir()
    key, env, prefixes, inputs, code, chunks = marshal.loads(record.read_bytes()[4:])
    for bad in ([(1, b"bytes, not text")], [(1, "fine"), (2, None)], [("x", 1)]):
        data = marshal.dumps((key, env, prefixes, inputs, code, bad))
        record.write_bytes(zlib.crc32(data).to_bytes(4, "big") + data)
        assert_as_if_run_afresh(team, "plan", replayed=False)


def test_a_time_in_whole_seconds_must_be_two_seconds_old():
    """A file system that keeps whole seconds (its ctime says so) keeps them through a second
    change in the same second: such a file is trusted only when two seconds old. (No file
    system here keeps whole seconds, so the rule is asked directly.)"""
    from llmconf.recorder import Recorder

    recorder = Recorder(["plan"])
    recorder.tick = tick = 1_800_000_000_500_000_000  # half a second into a second
    second = tick // 1_000_000_000 * 1_000_000_000

    def sig(mtime: int, ctime: int) -> tuple[int, ...]:
        return (0o100644, 1, 2, 0, 0, 10, mtime, ctime)

    assert recorder._settled(sig(tick - 1_000, tick - 1_000))  # fine times, before the tick
    assert not recorder._settled(sig(tick - 1_000, tick))  # changed in the tick
    assert not recorder._settled(sig(second, second))  # whole seconds: this very second
    assert not recorder._settled(sig(second - 1_000_000_000, second - 1_000_000_000))  # and the last
    assert recorder._settled(sig(second - 3_000_000_000, second - 3_000_000_000))
    assert recorder._settled(sig(second, tick - 1_000))  # a whole mtime set by hand, fine ctime


def test_git_config_named_by_the_environment_is_not_followed(tmp_path):
    repo = make_repo(tmp_path)
    write_tree(tmp_path, {"team/worktrees.yaml": "worktrees:\n  ../repo: gateway\n", "team/profiles/gateway.yaml": CONFIG["team/profiles/gateway.yaml"]})
    store_secret(SECRET)
    team = tmp_path / "team"
    settle()
    run = llmconf(team, "plan", env={"GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig")})
    assert "not recorded: GIT_CONFIG_GLOBAL" in run.said, run.said
    # Git's own variables that carry config (and may carry credentials) are no input, never kept.
    header = "'http.extraheader'='Authorization: Basic dXNlcjpodW50ZXIy'"
    first = llmconf(team, "plan", env={"GIT_CONFIG_PARAMETERS": header})
    assert first.said.startswith(f"{EXPLAIN}recorded "), first.said
    assert files_holding(Path(os.environ["XDG_CACHE_HOME"]), "dXNlcjpodW50ZXIy") == []
    assert repo.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (a sudo run)")
def test_a_record_made_under_sudo_belongs_to_the_cache_folders_owner(team):
    """A `sudo llmconf plan` keeping HOME must leave the user's cache theirs: else no run of
    theirs could record again."""
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "llmconf"
    cache.mkdir(parents=True, exist_ok=True)
    os.chown(cache, 1234, 1235)
    assert llmconf(team, "plan").said.startswith(f"{EXPLAIN}recorded ")
    made = [cache / "replay", *(cache / "replay").iterdir()]
    assert len(made) == 2
    assert {(p.stat().st_uid, p.stat().st_gid) for p in made} == {(1234, 1235)}
