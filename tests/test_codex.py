"""Codex as a target, on real files: plan, apply, status, rollback, use --apply and exec on
worktrees with `agents: [codex]`; llmconf's profile file in CODEX_HOME, the key outside every
repository, the user's files untouched."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import assert_unchanged, files_holding, git, make_repo, snapshot_tree

GATEWAY = """\
endpoints: {openai: http://127.0.0.1:9/v1}
auth_token: "{{ secret('gw') }}"
models: {haiku: h-1, sonnet: s-1, opus: o-1}
"""
OTHER = GATEWAY.replace(":9/", ":8/").replace("-1", "-2")
DIRECT = "description: Anthropic direct\nmodels: {sonnet: s-d}\n"


@pytest.fixture
def codex_home(tmp_path, monkeypatch):
    """CODEX_HOME for the test: plan and exec read it alike."""
    folder = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(folder))
    return folder


@pytest.fixture
def repo(tmp_path, run, codex_home):
    """A git repository `repo` whose worktree lists codex, the gateway's key in the store."""
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [codex]}\n",
            "profiles/gw.yaml": GATEWAY,
            "profiles/other.yaml": OTHER,
            "profiles/direct.yaml": DIRECT,
        },
    )
    return tmp_path / "repo"


def _profile(worktree):
    from llmconf.targets.codex.agent import profile_name

    return profile_name(worktree)


def _profile_file(codex_home, worktree):
    return codex_home / f"{_profile(worktree)}.config.toml"


def _key_file(worktree):
    return os.path.join(os.environ["XDG_STATE_HOME"], "llmconf", "deliver", str(worktree).lstrip("/"), "codex-key.json")


PROFILE_TEXT = """\
# Written by llmconf, which owns this file and rewrites it on apply: change the profile in
# llmconf's config instead. 'llmconf exec -- codex' (or activate's codex) selects it with -p.

model = "s-1"
model_provider = "llmconf"

[model_providers.llmconf]
name = "llmconf (gw)"
base_url = "http://127.0.0.1:9/v1"
env_key = "LLMCONF_CODEX_API_KEY"
wire_api = "responses"
"""


def test_apply_writes_a_profile_in_codex_home_and_keeps_the_key_out_of_the_worktree(repo, run, codex_home):
    path = _profile_file(codex_home, repo)
    plan = run("plan")
    assert plan.code == 0, plan.err
    assert plan.out.splitlines()[0] == f"# repo: {os.path.relpath(path)} (profile gw) will be created"
    assert '  + model_providers.llmconf.env_key  = "LLMCONF_CODEX_API_KEY"' in plan.out
    assert "env.LLMCONF_CODEX_API_KEY = (sensitive)" in plan.out and SECRET not in plan.out
    as_json = json.loads(run("plan", "--json").out)
    assert [(w["settings_file"], w["role"], w["agent"], w["action"]) for w in as_json["worktrees"]] == [
        (str(path), "agent", "codex", "create"),
        (_key_file(repo), "agent-key", "codex", "create"),
    ]
    assert run("apply", "--yes").code == 0
    assert path.read_text() == PROFILE_TEXT
    assert tomllib.loads(path.read_text()) == {
        "model": "s-1",
        "model_provider": "llmconf",
        "model_providers": {
            "llmconf": {"name": "llmconf (gw)", "base_url": "http://127.0.0.1:9/v1", "env_key": "LLMCONF_CODEX_API_KEY", "wire_api": "responses"}
        },
    }
    with open(_key_file(repo)) as f:
        assert json.load(f) == {"env": {"LLMCONF_CODEX_API_KEY": SECRET, "LLMCONF_CODEX_MODEL": "s-1"}}
    assert stat.S_IMODE(os.stat(_key_file(repo)).st_mode) == 0o600
    assert files_holding(repo, SECRET) == [] and files_holding(codex_home, SECRET) == []
    assert sorted(p.name for p in repo.iterdir()) == [".git"]  # nothing written into the worktree
    assert run("plan").out == "No changes.\n"


def test_the_profile_name_is_stable_one_per_path_and_one_codex_takes(tmp_path):
    from llmconf.targets.codex.agent import profile_name

    names = {profile_name(tmp_path / f) for f in ("a/repo", "b/repo", "a/repo/", "c/my repo.v2", "d/ünï", "/")}
    assert profile_name(tmp_path / "a/repo") == profile_name(str(tmp_path / "a/repo/"))
    assert len(names) == 5  # a/repo and a/repo/ are one path
    assert all(n.startswith("llmconf-") and all(c.isascii() and (c.isalnum() or c in "-_") for c in n) for n in names)
    assert profile_name(tmp_path / "c/my repo.v2").startswith("llmconf-my-repo-v2-")
    assert profile_name("/").startswith("llmconf-root-")


@pytest.mark.parametrize("model", ['a"b', "back\\slash", "new\nline\ttab", "ünï-çødé ✓", "ctl\x01\x7f", "'single' [x] = #"])
def test_any_model_name_round_trips_through_the_profile_file(repo, run, tmp_path, codex_home, model):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace("sonnet: s-1", f"sonnet: {json.dumps(model)}")})
    assert run("apply", "--yes").code == 0
    doc = tomllib.loads(_profile_file(codex_home, repo).read_text())
    assert doc["model"] == model
    assert run("plan").out == "No changes.\n"


def test_the_toml_writer_writes_what_tomllib_reads_back():
    import datetime

    from llmconf.targets.codex import toml

    doc = {
        "s": 'q"b\\n\n\r\t\x00\x1f\x7fé✓',
        "n": 3, "f": 1.5, "big": 1e300, "inf": float("inf"), "t": True, "no": False,
        "d": datetime.date(2024, 1, 2), "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "list": [1, "two", [3], {"k": "v"}],
        "odd key": {"a.b": {"c": "d"}, "e": {}},
        "table": {"x": "y", "sub": {"z": 1}},
    }
    assert tomllib.loads(toml.dumps(doc)) == doc
    assert toml.string("a\"b\\c\nd\x01") == '"a\\"b\\\\c\\nd\\u0001"'
    assert toml.key("model_providers") == "model_providers" and toml.key("a.b") == '"a.b"' and toml.key("") == '""'


def test_status_shows_codex_and_what_a_trusted_project_sets(repo, run, tmp_path, codex_home):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [claude-code, codex]}\n",
            "profiles/gw.yaml": GATEWAY + "base_url: http://127.0.0.1:9/api\n",
        },
    )
    assert run("apply", "--yes").code == 0
    rows = json.loads(run("status", "--json").out)["worktrees"]
    assert [(r["agent"], r["backend"], r["sonnet"], r["haiku"], r["state"]) for r in rows] == [
        ("claude-code", "http://127.0.0.1:9/api", "s-1", "h-1", "in-sync"),
        ("codex", "http://127.0.0.1:9/v1", "s-1", "-", "in-sync"),
    ]
    assert rows[1]["effective"] == "as declared"
    write_tree(repo, {".codex/config.toml": 'model = "m-project"\n'})
    assert json.loads(run("status", "--json").out)["worktrees"][1]["effective"] == "as declared"  # untrusted: Codex ignores it
    write_tree(codex_home, {"config.toml": f'[projects."{repo}"]\ntrust_level = "trusted"\n'})
    assert json.loads(run("status", "--json").out)["worktrees"][1]["effective"] == (
        "differs: .codex/config.toml sets model, which beats the profile's unless codex starts through llmconf exec"
    )
    _profile_file(codex_home, repo).write_text(PROFILE_TEXT.replace('"s-1"', '"hand-edited"'))
    assert "drifted" in json.loads(run("status", "--json").out)["worktrees"][1]["state"]


def test_a_linked_worktree_is_trusted_through_its_main_checkout(tmp_path, run, codex_home):
    from llmconf.targets.codex.agent import effective

    main = make_repo(tmp_path, "r", linked=("r-x",))
    sibling = tmp_path / "r-x"
    write_tree(sibling, {".codex/config.toml": 'model = "m"\n'})
    assert effective(sibling, {"CODEX_HOME": str(codex_home)}) is None
    write_tree(codex_home, {"config.toml": f'[projects."{main}"]\ntrust_level = "trusted"\n'})
    assert "sets model" in (effective(sibling, {"CODEX_HOME": str(codex_home)}) or "")


def test_use_switches_the_profile_and_the_users_keys_in_it_survive(repo, run, codex_home):
    assert run("apply", "--yes").code == 0
    path = _profile_file(codex_home, repo)
    path.write_text('approval_policy = "never"\n' + path.read_text() + '\n[model_providers.llmconf.http_headers]\nX-Team = "a"\n')
    assert run("plan").out == "No changes.\n"
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    doc = tomllib.loads(path.read_text())
    assert doc["model"] == "s-2" and doc["approval_policy"] == "never"
    assert doc["model_providers"]["llmconf"] == {
        "name": "llmconf (other)", "base_url": "http://127.0.0.1:8/v1", "env_key": "LLMCONF_CODEX_API_KEY",
        "wire_api": "responses", "http_headers": {"X-Team": "a"},
    }
    with open(_key_file(repo)) as f:
        assert json.load(f)["env"]["LLMCONF_CODEX_MODEL"] == "s-2"
    assert run("plan").out == "No changes.\n"


def test_rollback_puts_the_profile_file_and_the_key_file_back(repo, run, codex_home):
    path = _profile_file(codex_home, repo)
    assert run("apply", "--yes").code == 0
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    result = run("rollback", "repo", "--yes")
    assert (result.code, result.err) == (0, "")
    assert path.read_text() == PROFILE_TEXT
    with open(_key_file(repo)) as f:
        assert json.load(f)["env"]["LLMCONF_CODEX_MODEL"] == "s-1"


def test_leaving_codex_out_of_agents_deletes_its_files_and_rollback_restores_them(repo, run, tmp_path, codex_home):
    path = _profile_file(codex_home, repo)
    # The user's own Codex files: llmconf never writes them.
    mine = {"config.toml": '# mine\nmodel = "gpt-x"\n[projects."/x"]\ntrust_level = "trusted"\n', "work.config.toml": 'model = "w"\n'}
    write_tree(codex_home, mine)
    write_tree(repo, {".codex/config.toml": "# the project's\n"})
    assert run("apply", "--yes").code == 0
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n"})
    plan = run("plan")
    assert f"# repo: {os.path.relpath(path)} (profile gw) will be deleted" in plan.out
    assert "- env.LLMCONF_CODEX_API_KEY = (sensitive)" in plan.out
    assert run("apply", "--yes").code == 0
    assert not path.exists() and not os.path.exists(_key_file(repo))
    assert (repo / "opencode.json").exists()
    result = run("rollback", "--yes")
    assert (result.code, result.err) == (0, "")
    assert path.read_text() == PROFILE_TEXT and os.path.exists(_key_file(repo))
    assert not (repo / "opencode.json").exists()
    assert {name: (codex_home / name).read_text() for name in mine} == mine
    assert (repo / ".codex/config.toml").read_text() == "# the project's\n"


def test_rolling_back_the_first_apply_removes_both_files(repo, run, codex_home):
    assert run("apply", "--yes").code == 0
    assert run("rollback", "--yes").code == 0
    assert not _profile_file(codex_home, repo).exists() and not os.path.exists(_key_file(repo))
    assert list(codex_home.iterdir()) == []


def test_a_profile_file_that_is_not_toml_is_an_error_and_stays(repo, run, codex_home):
    assert run("apply", "--yes").code == 0
    path = _profile_file(codex_home, repo)
    path.write_text('model = "s-1"\nmodel_provider = \n')
    before = snapshot_tree(codex_home)
    result = run("plan")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"llmconf: {os.path.relpath(path)}:2: invalid TOML: invalid value (column 18) "
        "(fix it by hand, or delete it and apply again; llmconf never overwrites a file it cannot parse)"
    )
    assert run("apply", "--yes").code == 1
    assert_unchanged(before, codex_home)


def test_a_profile_without_a_key_sends_none_and_exec_still_selects_the_profile(repo, run, tmp_path, codex_home):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace("auth_token: \"{{ secret('gw') }}\"\n", "")})
    assert run("apply", "--yes").code == 0
    assert "env_key" not in _profile_file(codex_home, repo).read_text()
    with open(_key_file(repo)) as f:
        assert json.load(f) == {"env": {"LLMCONF_CODEX_MODEL": "s-1"}}
    done = _exec(repo, tmp_path, "codex", "exec", "hi")
    assert done.stdout.splitlines() == ["-p", _profile(repo), "-c", 'model="s-1"', "exec", "hi", "key=unset"]


def test_agent_models_picks_codexs_model(repo, run, tmp_path, codex_home):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY + "agent_models:\n  codex: {main: opus}\n"})
    assert run("apply", "--yes").code == 0
    assert tomllib.loads(_profile_file(codex_home, repo).read_text())["model"] == "o-1"
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo:\n    profile: gw\n    agents: [codex]\n    agent_models: {codex: {main: vendor/x-9}}\n"})
    assert run("apply", "--yes").code == 0
    assert tomllib.loads(_profile_file(codex_home, repo).read_text())["model"] == "vendor/x-9"
    with open(_key_file(repo)) as f:
        assert json.load(f)["env"]["LLMCONF_CODEX_MODEL"] == "vendor/x-9"
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace("sonnet: s-1, ", ""), "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [codex]}\n"})
    result = run("plan")
    assert (result.code, result.err.splitlines()[0]) == (
        1,
        "llmconf: worktrees.yaml:2: profile 'gw' gives codex no main model (set models.sonnet in the profile "
        "(or agent_models.codex.main: a slot or a model ID), or leave codex out of agents:)",
    )


def test_doctor_reports_codex_and_a_trusted_projects_model(repo, run, codex_home):
    assert run("apply", "--yes").code == 0
    path = os.path.relpath(_profile_file(codex_home, repo))
    assert run("doctor").out.splitlines()[:3] == [
        "# repo: codex (profile gw): http://127.0.0.1:9/v1",
        "  main    s-1",
        f"  via     {path}; the key through llmconf exec / activate (codex)",
    ]
    write_tree(repo, {".codex/config.toml": 'model = "m-project"\n'})
    write_tree(codex_home, {"config.toml": f'[projects."{repo}"]\ntrust_level = "trusted"\n'})
    assert run("doctor").out.splitlines()[3] == (
        f"  warning: {path}: codex started here would not use what llmconf declares: "
        ".codex/config.toml sets model, which beats the profile's unless codex starts through llmconf exec"
    )


# --- launch: llmconf exec and the activate hook --------------------------------------------

FAKE_CODEX = '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\nprintf "key=%s\\n" "${LLMCONF_CODEX_API_KEY-unset}"\n'


def _exec(cwd, tmp_path, *argv, **env):
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        (bin_dir / "codex").write_text(FAKE_CODEX)
        (bin_dir / "codex").chmod(0o755)
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(
        [sys.executable, "-m", "llmconf", "exec", "--", *argv], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60
    )


def test_exec_selects_the_worktrees_profile_and_model_and_hands_over_the_key(repo, run, tmp_path):
    (repo / "sub").mkdir()
    assert run("apply", "--yes").code == 0
    done = _exec(repo / "sub", tmp_path, "codex", "exec", "--json", "hi")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["-p", _profile(repo), "-c", 'model="s-1"', "exec", "--json", "hi", f"key={SECRET}"]
    # Subcommands that refuse -p (login, features...), and a profile the user names, run as typed.
    for argv in (["login", "status"], ["-c", "x=1", "features", "list"], ["debug", "models"], ["exec", "-p", "mine", "hi"], ["--profile=mine"]):
        done = _exec(repo, tmp_path, "codex", *argv)
        assert done.stdout.splitlines() == [*argv, f"key={SECRET}"], argv
    assert _exec(repo, tmp_path, "codex", "-m", "x", "debug", "prompt-input").stdout.splitlines()[:2] == ["-p", _profile(repo)]
    # Another program gets the variable alone; outside the worktree, nothing.
    assert _exec(repo, tmp_path, "sh", "-c", 'printf "%s" "$LLMCONF_CODEX_API_KEY"').stdout == SECRET
    assert _exec(tmp_path, tmp_path, "codex", "exec", "hi").stdout.splitlines() == ["exec", "hi", "key=unset"]


def test_exec_refuses_when_codex_home_is_not_where_apply_wrote_the_profile(repo, run, tmp_path):
    """Codex 0.171.0 given a profile it cannot find falls back to its built-in OpenAI provider."""
    assert run("apply", "--yes").code == 0
    elsewhere = tmp_path / "elsewhere"
    done = _exec(repo, tmp_path, "codex", "exec", "hi", CODEX_HOME=str(elsewhere))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"llmconf: {elsewhere / _profile(repo)}.config.toml: no Codex profile file for the worktree {repo}: codex would use its "
        "own provider (run 'llmconf apply' with CODEX_HOME as it is here (apply writes the profile into CODEX_HOME, else ~/.codex))\n"
    )


def test_takes_profile_reads_codex_options_up_to_its_subcommand():
    from llmconf.targets.codex.agent import takes_profile

    assert takes_profile([]) and takes_profile(["fix the bug"]) and takes_profile(["exec", "hi"]) and takes_profile(["e", "hi"])
    assert takes_profile(["-m", "login", "resume", "--last"])  # -m takes a value: the subcommand is resume
    assert takes_profile(["--model=x", "-s", "read-only", "review"]) and takes_profile(["--", "-p"])
    assert not takes_profile(["-c", "a=1", "completion", "bash"]) and not takes_profile(["features"])
    assert not takes_profile(["-p", "mine"]) and not takes_profile(["-pmine", "exec"]) and not takes_profile(["exec", "--profile", "x"])


def test_linked_and_nested_worktrees_each_get_their_own_profile(tmp_path, run, codex_home):
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    main = make_repo(tmp_path, "r", linked=("r-x",))
    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "agents: [codex]\nworktrees:\n  r: gw\n  r-x: other\n  r/.worktrees/nest: other\n",
            "profiles/gw.yaml": GATEWAY,
            "profiles/other.yaml": OTHER.replace("secret('gw')", "'sk-other'"),
        },
    )
    assert run("apply", "--yes").code == 0
    seen = {}
    for name, cwd in (("main", main), ("sibling", tmp_path / "r-x"), ("nested", main / ".worktrees/nest")):
        lines = _exec(cwd, tmp_path, "codex", "exec", "hi").stdout.splitlines()
        assert lines[1] == _profile(cwd)
        seen[name] = (lines[3], lines[-1], tomllib.loads(_profile_file(codex_home, cwd).read_text())["model_providers"]["llmconf"]["base_url"])
    assert seen == {
        "main": ('model="s-1"', f"key={SECRET}", "http://127.0.0.1:9/v1"),
        "sibling": ('model="s-2"', "key=sk-other", "http://127.0.0.1:8/v1"),
        "nested": ('model="s-2"', "key=sk-other", "http://127.0.0.1:8/v1"),
    }
    assert len({_profile(p) for p in (main, tmp_path / "r-x", main / ".worktrees/nest")}) == 3


def test_activate_runs_a_plain_codex_through_exec(repo, run, tmp_path):
    import shutil

    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    assert run("apply", "--yes").code == 0
    _exec(repo, tmp_path, "true")  # writes the fake codex into tmp_path/bin
    hook = run("activate", "bash").out
    script = f"{hook}\ncd {repo}\ncodex exec hi\ncd {tmp_path}\ncodex exec hi\n"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["-p", _profile(repo), "-c", 'model="s-1"', "exec", "hi", f"key={SECRET}", "exec", "hi", "key=unset"]


def test_a_model_from_a_secret_never_goes_on_codexs_command_line(repo, run, tmp_path, codex_home):
    assert run("secret", "set", "m", stdin="vendor/secret-model-7\n").code == 0
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace("sonnet: s-1", "sonnet: \"{{ secret('m') }}\"")})
    assert run("apply", "--yes").code == 0
    assert 'model = "vendor/secret-model-7"' in _profile_file(codex_home, repo).read_text()  # the profile file names it (0600)
    done = _exec(repo, tmp_path, "codex", "exec", "hi")
    assert done.stdout.splitlines() == ["-p", _profile(repo), "exec", "hi", f"key={SECRET}"]  # no -c model=: `ps` would show it
    assert "secret-model-7" not in run("plan").out + run("status").out
