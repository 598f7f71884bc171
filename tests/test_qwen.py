"""Qwen Code as a target, on real files: plan, apply, status, rollback and use --apply on a
worktree with `agents: [qwen]`; llmconf owns one entry of modelProviders.openai and the user's
entries and text survive; no key in the worktree."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import assert_unchanged, files_holding, make_repo, snapshot_tree

GATEWAY = """\
base_url: http://127.0.0.1:9/api
endpoints: {openai: http://127.0.0.1:9/v1}
auth_token: "{{ secret('gw') }}"
models: {haiku: h-1, sonnet: vendor/s-1.5, opus: o-1}
"""
OTHER = GATEWAY.replace(":9/", ":8/").replace("-1", "-2")
DIRECT = "description: Anthropic direct\n"
#: A project file the user grew by hand: their own provider, an MCP server, their own layout.
USER_FILE = """\
{
    // comments are not allowed by llmconf yet: none here
    "mcpServers": {"docs": {"command": "docs-server"}},
    "modelProviders": {
        "openai": [
            {"id": "vendor/s-1.5", "name": "Mine", "baseUrl": "http://mine/v1", "envKey": "MINE_KEY"}
        ],
        "anthropic": [{"id": "claude-x", "baseUrl": "http://mine/anthropic"}]
    },
    "model": {"temperature": 0.2},
    "$version": 4
}
""".replace("    // comments are not allowed by llmconf yet: none here\n", "")
ENTRY = {"id": "vendor/s-1.5", "name": "llmconf", "baseUrl": "http://127.0.0.1:9/v1", "envKey": "LLMCONF_QWEN_API_KEY"}


@pytest.fixture
def repo(tmp_path, store_secret):
    """A git repository `repo` whose worktree lists qwen, the gateway's key in the store."""
    store_secret("gw", SECRET)
    make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [qwen]}\n",
            "profiles/gw.yaml": GATEWAY,
            "profiles/other.yaml": OTHER,
            "profiles/direct.yaml": DIRECT,
        },
    )
    return tmp_path / "repo"


def _state_home():
    from pathlib import Path

    return Path(os.environ["XDG_STATE_HOME"])


def _key_file(worktree):
    return _state_home() / "llmconf" / "deliver" / str(worktree).lstrip("/") / "qwen-key.json"


def test_apply_adds_one_provider_entry_and_keeps_the_users_and_the_key_out(repo, run):
    settings = repo / ".qwen" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_FILE)
    plan = run("plan")
    assert plan.code == 0, plan.err
    assert plan.out.splitlines()[0] == f"# repo: {os.path.relpath(settings)} (profile gw) will be updated"
    assert f'  + {"model.name":36} = "vendor/s-1.5"' in plan.out
    assert "  + modelProviders.openai.[name=llmconf] = {" in plan.out
    assert "env.LLMCONF_QWEN_API_KEY = (sensitive)" in plan.out
    assert SECRET not in plan.out and ".claude" not in plan.out
    as_json = json.loads(run("plan", "--json").out)
    assert [(w["settings_file"], w["role"], w["agent"], w["action"]) for w in as_json["worktrees"]] == [
        (str(settings), "agent", "qwen", "update"),
        (str(_key_file(repo)), "agent-key", "qwen", "create"),
    ]
    assert run("apply", "--yes").code == 0
    text = settings.read_text()
    assert json.loads(text) == {
        "mcpServers": {"docs": {"command": "docs-server"}},
        "modelProviders": {
            "openai": [
                ENTRY,
                {"id": "vendor/s-1.5", "name": "Mine", "baseUrl": "http://mine/v1", "envKey": "MINE_KEY"},
            ],
            "anthropic": [{"id": "claude-x", "baseUrl": "http://mine/anthropic"}],
        },
        "model": {"temperature": 0.2, "name": "vendor/s-1.5", "baseUrl": "http://127.0.0.1:9/v1"},
        "$version": 4,
        "security": {"auth": {"selectedType": "openai"}},
    }
    # llmconf's entry goes first (Qwen Code takes the first of two that match), laid out as
    # the user's; their text is kept byte for byte around it.
    mine = '{"id": "vendor/s-1.5", "name": "Mine", "baseUrl": "http://mine/v1", "envKey": "MINE_KEY"}'
    before = USER_FILE[: USER_FILE.index(mine)]
    assert text.startswith(before + "{\n") and (",\n" + before.rsplit("\n", 1)[-1] + mine) in text
    assert '        "anthropic": [{"id": "claude-x", "baseUrl": "http://mine/anthropic"}]\n    },\n    "model": {"temperature": 0.2' in text
    assert files_holding(repo, SECRET) == []
    key_file = _key_file(repo)
    assert json.loads(key_file.read_text()) == {"env": {"LLMCONF_QWEN_API_KEY": SECRET}}
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run("plan").out == "No changes.\n"


def test_leaving_qwen_out_gives_back_the_users_file_byte_for_byte(repo, run, tmp_path):
    settings = repo / ".qwen" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_FILE)
    assert run("apply", "--yes").code == 0
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n"})  # Claude Code only, the default
    plan = run("plan")
    assert "  - modelProviders.openai.[name=llmconf] = {" in plan.out
    assert run("apply", "--yes").code == 0
    assert settings.read_text() == USER_FILE
    assert not _key_file(repo).exists()
    assert run("plan").out == "No changes.\n"


def test_what_qwen_adds_and_the_users_edits_survive_a_switch(repo, run):
    assert run("apply", "--yes").code == 0
    settings = repo / ".qwen" / "settings.json"
    created = json.loads(settings.read_text())
    assert created == {
        "modelProviders": {"openai": [ENTRY]},
        "security": {"auth": {"selectedType": "openai"}},
        "model": {"name": "vendor/s-1.5", "baseUrl": "http://127.0.0.1:9/v1"},
    }
    # Qwen Code adds "$version" to a file without one; the user adds a provider before ours and a setting.
    mine = {"id": "local", "name": "Local", "baseUrl": "http://localhost:1/v1", "envKey": "LOCAL_KEY"}
    created["modelProviders"]["openai"].insert(0, mine)
    settings.write_text(json.dumps({**created, "ui": {"theme": "dark"}, "$version": 4}, indent=2))
    assert run("plan").out == "No changes.\n"
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    after = json.loads(settings.read_text())
    assert after["modelProviders"]["openai"] == [mine, {**ENTRY, "id": "vendor/s-2.5", "baseUrl": "http://127.0.0.1:8/v1"}]
    assert after["model"] == {"name": "vendor/s-2.5", "baseUrl": "http://127.0.0.1:8/v1"}
    assert (after["$version"], after["ui"]) == (4, {"theme": "dark"})
    assert run("plan").out == "No changes.\n"
    # Removing qwen leaves what is not llmconf's: the file stays, with the user's entry alone.
    write_tree(repo.parent, {"worktrees.yaml": "worktrees:\n  repo: gw\n"})
    assert run("apply", "--yes").code == 0
    assert json.loads(settings.read_text()) == {"modelProviders": {"openai": [mine]}, "ui": {"theme": "dark"}, "$version": 4}


@pytest.mark.parametrize("how", ["drop", "rollback"])
def test_a_file_llmconf_created_goes_with_its_folder(repo, run, how):
    assert run("apply", "--yes").code == 0
    assert (repo / ".qwen" / "settings.json").is_file()
    if how == "drop":
        write_tree(repo.parent, {"worktrees.yaml": "worktrees:\n  repo: direct\n"})
    assert run(*(["apply"] if how == "drop" else ["rollback"]), "--yes").code == 0
    assert sorted(p.name for p in repo.iterdir()) == [".git"]


def test_an_edit_of_llmconfs_entry_is_drift_and_goes_back(repo, run):
    assert run("apply", "--yes").code == 0
    settings = repo / ".qwen" / "settings.json"
    doc = json.loads(settings.read_text())
    doc["modelProviders"]["openai"][0]["baseUrl"] = "http://elsewhere/v1"
    settings.write_text(json.dumps(doc, indent=2))
    plan = run("plan")
    assert "  ~ modelProviders.openai.[name=llmconf] = " in plan.out and "changed outside llmconf" in plan.out
    assert run("apply", "--yes").code == 0
    assert json.loads(settings.read_text())["modelProviders"]["openai"] == [ENTRY]


def test_a_provider_list_that_is_not_an_array_is_refused(repo, run, tmp_path):
    settings = repo / ".qwen" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"modelProviders": {"openai": {"id": "x"}}}\n')
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"llmconf: {os.path.relpath(settings)}: 'openai' is not a JSON array (fix it by hand; llmconf will not overwrite it)"
    )
    assert_unchanged(before, tmp_path)


def test_status_shows_the_qwen_row_and_what_beats_it(repo, run, tmp_path, monkeypatch):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [claude-code, qwen]}\n"})
    assert run("apply", "--yes").code == 0
    rows = json.loads(run("status", "--json").out)["worktrees"]
    assert [(r["worktree"], r["agent"], r["backend"], r["sonnet"], r["haiku"], r["state"], r["effective"]) for r in rows] == [
        ("repo", "claude-code", "http://127.0.0.1:9/api", "vendor/s-1.5", "h-1", "in-sync", "as declared"),
        ("repo", "qwen", "http://127.0.0.1:9/v1", "vendor/s-1.5", "-", "in-sync", "as declared"),
    ]

    def effective() -> str:
        return str(json.loads(run("status", "--json").out)["worktrees"][1]["effective"])

    # A plain qwen takes the key from a .env up the folders (measured: the main checkout's, in a nested worktree).
    (tmp_path / ".env").write_text("LLMCONF_QWEN_API_KEY=sk-from-dotenv\n")
    assert effective() == f"differs: a plain qwen, without llmconf exec, takes LLMCONF_QWEN_API_KEY from {tmp_path / '.env'}"
    (tmp_path / ".env").write_text("LLMCONF_QWEN_API_KEY: sk-from-dotenv # npm dotenv's other form\n")
    assert effective() == f"differs: a plain qwen, without llmconf exec, takes LLMCONF_QWEN_API_KEY from {tmp_path / '.env'}"
    (tmp_path / ".env").write_text(f"export LLMCONF_QWEN_API_KEY='{SECRET}'\n")  # the declared key: as declared
    assert effective() == "as declared"
    (repo / ".qwen" / ".env").write_text("OTHER=1\n")  # the first one found hides the others
    assert effective() == "as declared"
    monkeypatch.setenv("LLMCONF_QWEN_API_KEY", "sk-shell")
    assert effective() == "differs: a plain qwen, without llmconf exec, takes LLMCONF_QWEN_API_KEY from the shell"
    monkeypatch.delenv("LLMCONF_QWEN_API_KEY")
    (repo / ".qwen" / ".env").unlink()
    (tmp_path / ".env").unlink()
    write_tree(tmp_path, {"home/.qwen/settings.json": '{"env": {"LLMCONF_QWEN_API_KEY": "sk-user-env"}}'})
    monkeypatch.setenv("QWEN_HOME", str(tmp_path / "home" / ".qwen"))
    assert effective() == (
        f"differs: a plain qwen, without llmconf exec, takes LLMCONF_QWEN_API_KEY from env in {tmp_path / 'home/.qwen/settings.json'}"
    )
    # Folder trust on: a folder no rule trusts has its project file ignored (measured).
    write_tree(tmp_path, {"home/.qwen/settings.json": '{"security": {"folderTrust": {"enabled": true}}}'})
    assert effective() == "differs: folder trust is on and the worktree is not a trusted folder: Qwen Code ignores its .qwen/settings.json"
    write_tree(tmp_path, {"home/.qwen/trustedFolders.json": json.dumps({str(tmp_path): "TRUST_FOLDER"})})
    assert effective() == "as declared"
    monkeypatch.delenv("QWEN_HOME")
    write_tree(tmp_path, {"system.json": '{"model": {"temperature": 0}}'})
    monkeypatch.setenv("QWEN_CODE_SYSTEM_SETTINGS_PATH", str(tmp_path / "system.json"))
    assert effective() == "as declared"
    write_tree(tmp_path, {"system.json": '{"model": {"name": "x"}}'})
    monkeypatch.setenv("QWEN_CODE_SYSTEM_SETTINGS_PATH", str(tmp_path / "system.json"))
    assert effective() == f"differs: {tmp_path / 'system.json'} sets the model or provider"


@pytest.mark.parametrize("named", [False, True])
def test_rollback_puts_the_settings_and_the_key_file_back(repo, run, named):
    settings = repo / ".qwen" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_FILE)
    assert run("apply", "--yes").code == 0
    result = run("rollback", *(["repo"] if named else []), "--yes")
    assert (result.code, result.err) == (0, "")
    assert settings.read_text() == USER_FILE
    assert not _key_file(repo).exists()


def _exec(cwd, *argv):
    return subprocess.run([sys.executable, "-m", "llmconf", "exec", "--", *argv], cwd=cwd, capture_output=True, text=True, timeout=60)


PRINT_KEY = 'printf "%s|" "${LLMCONF_QWEN_API_KEY-unset}"'


def test_exec_hands_the_worktrees_key_to_qwen_as_it_is(repo, run, tmp_path):
    (repo / "sub").mkdir()
    assert run("apply", "--yes").code == 0
    done = _exec(repo / "sub", "sh", "-c", PRINT_KEY)
    assert (done.returncode, done.stdout, done.stderr) == (0, SECRET + "|", "")
    assert _exec(tmp_path, "sh", "-c", PRINT_KEY).stdout == "unset|"
    # activate: a plain `qwen` in the worktree goes through exec; elsewhere it runs untouched.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "qwen").write_text(f"#!/bin/sh\n{PRINT_KEY}\n")  # stands in for the real one
    (bin_dir / "qwen").chmod(0o755)
    script = f"{run('activate', 'bash').out}\ncd {repo}\nqwen\ncd {tmp_path}\nqwen\n"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{SECRET}|unset|", "")


def test_agent_models_picks_qwens_model_and_doctor_shows_it(repo, run, tmp_path):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY + "agent_models: {qwen: {main: opus}}\n"})
    assert run("apply", "--yes").code == 0
    doc = json.loads((repo / ".qwen" / "settings.json").read_text())
    assert (doc["model"]["name"], doc["modelProviders"]["openai"][0]["id"]) == ("o-1", "o-1")
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [qwen], agent_models: {qwen: {main: lab/m.2}}}\n"})
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / ".qwen" / "settings.json").read_text())["model"]["name"] == "lab/m.2"
    assert run("plan").out == "No changes.\n"
    (tmp_path / ".env").write_text("LLMCONF_QWEN_API_KEY=sk-elsewhere\n")
    report = json.loads(run("doctor", "--json").out)
    assert SECRET not in json.dumps(report) and "sk-elsewhere" not in json.dumps(report)
    [agent] = report["agents"]
    assert agent["agent"] == "qwen"
    assert [f["message"] for f in agent["findings"]] == [
        f"qwen started here would not use what llmconf declares: a plain qwen, without llmconf exec, takes LLMCONF_QWEN_API_KEY from {tmp_path / '.env'}"
    ]
