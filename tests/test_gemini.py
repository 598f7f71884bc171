"""Gemini CLI as a target, on real files: plan, apply, status, rollback and use --apply on a
worktree with `agents: [gemini]`; the user's keys survive; no URL or key in the worktree."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import assert_unchanged, files_holding, make_repo, snapshot_tree

GATEWAY = """\
base_url: http://127.0.0.1:9/api
endpoints: {gemini: http://127.0.0.1:9/gem}
auth_token: "{{ secret('gw') }}"
models: {haiku: h-1, sonnet: s-1, opus: o-1}
"""
OTHER = GATEWAY.replace(":9/", ":8/").replace("-1", "-2").replace("secret('gw')", "secret('other')")
DIRECT = "description: Anthropic direct\n"
#: A project file the user wrote: llmconf owns model.name in it, not the model object.
USER_FILE = """\
{
  "mcpServers": {
    "docs": {"command": "docs-server"}
  },
  "model": {"maxSessionTurns": 10},
  "security": {"folderTrust": {"enabled": true}}
}
"""


@pytest.fixture
def repo(tmp_path, store_secret):
    """A git repository `repo` whose worktree lists gemini, the gateways' keys in the store."""
    store_secret("gw", SECRET)
    store_secret("other", "sk-other-key")
    make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [gemini]}\n",
            "profiles/gw.yaml": GATEWAY,
            "profiles/other.yaml": OTHER,
            "profiles/direct.yaml": DIRECT,
        },
    )
    return tmp_path / "repo"


def _key_file(worktree: Path) -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "llmconf" / "deliver" / str(worktree).lstrip("/") / "gemini-key.json"


def test_apply_writes_the_auth_type_and_model_and_keeps_url_and_key_out_of_the_worktree(repo, run):
    write_tree(repo, {".gemini/settings.json": USER_FILE})
    plan = run("plan")
    assert plan.code == 0, plan.err
    settings = repo / ".gemini" / "settings.json"
    assert plan.out.splitlines()[:3] == [
        f"# repo: {os.path.relpath(settings)} (profile gw) will be updated",
        '  + security.auth.selectedType = "gemini-api-key"',
        '  + model.name                 = "s-1"',
    ]
    assert '+ env.GOOGLE_GEMINI_BASE_URL = "http://127.0.0.1:9/gem"' in plan.out
    assert "+ env.GEMINI_API_KEY         = (sensitive)" in plan.out
    assert SECRET not in plan.out and ".claude" not in plan.out  # Claude Code is not listed: nothing for it
    as_json = json.loads(run("plan", "--json").out)
    assert [(w["settings_file"], w["role"], w["agent"], w["action"]) for w in as_json["worktrees"]] == [
        (str(settings), "agent", "gemini", "update"),
        (str(_key_file(repo)), "agent-key", "gemini", "create"),
    ]
    assert SECRET not in json.dumps(as_json)
    assert run("apply", "--yes").code == 0
    assert json.loads(settings.read_text()) == {
        "mcpServers": {"docs": {"command": "docs-server"}},
        "model": {"maxSessionTurns": 10, "name": "s-1"},
        "security": {"folderTrust": {"enabled": True}, "auth": {"selectedType": "gemini-api-key"}},
    }
    assert settings.read_text().startswith('{\n  "mcpServers": {\n    "docs": {"command": "docs-server"}\n  },\n')  # layout kept
    assert not (repo / ".claude").exists()
    assert files_holding(repo, SECRET) == [] and files_holding(repo, "127.0.0.1") == []
    key_file = _key_file(repo)
    assert json.loads(key_file.read_text()) == {"env": {"GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:9/gem", "GEMINI_API_KEY": SECRET}}
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run("plan").out == "No changes.\n"


def test_use_switches_it_and_the_users_edits_survive(repo, run):
    assert run("apply", "--yes").code == 0  # no .gemini/ yet: apply makes it
    settings = repo / ".gemini" / "settings.json"
    doc = json.loads(settings.read_text())
    doc["model"]["maxSessionTurns"] = 5  # the user adds keys beside and around llmconf's
    doc["ui"] = {"theme": "GitHub"}
    settings.write_text(json.dumps(doc, indent=2))
    assert run("plan").out == "No changes.\n"
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    assert json.loads(settings.read_text()) == {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "model": {"name": "s-2", "maxSessionTurns": 5},
        "ui": {"theme": "GitHub"},
    }
    assert json.loads(_key_file(repo).read_text()) == {"env": {"GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:8/gem", "GEMINI_API_KEY": "sk-other-key"}}
    assert run("plan").out == "No changes.\n"


def test_status_shows_every_agent_and_what_beats_the_declared_model(repo, run, tmp_path, monkeypatch):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [claude-code, gemini]}\n"})
    assert run("apply", "--yes").code == 0
    monkeypatch.setenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH", str(tmp_path / "no-system-settings.json"))  # not this machine's
    monkeypatch.delenv("GEMINI_MODEL", raising=False)

    def gemini_row():
        rows = json.loads(run("status", "--json").out)["worktrees"]
        assert [r["agent"] for r in rows] == ["claude-code", "gemini"]
        return rows[1]

    row = gemini_row()
    assert (row["worktree"], row["backend"], row["sonnet"], row["haiku"], row["state"]) == ("repo", "http://127.0.0.1:9/gem", "s-1", "-", "in-sync")
    assert row["effective"] == "as declared"
    # Measured on Gemini CLI 0.61.0: each of these beats model.name.
    monkeypatch.setenv("GEMINI_MODEL", "m-shell")
    assert gemini_row()["effective"] == "differs: GEMINI_MODEL is set"
    monkeypatch.delenv("GEMINI_MODEL")
    write_tree(tmp_path, {".env": "OTHER=1\nexport GEMINI_MODEL='m-dotenv'\n"})  # up the folders, and the nearest one
    assert gemini_row()["effective"] == f"differs: {tmp_path / '.env'} sets GEMINI_MODEL"
    write_tree(repo, {".gemini/.env": "GEMINI_MODEL=\n"})  # nearer, and empty: it hides the one above, and sets nothing
    assert gemini_row()["effective"] == "as declared"
    write_tree(repo, {".gemini/.env": "GEMINI_MODEL=m-near\n"})
    assert gemini_row()["effective"] == "differs: .gemini/.env sets GEMINI_MODEL"
    (repo / ".gemini" / ".env").unlink()
    (tmp_path / ".env").unlink()
    write_tree(tmp_path, {"system.json": '// set by the admins\n{"model": {"name": "m-admin"},}'})  # Gemini CLI allows comments
    monkeypatch.setenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH", str(tmp_path / "system.json"))
    assert gemini_row()["effective"] == f"differs: system settings {tmp_path / 'system.json'} set model.name"
    write_tree(tmp_path, {"system.json": '{"security": {"auth": {"selectedType": "gemini-api-key"}}, "ui": {}}'})
    assert gemini_row()["effective"] == "as declared"
    (repo / ".gemini" / "settings.json").write_text('{"model": {"name": "elsewhere"}}\n')
    text = run("status", "--wide").out.splitlines()
    assert text[0].split()[:3] == ["WORKTREE", "AGENT", "PROFILE"]
    assert [line.split()[1] for line in text[1:3]] == ["claude-code", "gemini"]
    assert "in-sync" in text[1] and "drifted" in text[2]


@pytest.mark.parametrize("user_file", [False, True])
def test_rollback_puts_the_settings_and_the_key_file_back(repo, run, user_file):
    if user_file:
        write_tree(repo, {".gemini/settings.json": USER_FILE})
    assert run("apply", "--yes").code == 0
    result = run("rollback", "--yes")
    assert (result.code, result.err) == (0, "")
    if user_file:
        assert (repo / ".gemini" / "settings.json").read_text() == USER_FILE
    else:
        assert not (repo / ".gemini").exists()
    assert not _key_file(repo).exists()


def test_a_profile_without_a_key_keeps_only_the_url_in_the_key_file(repo, run, tmp_path):
    assert run("apply", "--yes").code == 0
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace('auth_token: "{{ secret(\'gw\') }}"\n', "")})
    plan = run("plan")
    assert "- env.GEMINI_API_KEY = (sensitive)" in plan.out and ".gemini/settings.json" not in plan.out
    assert run("apply", "--yes").code == 0
    assert json.loads(_key_file(repo).read_text()) == {"env": {"GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:9/gem"}}
    assert run("plan").out == "No changes.\n"
    # exec hands over an empty key: the user's own GEMINI_API_KEY never goes to the gateway.
    done = subprocess.run(
        [sys.executable, "-m", "llmconf", "exec", "--", _fake_gemini(tmp_path)], cwd=repo,
        env={**os.environ, "GEMINI_API_KEY": "sk-users-own-google-key"}, capture_output=True, text=True, timeout=60,
    )
    assert done.stdout == "http://127.0.0.1:9/gem||true|"


def test_a_worktree_that_no_longer_lists_gemini_loses_its_keys_and_key_file(repo, run, tmp_path):
    write_tree(repo, {".gemini/settings.json": USER_FILE})
    assert run("apply", "--yes").code == 0
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n"})  # Claude Code only, the default
    plan = run("plan")
    assert f"# repo: {os.path.relpath(repo / '.gemini' / 'settings.json')} (profile gw) will be updated" in plan.out
    assert '  - model.name                 = "s-1"' in plan.out and "  - env.GEMINI_API_KEY         = (sensitive)" in plan.out
    assert run("apply", "--yes").code == 0
    assert (repo / ".gemini" / "settings.json").read_text() == USER_FILE
    assert not _key_file(repo).exists()
    assert run("plan").out == "No changes.\n"


def test_a_gemini_folder_llmconf_made_goes_with_its_file(repo, run, tmp_path):
    assert run("apply", "--yes").code == 0
    assert (repo / ".gemini" / "settings.json").is_file()
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [claude-code]}\n"})
    assert run("apply", "--yes").code == 0
    assert not (repo / ".gemini").exists() and not _key_file(repo).exists()
    # A .gemini/ holding anything else stays, with that in it.
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [gemini]}\n"})
    assert run("apply", "--yes").code == 0
    write_tree(repo, {".gemini/.env": "X=1\n"})
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n"})
    assert run("apply", "--yes").code == 0
    assert sorted(p.name for p in (repo / ".gemini").iterdir()) == [".env"]


def test_agent_models_picks_another_slot_or_a_model_id_for_gemini(repo, run, tmp_path):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY + "agent_models:\n  gemini: {main: opus}\n"})
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / ".gemini" / "settings.json").read_text())["model"] == {"name": "o-1"}
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo:\n    profile: gw\n    agents: [gemini]\n    agent_models: {gemini: {main: vendor/gem-9}}\n"})
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / ".gemini" / "settings.json").read_text())["model"] == {"name": "vendor/gem-9"}
    assert run("plan").out == "No changes.\n"


def test_a_profile_that_gives_gemini_no_model_is_an_error_at_its_line(repo, run, tmp_path):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace("haiku: h-1, sonnet: s-1, opus: o-1", "haiku: h-1")})
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "llmconf: worktrees.yaml:2: profile 'gw' gives gemini no main model (set models.sonnet in the profile "
        "(or agent_models.gemini.main: a slot or a model ID), or leave gemini out of agents:)"
    )
    assert_unchanged(before, tmp_path)


def test_doctor_shows_gemini_with_the_url_its_key_file_holds(repo, run, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH", str(tmp_path / "no-system-settings.json"))
    monkeypatch.delenv("GEMINI_MODEL", raising=False)
    assert run("apply", "--yes").code == 0
    clean = run("doctor")
    assert clean.code == 0, clean.err
    assert clean.out.splitlines()[:3] == [
        "# repo: gemini (profile gw): http://127.0.0.1:9/gem",
        "  main    s-1",
        f"  via     {os.path.relpath(repo / '.gemini' / 'settings.json')}; the key through llmconf exec / activate (gemini)",
    ]
    assert clean.out.splitlines()[-1] == "0 errors, 0 warnings."
    monkeypatch.setenv("GEMINI_MODEL", "m-shell")
    doc = json.loads(run("doctor", "--json").out)
    assert [(a["agent"], a["declared"], [f["message"] for f in a["findings"]]) for a in doc["agents"]] == [
        (
            "gemini",
            {"base_url": "http://127.0.0.1:9/gem", "main_model": "s-1", "small_model": None},
            ["gemini started here would not use what llmconf declares: GEMINI_MODEL is set"],
        )
    ]
    assert SECRET not in json.dumps(doc)


# --- launch paths: llmconf exec, and the activate hook ---------------------------------------

PRINT = 'printf "%s|%s|%s|" "${GOOGLE_GEMINI_BASE_URL-unset}" "${GEMINI_API_KEY-unset}" "${GEMINI_CLI_TRUST_WORKSPACE-unset}"'


def _exec(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    return subprocess.run(
        [sys.executable, "-m", "llmconf", "exec", "--", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def _fake_gemini(tmp_path: Path) -> str:
    """A `gemini` that prints what it was given, standing in for the real one."""
    fake = tmp_path / "fake-bin" / "gemini"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!/bin/sh\n{PRINT}\n")
    fake.chmod(0o755)
    return str(fake)


def test_exec_hands_the_worktrees_url_key_and_trust_to_gemini_and_only_there(repo, run, tmp_path):
    (repo / "sub").mkdir()
    gemini = _fake_gemini(tmp_path)
    assert run("apply", "--yes").code == 0
    done = _exec(repo, gemini)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"http://127.0.0.1:9/gem|{SECRET}|true|", "")
    assert _exec(repo / "sub", gemini).stdout == f"http://127.0.0.1:9/gem|{SECRET}|true|"
    assert _exec(tmp_path, gemini).stdout == "unset|unset|unset|"  # not a worktree llmconf manages: no trust
    # Another program (a shell, an agent's tool) gets the URL and key, never the trust: a gemini
    # it started in another folder would trust that folder's settings.
    assert _exec(repo, "sh", "-c", PRINT).stdout == f"http://127.0.0.1:9/gem|{SECRET}|unset|"
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    assert _exec(repo, gemini).stdout == "http://127.0.0.1:8/gem|sk-other-key|true|"


def test_exec_in_a_nested_worktree_hands_over_its_own_values(tmp_path, run, store_secret):
    store_secret("gw", SECRET)
    store_secret("other", "sk-other-key")
    main = make_repo(tmp_path, "r")
    from tests.helpers import git

    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "agents: [gemini]\nworktrees:\n  r: gw\n  r/.worktrees/nest: other\n",
            "profiles/gw.yaml": GATEWAY,
            "profiles/other.yaml": OTHER,
        },
    )
    assert run("apply", "--yes").code == 0
    assert json.loads((main / ".worktrees/nest/.gemini/settings.json").read_text())["model"] == {"name": "s-2"}
    gemini = _fake_gemini(tmp_path)
    assert _exec(main / ".worktrees/nest", gemini).stdout == "http://127.0.0.1:8/gem|sk-other-key|true|"
    assert _exec(main, gemini).stdout == f"http://127.0.0.1:9/gem|{SECRET}|true|"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_activate_sends_a_plain_gemini_through_exec(repo, run, tmp_path, shell):
    import shutil

    if shutil.which(shell) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{shell} is not installed (tests/install-tools.sh installs it); under CI this test must run")
        pytest.skip(f"{shell} is not installed")
    assert run("apply", "--yes").code == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gemini"  # stands in for the real one: prints what it was given
    fake.write_text(f"#!/bin/sh\n{PRINT}\n")
    fake.chmod(0o755)
    hook = run("activate", shell).out
    script = f"{hook}\ncd {repo}\ngemini\ncd {tmp_path}\ngemini\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    argv = {"bash": ["bash", "--norc", "-c"], "zsh": ["zsh", "-f", "-c"], "fish": ["fish", "--no-config", "-c"]}[shell] + [script]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"http://127.0.0.1:9/gem|{SECRET}|true|unset|unset|unset|", "")


def test_a_settings_file_with_comments_is_edited_and_keeps_them(repo, run):
    # Gemini CLI reads settings.json with comments; llmconf edits it as JSONC.
    text = '{\n  // our MCP servers\n  "mcpServers": {"docs": {"command": "docs-server"}},\n  "model": {"maxSessionTurns": 10}, /* turns */\n}\n'
    write_tree(repo, {".gemini/settings.json": text})
    assert run("apply", "--yes").code == 0
    after = (repo / ".gemini" / "settings.json").read_text()
    assert "// our MCP servers" in after and "/* turns */" in after
    from llmconf.apply import jsonc

    assert jsonc.loads(after) == {
        "mcpServers": {"docs": {"command": "docs-server"}},
        "model": {"maxSessionTurns": 10, "name": "s-1"},
        "security": {"auth": {"selectedType": "gemini-api-key"}},
    }
    assert run("plan").out == "No changes.\n"
    assert run("rollback", "--yes").code == 0
    assert (repo / ".gemini" / "settings.json").read_text() == text
