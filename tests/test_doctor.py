"""llmconf doctor: each worktree as Claude Code will read it (the rules themselves are checked
against the real CLI in tests/e2e)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import Reply, git, serve

GW = "base_url: http://127.0.0.1:9/api\nauth_token: t\nmodels: {haiku: h-1, sonnet: s-1, opus: o-1}\n"


@pytest.fixture
def cfg(tmp_path, monkeypatch, run):
    monkeypatch.setenv("LLMCONF_CLAUDE_MANAGED_SETTINGS", str(tmp_path / "managed.json"))
    for var in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: gw\n  d: anthropic\n", "profiles/gw.yaml": GW, "a/.keep": "", "d/.keep": ""})
    assert run("apply", "--yes").code == 0
    return tmp_path


def findings(run, *argv):
    result = run("doctor", "--json", *argv)
    doc = json.loads(result.out)
    return result.code, {w["name"]: w for w in doc["worktrees"]}


def messages(worktree):
    return [(f["level"], f["message"]) for f in worktree["findings"]]


def test_a_clean_setup_has_nothing_to_say(cfg, run):
    result = run("doctor")
    assert result.code == 0
    assert result.out.splitlines()[:5] == [
        "# a (profile gw): http://127.0.0.1:9/api",
        "  haiku   h-1",
        "  sonnet  s-1",
        "  opus    o-1",
        "  default o-1 (opus)",
    ]
    assert result.out.splitlines()[-1] == "0 errors, 0 warnings."


def test_gateway_left_in_user_settings_keeps_a_direct_worktree_on_it(cfg, run, isolated_home):
    write_tree(isolated_home, {".claude/settings.json": json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://old-gw", "ANTHROPIC_AUTH_TOKEN": SECRET}})})
    code, wts = findings(run)
    assert code == 1
    assert wts["d"]["effective"]["base_url"] == "https://old-gw"
    assert ("error", 'your user settings set ANTHROPIC_BASE_URL="https://old-gw"; the profile leaves it unset, so Claude Code uses it') in messages(wts["d"])
    assert ("error", "your user settings set ANTHROPIC_AUTH_TOKEN=(sensitive); the profile leaves it unset, so Claude Code uses it") in messages(wts["d"])
    assert messages(wts["a"]) == []  # the local file sets both: it wins
    text = run("doctor", "d")
    assert SECRET not in text.out + text.err


def test_managed_settings_win_over_everything(cfg, run, tmp_path):
    (tmp_path / "managed.json").write_text(json.dumps({"env": {"ANTHROPIC_DEFAULT_OPUS_MODEL": "policy-o"}, "deniedModels": ["s-1"]}))
    code, wts = findings(run, "a")
    assert code == 1
    assert messages(wts["a"]) == [
        ("error", 'managed settings set ANTHROPIC_DEFAULT_OPUS_MODEL="policy-o", overriding the profile\'s value'),
        ("error", "managed settings deny the sonnet slot's model 's-1'"),
    ]
    assert wts["a"]["effective"]["models"]["opus"] == "policy-o"


def test_backend_var_exported_in_the_shell(cfg, run, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://shell-gw")
    code, wts = findings(run)
    assert ("error", 'the shell environment set ANTHROPIC_BASE_URL="https://shell-gw"; the profile leaves it unset, so Claude Code uses it') in messages(wts["d"])
    assert messages(wts["a"]) == []  # the settings env beats the shell


def test_model_picked_with_slash_model_in_user_settings(cfg, run, isolated_home):
    write_tree(isolated_home, {".claude/settings.json": '{"model": "haiku"}'})
    code, wts = findings(run, "a")
    assert code == 0
    assert messages(wts["a"]) == [
        ("warning", "your user settings pick model 'haiku' (Claude Code's /model writes it there): sessions start on it, not on the profile's default")
    ]
    assert (wts["a"]["effective"]["default_slot"], wts["a"]["effective"]["default_model"]) == ("haiku", "h-1")


def test_available_models_must_list_exact_ids(cfg, run):
    (cfg / "profiles/gw.yaml").write_text(GW.replace("opus: o-1", "opus: acme/claude-opus-x"))
    run("apply", "--yes")
    write_tree(cfg, {"a/.claude/settings.json": json.dumps({"availableModels": ["h-1", "sonnet", "opus"], "enforceAvailableModels": True})})
    code, wts = findings(run, "a")
    assert code == 0
    assert [m for level, m in messages(wts["a"])] == [
        # 'sonnet' does not admit s-1; 'opus' admits acme/claude-opus-x, which names the family.
        "availableModels does not admit the sonnet slot's model 's-1': only its exact ID, or a family alias the ID contains, would; Claude Code sends another model, silently (the default, or its own ID for that slot)",
    ]
    write_tree(cfg, {"a/.claude/settings.json": json.dumps({"availableModels": ["h-1"], "enforceAvailableModels": True})})
    assert "enforceAvailableModels with the default model 'acme/claude-opus-x' not admitted: Claude Code starts on a built-in Anthropic model ID instead, which the gateway may not serve" in [
        m for _, m in messages(findings(run, "a")[1]["a"])
    ]
    # The profile's default picks the sonnet slot; its model is admitted, so enforcing is harmless.
    write_tree(cfg, {"a/.claude/settings.json": json.dumps({"availableModels": ["s-1"], "enforceAvailableModels": True})})
    (cfg / "profiles/gw.yaml").write_text(GW + "default: sonnet\n")
    run("apply", "--yes")
    assert not [m for _, m in messages(findings(run, "a")[1]["a"]) if "enforceAvailableModels" in m]


@pytest.mark.parametrize(
    ("layer", "text", "message"),
    [
        ("a/.claude/settings.json", '{"model": 42}', "'model' is a int, not a str: Claude Code drops the whole project settings file, silently (its env too)"),
        ("a/.claude/settings.json", '{"env": {"X": 1}}', "env.X is a int, not a string: Claude Code drops the whole project settings file, silently (its env too)"),
        ("a/.claude/settings.json", "{nope", "project settings is not valid JSON (Expecting property name enclosed in double quotes): Claude Code ignores the whole file"),
    ],
)
def test_a_file_claude_code_would_drop(cfg, run, layer, text, message):
    write_tree(cfg, {layer: text})
    code, wts = findings(run, "a")
    assert code == 1
    assert messages(wts["a"]) == [("error", message)]


def test_a_key_git_would_commit(cfg, run):
    git(cfg / "a", "init", "-q")
    code, wts = findings(run, "a")
    assert code == 1
    assert ("error", "holds a key and git does not ignore it: one 'git add .' and the key is committed") in messages(wts["a"])
    (cfg / "a/.gitignore").write_text(".claude/settings.local.json\n")
    assert findings(run, "a")[0] == 0


def test_a_claude_session_started_before_the_change(cfg, run, tmp_path):
    fake = tmp_path / "bin" / "claude"  # a process named claude, working in worktree a
    fake.parent.mkdir()
    shutil.copy(shutil.which("sleep"), fake)
    proc = subprocess.Popen([str(fake), "30"], cwd=cfg / "a")
    try:
        time.sleep(0.05)
        (cfg / "profiles/gw.yaml").write_text(GW.replace("o-1", "o-2"))
        assert run("apply", "--yes").code == 0
        code, wts = findings(run, "a")
        assert (
            "warning",
            f"claude (pid {proc.pid}) started before the settings last changed and still uses the old ones",
        ) in messages(wts["a"])
    finally:
        proc.kill()
        proc.wait()


def test_online_tries_each_slot_of_the_gateway(cfg, run):
    # Each slot is tried with a Messages call (tests/test_doctor_online.py has the rest): a
    # gateway that only answers HEAD fails them; one that is gone too, and no finding repeats it.
    with serve(lambda r: Reply(200 if r.method == "HEAD" else 501)) as server:
        (cfg / "profiles/gw.yaml").write_text(GW.replace("http://127.0.0.1:9/api", server.url))
        run("apply", "--yes")
        code, wts = findings(run, "a", "--online")
        assert (code, messages(wts["a"])) == (1, [])
        assert [(s["slot"], s["message"]) for s in wts["a"]["live"]["slots"]] == [(slot, "HTTP 501") for slot in ("haiku", "sonnet", "opus")]
    refused = "cannot reach the gateway: Connection refused"  # the server is gone
    code, wts = findings(run, "a", "--online")
    assert (code, messages(wts["a"])) == (1, [])
    assert [s["message"] for s in wts["a"]["live"]["slots"]] == [refused] * 3


def test_apply_names_a_running_session(cfg, run, tmp_path):
    fake = tmp_path / "bin" / "claude"
    fake.parent.mkdir()
    shutil.copy(shutil.which("sleep"), fake)
    proc = subprocess.Popen([str(fake), "30"], cwd=cfg / "a")
    try:
        (cfg / "profiles/gw.yaml").write_text(GW.replace("o-1", "o-3"))
        result = run("apply", "--yes")
        assert result.code == 0
        assert result.err == f"llmconf: warning: a: claude is running there (pid {proc.pid}) on the old settings; restart it\n"
    finally:
        proc.kill()
        proc.wait()


def test_status_shows_the_effective_values_too(cfg, run, isolated_home):
    rows = {r["worktree"]: r for r in json.loads(run("status", "--json").out)["worktrees"]}
    assert rows["d"]["effective"] == "as declared"
    write_tree(isolated_home, {".claude/settings.json": json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://old-gw"}})})
    rows = {r["worktree"]: r for r in json.loads(run("status", "--json").out)["worktrees"]}
    assert (rows["d"]["effective"], rows["d"]["effective_values"]["backend"]) == ("differs: llmconf doctor", "https://old-gw")
    assert rows["a"]["effective"] == "as declared"  # its local settings win
    assert run("status").out.splitlines()[2].split()[-3:] == ["differs:", "llmconf", "doctor"]
