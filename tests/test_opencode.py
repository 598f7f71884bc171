"""opencode as a target, on real files: plan, apply, status, rollback and use --apply on a
worktree with `agents: [opencode]`; the user's keys survive; no key in the worktree."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import assert_unchanged, files_holding, make_repo, snapshot_tree

GATEWAY = """\
base_url: http://127.0.0.1:9/api
endpoints: {openai: http://127.0.0.1:9/v1}
auth_token: "{{ secret('gw') }}"
models: {haiku: h-1, sonnet: s-1, opus: o-1}
"""
OTHER = GATEWAY.replace(":9/", ":8/").replace("-1", "-2")
DIRECT = "description: Anthropic direct\n"
USER_FILE = """\
{
  "$schema": "https://opencode.ai/config.json",
  "mcp": {
    "docs": {"type": "local", "command": ["docs-server"]}
  },
  "provider": {
    "mine": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "http://mine/v1"}}
  }
}
"""


@pytest.fixture
def repo(tmp_path, store_secret):
    """A git repository `repo` whose worktree lists opencode, the gateway's key in the store."""
    store_secret("gw", SECRET)
    make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n",
            "profiles/gw.yaml": GATEWAY,
            "profiles/other.yaml": OTHER,
            "profiles/direct.yaml": DIRECT,
        },
    )
    return tmp_path / "repo"


def _key_file(home_state, worktree):
    return home_state / "llmconf" / "deliver" / str(worktree).lstrip("/") / "opencode-key.json"


def _state_home():
    from pathlib import Path

    return Path(os.environ["XDG_STATE_HOME"])


def test_apply_writes_the_provider_and_keeps_the_key_out_of_the_worktree(repo, run):
    (repo / "opencode.json").write_text(USER_FILE)
    plan = run("plan")
    assert plan.code == 0, plan.err
    assert plan.out.splitlines()[0] == f"# repo: {os.path.relpath(repo / 'opencode.json')} (profile gw) will be updated"
    assert "  + provider.llmconf.options.apiKey  = \"{env:LLMCONF_OPENCODE_API_KEY}\"" in plan.out
    assert "env.LLMCONF_OPENCODE_API_KEY = (sensitive)" in plan.out
    assert SECRET not in plan.out and ".claude" not in plan.out  # Claude Code is not listed: nothing for it
    as_json = json.loads(run("plan", "--json").out)
    assert [(w["settings_file"], w["role"], w["agent"], w["action"]) for w in as_json["worktrees"]] == [
        (str(repo / "opencode.json"), "agent", "opencode", "update"),
        (str(_key_file(_state_home(), repo)), "agent-key", "opencode", "create"),
    ]
    assert SECRET not in json.dumps(as_json)
    assert run("apply", "--yes").code == 0
    doc = json.loads((repo / "opencode.json").read_text())
    assert doc == {
        "$schema": "https://opencode.ai/config.json",
        "mcp": {"docs": {"type": "local", "command": ["docs-server"]}},
        "provider": {
            "mine": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "http://mine/v1"}},
            "llmconf": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "llmconf (gw)",
                "options": {"baseURL": "http://127.0.0.1:9/v1", "apiKey": "{env:LLMCONF_OPENCODE_API_KEY}"},
                "models": {"s-1": {"name": "s-1"}, "h-1": {"name": "h-1"}},
            },
        },
        "model": "llmconf/s-1",
        "small_model": "llmconf/h-1",
    }
    assert (repo / "opencode.json").read_text().startswith(USER_FILE[: USER_FILE.index('    "mine"')])  # layout kept
    assert not (repo / ".claude").exists()
    assert files_holding(repo, SECRET) == []  # no key in any file of the worktree
    key_file = _key_file(_state_home(), repo)
    assert json.loads(key_file.read_text()) == {"env": {"LLMCONF_OPENCODE_API_KEY": SECRET}}
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run("plan").out == "No changes.\n"


def test_what_opencode_adds_and_the_users_edits_survive_and_plan_stays_clean(repo, run):
    assert run("apply", "--yes").code == 0
    path = repo / "opencode.json"
    doc = json.loads(path.read_text())
    # opencode adds $schema to a file without one; the user adds an MCP server and a key of their own in our provider.
    doc["provider"]["llmconf"]["options"]["timeout"] = 5
    path.write_text(json.dumps({"$schema": "https://opencode.ai/config.json", **doc, "mcp": {"x": {"type": "remote", "url": "u"}}}, indent=2))
    assert run("plan").out == "No changes.\n"
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    after = json.loads(path.read_text())
    assert after["$schema"] == "https://opencode.ai/config.json" and after["mcp"] == {"x": {"type": "remote", "url": "u"}}
    assert after["model"] == "llmconf/s-2" and after["small_model"] == "llmconf/h-2"
    assert after["provider"]["llmconf"]["options"] == {"baseURL": "http://127.0.0.1:8/v1", "apiKey": "{env:LLMCONF_OPENCODE_API_KEY}", "timeout": 5}
    assert run("plan").out == "No changes.\n"


def test_status_shows_every_agent_of_every_worktree(repo, run, tmp_path):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [claude-code, opencode]}\n"})
    assert run("apply", "--yes").code == 0
    rows = json.loads(run("status", "--json").out)["worktrees"]
    assert [(r["worktree"], r["agent"], r["backend"], r["sonnet"], r["haiku"], r["state"]) for r in rows] == [
        ("repo", "claude-code", "http://127.0.0.1:9/api", "s-1", "h-1", "in-sync"),
        ("repo", "opencode", "http://127.0.0.1:9/v1", "s-1", "h-1", "in-sync"),
    ]
    assert rows[1]["effective"] == "as declared"
    (repo / ".opencode").mkdir()
    (repo / ".opencode" / "opencode.json").write_text('{"model": "llmconf/other"}\n')  # measured: it beats opencode.json
    # llmconf's keys go where they win: the plan now edits that file, and until it is applied
    # opencode does not use what is declared.
    row = json.loads(run("status", "--json").out)["worktrees"][1]
    assert (row["file"], row["state"], row["effective"]) == (str(repo / ".opencode" / "opencode.json"), "drifted", "differs: not applied yet")
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / ".opencode" / "opencode.json").read_text())["model"] == "llmconf/s-1"
    assert json.loads(run("status", "--json").out)["worktrees"][1]["effective"] == "as declared"
    # That apply took llmconf's keys out of opencode.json, which opencode no longer reads first
    # (llmconf had created it: it went).
    assert not (repo / "opencode.json").exists()
    (repo / ".opencode" / "opencode.json").unlink()
    assert run("apply", "--yes").code == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENCODE_CONFIG_CONTENT", '{"model": "x/y"}')  # the issue measured: it beats every file
        assert json.loads(run("status", "--json").out)["worktrees"][1]["effective"] == "differs: OPENCODE_CONFIG_CONTENT is set"
    (repo / "opencode.json").write_text('{"model": "elsewhere/x",')  # a file opencode cannot read: no "as declared"
    row = json.loads(run("status", "--json").out)["worktrees"][1]
    assert (row["state"], row["effective"]) == ("error", "-")
    (repo / "opencode.json").write_text('{"model": "elsewhere/x"}\n')
    text = run("status", "--wide").out.splitlines()
    assert text[0].split()[:3] == ["WORKTREE", "AGENT", "PROFILE"]
    assert [line.split()[1] for line in text[1:3]] == ["claude-code", "opencode"]
    assert "drifted" in text[2] and "in-sync" in text[1]


@pytest.mark.parametrize("named", [False, True])
def test_rollback_puts_opencode_json_and_the_key_file_back(repo, run, named):
    (repo / "opencode.json").write_text(USER_FILE)
    assert run("apply", "--yes").code == 0
    result = run("rollback", *(["repo"] if named else []), "--yes")
    assert (result.code, result.err) == (0, "")
    assert (repo / "opencode.json").read_text() == USER_FILE
    assert not _key_file(_state_home(), repo).exists()


def test_leaving_opencode_out_of_a_gateway_profile_removes_its_keys(repo, run, tmp_path):
    (repo / "opencode.json").write_text(USER_FILE)
    assert run("apply", "--yes").code == 0
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace('auth_token: "{{ secret(\'gw\') }}"\n', "")})
    plan = run("plan")
    assert "- provider.llmconf.options.apiKey" in plan.out and "- env.LLMCONF_OPENCODE_API_KEY = (sensitive)" in plan.out
    assert run("apply", "--yes").code == 0
    assert "apiKey" not in (repo / "opencode.json").read_text()
    assert not _key_file(_state_home(), repo).exists()


# --- launch paths: llmconf exec, and the activate hook ---------------------------------------

PRINT_KEY = 'printf "%s|" "${LLMCONF_OPENCODE_API_KEY-unset}"'
#: The key as exec hands it over: escaped as inside a JSON string, since opencode puts {env:VAR}
#: into its file's text before parsing it (the e2e test sees the key itself arrive).
ESCAPED = json.dumps(SECRET)[1:-1]


def _exec(cwd, *argv):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "llmconf", "exec", "--", *argv], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_exec_hands_the_worktrees_key_to_opencode_and_only_there(repo, run, tmp_path):
    (repo / "sub").mkdir()
    assert run("apply", "--yes").code == 0
    done = _exec(repo / "sub", "sh", "-c", PRINT_KEY)
    assert (done.returncode, done.stdout, done.stderr) == (0, ESCAPED + "|", "")
    elsewhere = _exec(tmp_path, "sh", "-c", PRINT_KEY)
    assert (elsewhere.returncode, elsewhere.stdout) == (0, "unset|")
    # Switched to a profile with another key: exec hands over that one.
    write_tree(tmp_path, {"profiles/other.yaml": OTHER.replace("secret('gw')", "secret('other')")})
    assert run("secret", "set", "other", stdin="sk-other-key\n").code == 0
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    assert _exec(repo, "sh", "-c", PRINT_KEY).stdout == "sk-other-key|"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_activate_gives_a_plain_opencode_the_worktrees_key(repo, run, tmp_path, shell):
    import shutil
    import subprocess

    if shutil.which(shell) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{shell} is not installed (tests/install-tools.sh installs it); under CI this test must run")
        pytest.skip(f"{shell} is not installed")
    assert run("apply", "--yes").code == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "opencode"  # stands in for the real one: prints the key it was given
    fake.write_text(f"#!/bin/sh\n{PRINT_KEY}\n")
    fake.chmod(0o755)
    hook = run("activate", shell).out
    script = f"{hook}\ncd {repo}\nopencode\ncd {tmp_path}\nopencode\n"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    argv = {"bash": ["bash", "--norc", "-c"], "zsh": ["zsh", "-f", "-c"], "fish": ["fish", "--no-config", "-c"]}[shell] + [script]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{ESCAPED}|unset|", "")


def test_a_worktree_that_no_longer_lists_opencode_loses_its_keys_and_key_file(repo, run, tmp_path):
    (repo / "opencode.json").write_text(USER_FILE)
    assert run("apply", "--yes").code == 0
    key_file = _key_file(_state_home(), repo)
    assert key_file.exists()
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n"})  # Claude Code only, the default
    plan = run("plan")
    assert f"# repo: {os.path.relpath(repo / 'opencode.json')} (profile gw) will be updated" in plan.out
    assert "- model " in plan.out and "- env.LLMCONF_OPENCODE_API_KEY = (sensitive)" in plan.out
    assert run("apply", "--yes").code == 0
    assert (repo / "opencode.json").read_text() == USER_FILE
    assert not key_file.exists()
    assert run("plan").out == "No changes.\n"
    assert _exec(repo, "sh", "-c", PRINT_KEY).stdout == "unset|"


def test_two_worktrees_sharing_one_opencode_json_through_a_symlink_is_an_error(repo, run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (repo / "opencode.json").write_text(USER_FILE)
    (other / "opencode.json").symlink_to(repo / "opencode.json")
    write_tree(tmp_path, {"worktrees.yaml": "agents: [opencode]\nworktrees:\n  repo: gw\n  other: gw\n"})
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == "llmconf: worktrees.yaml:4: worktree 'other' writes the same opencode.json as 'repo' (through a symlink) (list it once)"
    assert_unchanged(before, tmp_path)


def test_a_worktree_that_no_longer_lists_claude_code_loses_the_keys_llmconf_wrote_for_it(repo, run, tmp_path):
    settings = repo / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text('{\n  "permissions": {"allow": ["Read"]}\n}\n')
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n"})  # Claude Code alone
    assert run("apply", "--yes").code == 0
    assert files_holding(repo, SECRET) == [".claude/settings.local.json"]
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n"})
    plan = run("plan")
    assert f"# repo: {os.path.relpath(settings)} (profile gw) will be updated" in plan.out
    assert "- env.ANTHROPIC_AUTH_TOKEN" in plan.out and SECRET not in plan.out
    assert run("apply", "--yes").code == 0
    assert settings.read_text() == '{\n  "permissions": {"allow": ["Read"]}\n}\n'
    assert (repo / "opencode.json").exists()
    assert run("plan").out == "No changes.\n"
    assert files_holding(repo, SECRET) == []


def test_dropping_claude_code_deletes_its_settings_file_too(repo, run, tmp_path):
    """A profile with a picker reaches Claude Code through a --settings file llmconf owns whole."""
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n", "profiles/gw.yaml": GATEWAY + "picker: true\n"})
    assert run("apply", "--yes").code == 0
    sent = _state_home() / "llmconf" / "deliver" / str(repo).lstrip("/") / "claude-settings.json"
    assert sent.is_file()
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n"})
    plan = run("plan")
    assert "# no longer needed: Claude Code is not in agents:" in plan.out
    assert run("apply", "--yes").code == 0
    assert not sent.exists() and not (repo / ".claude").exists()
    assert run("plan").out == "No changes.\n"


def test_agent_models_picks_another_slot_or_a_model_id_for_opencode(repo, run, tmp_path):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY + "agent_models:\n  opencode: {main: opus, small: vendor/tiny-9}\n"})
    assert run("apply", "--yes").code == 0
    doc = json.loads((repo / "opencode.json").read_text())
    assert (doc["model"], doc["small_model"]) == ("llmconf/o-1", "llmconf/vendor/tiny-9")
    assert doc["provider"]["llmconf"]["models"] == {"o-1": {"name": "o-1"}, "vendor/tiny-9": {"name": "vendor/tiny-9"}}
    # A worktree entry overrides one of them; the other stays the profile's.
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo:\n    profile: gw\n    agents: [opencode]\n    agent_models: {opencode: {main: haiku}}\n"})
    assert run("apply", "--yes").code == 0
    doc = json.loads((repo / "opencode.json").read_text())
    assert (doc["model"], doc["small_model"]) == ("llmconf/h-1", "llmconf/vendor/tiny-9")
    assert run("plan").out == "No changes.\n"


def test_agent_models_naming_a_slot_the_profile_leaves_empty_is_an_error_at_its_line(repo, run, tmp_path):
    write_tree(tmp_path, {"profiles/gw.yaml": GATEWAY.replace(", opus: o-1", "") + "agent_models:\n  opencode: {main: opus}\n"})
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "llmconf: worktrees.yaml:2: profile 'gw' gives opencode no main model (set models.sonnet in the profile "
        "(or agent_models.opencode.main: a slot or a model ID), or leave opencode out of agents:)"
    )
    assert_unchanged(before, tmp_path)


def test_doctor_reports_each_agent_with_what_it_declares_and_what_beats_it(repo, run, tmp_path, monkeypatch):
    before = run("doctor")
    assert before.code == 0, before.err
    assert before.out.splitlines() == [
        "# repo: opencode (profile gw): http://127.0.0.1:9/v1",
        "  main    s-1",
        "  small   h-1",
        f"  via     {os.path.relpath(repo / 'opencode.json')}; the key through llmconf exec / activate (opencode)",
        f"  warning: {os.path.relpath(repo / 'opencode.json')}: not applied yet: the file differs from the profile (run 'llmconf apply')",
        f"  warning: {_key_file(_state_home(), repo)}: not applied yet: the file differs from the profile (run 'llmconf apply')",
        before.out.splitlines()[-2],  # the Claude Code line
        "0 errors, 2 warnings.",
    ]
    assert run("apply", "--yes").code == 0
    clean = run("doctor")
    assert (clean.code, clean.out.splitlines()[-1]) == (0, "0 errors, 0 warnings.")
    monkeypatch.setenv("OPENCODE_CONFIG_CONTENT", '{"model": "x/y"}')
    beaten = run("doctor", "--json")
    doc = json.loads(beaten.out)
    assert doc["agents"] == [
        {
            "name": "repo",
            "agent": "opencode",
            "profile": "gw",
            "file": str(repo / "opencode.json"),
            "declared": {"base_url": "http://127.0.0.1:9/v1", "main_model": "s-1", "small_model": "h-1"},
            "findings": [
                {
                    **doc["agents"][0]["findings"][0],
                    "message": "opencode started here would not use what llmconf declares: OPENCODE_CONFIG_CONTENT is set",
                    "level": "warning",
                    "path": str(repo / "opencode.json"),
                }
            ],
        }
    ]
    assert doc["warnings"] == 1 and SECRET not in beaten.out
    # A profile that cannot serve opencode: doctor says so, and exits 1.
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: {profile: direct, agents: [opencode]}\n"})
    broken = run("doctor")
    assert broken.code == 1
    assert "  error: " in broken.out and "cannot serve opencode" in broken.out


def test_an_opencode_jsonc_with_comments_is_edited_where_it_wins_and_keeps_every_comment(repo, run):
    text = (
        "// Our opencode setup: keep the comments.\n"
        "{\n"
        '  "mcp": {"docs": {"type": "local", "command": ["docs-server"],},}, // trailing commas, as opencode allows\n'
        '  /* the team model */ "model": "mine/m",\n'
        "}\n"
    )
    (repo / "opencode.jsonc").write_text(text)
    (repo / "opencode.json").write_text('{"model": "beaten/by-jsonc"}\n')  # measured: opencode.jsonc beats it
    plan = run("plan")
    assert plan.out.splitlines()[0] == f"# repo: {os.path.relpath(repo / 'opencode.jsonc')} (profile gw) will be updated"
    assert run("apply", "--yes").code == 0
    after = (repo / "opencode.jsonc").read_text()
    assert after.startswith("// Our opencode setup: keep the comments.\n{\n")
    for kept in ("// trailing commas, as opencode allows", '"command": ["docs-server"],},},', '/* the team model */ "model": "llmconf/s-1",'):
        assert kept in after
    from llmconf.apply import jsonc

    assert jsonc.loads(after)["provider"]["llmconf"]["options"]["baseURL"] == "http://127.0.0.1:9/v1"
    assert (repo / "opencode.json").read_text() == '{"model": "beaten/by-jsonc"}\n'  # not llmconf's file: untouched
    assert run("plan").out == "No changes.\n"
    # Taking opencode out removes llmconf's keys (`model` among them) and the comments between
    # them; every other comment stays.
    write_tree(repo.parent, {"worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [claude-code]}\n"})
    assert run("apply", "--yes").code == 0
    assert (repo / "opencode.jsonc").read_text() == (
        '// Our opencode setup: keep the comments.\n{\n  "mcp": {"docs": {"type": "local", "command": ["docs-server"],},},\n}\n'
    )


def test_once_a_file_that_beats_opencode_json_appears_llmconfs_keys_move_there_and_leave_the_old_file(repo, run):
    assert run("apply", "--yes").code == 0  # creates opencode.json
    assert (repo / "opencode.json").exists()
    (repo / "opencode.jsonc").write_text('{ // mine\n  "theme": "x"\n}\n')
    plan = run("plan")
    assert f"# repo: {os.path.relpath(repo / 'opencode.jsonc')} (profile gw) will be updated" in plan.out
    assert f"# repo: {os.path.relpath(repo / 'opencode.json')} (profile gw) will be deleted" in plan.out
    assert run("apply", "--yes").code == 0
    assert not (repo / "opencode.json").exists() and repo.is_dir()  # llmconf created it: it goes; the worktree stays
    assert "// mine" in (repo / "opencode.jsonc").read_text()
    assert run("plan").out == "No changes.\n"
    # Rollback puts the old file back as the last apply found it.
    assert run("rollback", "--yes").code == 0
    assert json.loads((repo / "opencode.json").read_text())["model"] == "llmconf/s-1"
