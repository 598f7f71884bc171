"""Which Claude Code will run, its version's rules, and the plan errors for values that would
not take effect (the rules themselves are pinned against the real binaries in tests/e2e)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.helpers import assert_unchanged, make_repo, snapshot_tree

PROFILE = "base_url: http://gw-{0}\nmodels: {{sonnet: {0}-sonnet}}\n"


@pytest.fixture
def fleet(tmp_path):
    """A main checkout on gateway a and a linked worktree on gateway b."""
    make_repo(tmp_path, "main", linked=("wt",))
    write_tree(
        tmp_path,
        {
            "cfg/worktrees.yaml": "worktrees:\n  ../main: a\n  ../wt: b\n",
            "cfg/profiles/a.yaml": PROFILE.format("a"),
            "cfg/profiles/b.yaml": PROFILE.format("b"),
        },
    )
    return tmp_path


def fake_claude(folder: Path, version: str) -> Path:
    """A `claude` that prints a version and counts how often it was asked."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "claude"
    script.write_text(f'#!/bin/sh\necho x >> "{folder}/calls"\necho "{version} (Claude Code)"\n')
    script.chmod(0o755)
    return script


def kinds(run, root: Path) -> dict[str, str]:
    doc = json.loads(run("-C", str(root / "cfg"), "plan", "--json").out)
    return {w["name"]: w["delivery"]["kind"] for w in doc["worktrees"] if w.get("role") != "delivery"}


def test_the_installed_version_decides_the_delivery_and_is_asked_once(fleet, run, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(fleet / "old", "2.1.197")))
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}  # before 2.1.211: each its own file
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}
    assert (fleet / "old/calls").read_text() == "x\n"  # remembered by path, size and mtime
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(fleet / "new", "2.1.211")))
    assert kinds(run, fleet) == {"main": "file", "wt": "settings"}


def test_a_native_install_says_its_version_by_its_path(fleet, run, monkeypatch):
    binary = fake_claude(fleet / "share/claude/versions/2.1.199", "9.9.9")
    binary.rename(fleet / "share/claude/versions/real")
    os.rename(fleet / "share/claude/versions/real", fleet / "share/claude/versions/2.1.199-tmp")
    (fleet / "share/claude/versions/2.1.199").rmdir()
    os.rename(fleet / "share/claude/versions/2.1.199-tmp", fleet / "share/claude/versions/2.1.199")
    (fleet / "bin").mkdir()
    (fleet / "bin/claude").symlink_to(fleet / "share/claude/versions/2.1.199")
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fleet / "bin/claude"))
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}
    assert not (fleet / "share/claude/versions/calls").exists()  # never run


def test_doctor_says_which_claude_it_follows(fleet, run, monkeypatch):
    result = run("-C", str(fleet / "cfg"), "doctor")
    assert result.out.splitlines()[-2] == (
        f"Claude Code: LLMCONF_CLAUDE names {os.environ['LLMCONF_CLAUDE']}, which is not a program; "
        "assuming 2.1.332's rules (the newest llmconf knows)."
    )
    monkeypatch.delenv("LLMCONF_CLAUDE")
    monkeypatch.setenv("PATH", str(fleet / "nothing-here"))
    result = run("-C", str(fleet / "cfg"), "doctor", "--json")
    assert json.loads(result.out)["claude_code"] == {"path": None, "version": "2.1.332", "assumed": True}
    binary = fake_claude(fleet / "bin", "2.1.250")
    monkeypatch.setenv("PATH", str(fleet / "bin"))
    result = run("-C", str(fleet / "cfg"), "doctor")
    assert result.out.splitlines()[-2] == f"Claude Code 2.1.250: {binary.relative_to(fleet)}"


def test_a_repository_root_at_home_is_not_read_first(fleet, run, monkeypatch):
    monkeypatch.setenv("HOME", str(fleet / "main"))
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}


def test_a_main_checkout_on_the_same_backend_needs_no_delivery(fleet, run):
    (fleet / "cfg/worktrees.yaml").write_text("worktrees:\n  ../main: b\n  ../wt: b\n")
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}
    doc = json.loads(run("-C", str(fleet / "cfg"), "plan", "--json").out)
    assert doc["worktrees"][1]["delivery"]["why"] == (
        f"{fleet / 'main/.claude/settings.local.json'} is read first (Claude Code 2.1.211+), but sets none of "
        "this worktree's keys otherwise: its own file decides"
    )


def test_an_undeclared_main_checkout_is_read_as_it_is(fleet, run):
    (fleet / "cfg/worktrees.yaml").write_text("worktrees:\n  ../wt: b\n")
    assert kinds(run, fleet) == {"wt": "file"}
    write_tree(fleet, {"main/.claude/settings.local.json": json.dumps({"permissions": {"allow": ["Bash(ls)"]}, "model": "opus"})})
    assert kinds(run, fleet) == {"wt": "settings"}  # its model would win: the delivery blanks it
    run("-C", str(fleet / "cfg"), "apply", "--yes")
    from llmconf.targets.claude_code.layers import delivery_path

    delivered = json.loads(delivery_path(fleet / "wt").read_text())
    assert delivered["model"] == "" and delivered["env"]["ANTHROPIC_BASE_URL"] == "http://gw-b"
    assert "apiKeyHelper" not in delivered  # the main checkout has none to blank
    # What llmconf does not own in the root file stays the user's.
    assert json.loads((fleet / "main/.claude/settings.local.json").read_text())["permissions"] == {"allow": ["Bash(ls)"]}


def test_a_value_managed_settings_override_is_a_plan_error(fleet, run, monkeypatch):
    managed = fleet / "managed.json"
    monkeypatch.setenv("LLMCONF_CLAUDE_MANAGED_SETTINGS", str(managed))
    managed.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://policy-gw"}}))
    before = snapshot_tree(fleet, skip=lambda rel: ".git" in rel.parts)
    plan = run("-C", str(fleet / "cfg"), "plan")
    assert plan.code == 1
    assert plan.err.splitlines() == [
        "llmconf: managed.json: managed settings set env.ANTHROPIC_BASE_URL to another value: Claude Code uses "
        "theirs, whatever llmconf writes (in 2 worktrees: main, wt) "
        f"(declare the managed value, or ask whoever manages {managed} to drop env.ANTHROPIC_BASE_URL)"
    ]  # once, naming both worktrees
    assert run("-C", str(fleet / "cfg"), "apply", "--yes").code == 1
    assert_unchanged(before, fleet, skip=lambda rel: ".git" in rel.parts)  # nothing written
    rows = json.loads(run("-C", str(fleet / "cfg"), "status", "--json").out)["worktrees"]
    assert [(r["state"], r["effective"]) for r in rows] == [("error", "differs: llmconf doctor")] * 2


def test_rollback_puts_a_worktrees_settings_file_back_with_it(fleet, run):
    from llmconf.targets.claude_code.layers import delivery_path

    cfg = str(fleet / "cfg")
    assert run("-C", cfg, "apply", "--yes").code == 0
    sent = delivery_path(fleet / "wt")
    first = sent.read_text()
    (fleet / "cfg/profiles/b.yaml").write_text(PROFILE.format("b").replace("b-sonnet", "b-sonnet-2"))
    assert run("-C", cfg, "apply", "--yes").code == 0
    assert sent.read_text() != first
    rolled = run("-C", cfg, "rollback", str(fleet / "wt"), "--yes")
    assert rolled.code == 0, rolled.err
    assert rolled.err == ""
    assert sent.read_text() == first
    assert oct(sent.stat().st_mode & 0o777) == "0o600"
    headers = [line for line in rolled.out.splitlines() if line.startswith("# ")]
    assert [h.split(":")[0] for h in headers] == ["# wt", "# wt"]


def test_worktrees_yaml_can_name_the_claude_binary(fleet, run, monkeypatch):
    monkeypatch.delenv("LLMCONF_CLAUDE")
    monkeypatch.setenv("PATH", str(fleet / "nothing-here"))
    fake_claude(fleet / "tools", "2.1.197")
    config = fleet / "cfg/worktrees.yaml"
    config.write_text("claude_code: ../tools/claude\n" + config.read_text())
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}  # the same from the config cache
    doc = json.loads(run("-C", str(fleet / "cfg"), "doctor", "--json").out)
    assert doc["claude_code"] == {"path": str(fleet / "tools/claude"), "version": "2.1.197", "assumed": False}
    # $LLMCONF_CLAUDE wins over the config, as -C does over the folder.
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(fleet / "newer", "2.1.300")))
    assert kinds(run, fleet) == {"main": "file", "wt": "settings"}
    config.write_text(config.read_text().replace("../tools/claude", "../tools/nothing"))
    monkeypatch.delenv("LLMCONF_CLAUDE")
    result = run("-C", str(fleet / "cfg"), "doctor")
    assert result.out.splitlines()[-2] == (
        f"Claude Code: claude_code in worktrees.yaml names {fleet / 'tools/nothing'}, which is not a program; "
        "assuming 2.1.332's rules (the newest llmconf knows)."
    )


def test_a_saved_plan_applies_the_delivery_exactly_and_holds_no_key(fleet, run, monkeypatch):
    from llmconf.targets.claude_code.layers import delivery_path

    monkeypatch.setenv("LLMCONF_SECRET_GW", "sk-the-real-key-0123456789abcdefghij")
    profile = fleet / "cfg/profiles/b.yaml"
    profile.write_text(PROFILE.format("b") + "auth_token: \"{{ secret('gw') }}\"\n")
    cfg = str(fleet / "cfg")
    planned = run("-C", cfg, "plan", "--out", str(fleet / "p.plan"))
    assert planned.code == 0, planned.err
    assert "sk-the-real-key" not in (fleet / "p.plan").read_text()
    assert "claude-settings.json" in (fleet / "p.plan").read_text()
    applied = run("-C", cfg, "apply", str(fleet / "p.plan"))
    assert applied.code == 0, applied.err
    delivered = json.loads(delivery_path(fleet / "wt").read_text())["env"]
    assert (delivered["ANTHROPIC_AUTH_TOKEN"], delivered["ANTHROPIC_BASE_URL"]) == ("sk-the-real-key-0123456789abcdefghij", "http://gw-b")
    assert run("-C", cfg, "plan", "--detailed-exitcode").code == 0


def test_doctor_says_when_a_settings_file_is_not_applied_yet(fleet, run):
    from llmconf.targets.claude_code.layers import delivery_path

    cfg = str(fleet / "cfg")
    assert run("-C", cfg, "apply", "--yes").code == 0
    sent = delivery_path(fleet / "wt")
    sent.write_text(sent.read_text().replace("http://gw-b", "http://elsewhere"))  # a hand edit
    doc = json.loads(run("-C", cfg, "doctor", "wt", "--json").out)["worktrees"][0]
    message = "not applied yet: its --settings file differs from the profile"
    assert {"severity": "warning", "code": None, "file": str(sent), "line": None, "message": message, "hint": "run 'llmconf apply'",
            "level": "warning", "path": str(sent)} in doc["findings"]
    assert doc["effective"]["base_url"] == "http://elsewhere"  # what claude would really get


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give .claude away")
def test_a_main_checkout_whose_claude_folder_is_not_yours_is_not_read_first(fleet, run):
    (fleet / "main/.claude").mkdir()
    os.chown(fleet / "main/.claude", 65534, 65534)
    assert kinds(run, fleet) == {"main": "file", "wt": "file"}
    doc = json.loads(run("-C", str(fleet / "cfg"), "plan", "--json").out)
    assert doc["worktrees"][1]["delivery"]["why"] == (
        "the repository root is not yours, so Claude Code reads this folder's own file"
    )


def test_exec_says_what_it_cannot_run(tmp_path):
    import sys

    for argv, code, said in [
        (["no-such-program-here"], 127, "llmconf: no-such-program-here: command not found"),
        ([str(tmp_path)], 126, f"llmconf: {tmp_path}: cannot run it: Permission denied"),
    ]:
        done = subprocess.run([sys.executable, "-m", "llmconf", "exec", "--", *argv], capture_output=True, text=True)
        assert (done.returncode, done.stdout, done.stderr) == (code, "", said + "\n")


def test_exec_gives_a_script_a_claude_that_carries_the_delivery(fleet, run, monkeypatch):
    """`llmconf exec -- SCRIPT`: a `claude` the script runs gets the worktree's --settings file."""
    import sys

    from llmconf.targets.claude_code.layers import delivery_path

    assert run("-C", str(fleet / "cfg"), "apply", "--yes").code == 0
    bin_dir = fleet / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text('#!/bin/sh\necho "claude $*"\n')
    (bin_dir / "claude").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def script(folder):
        argv = [sys.executable, "-m", "llmconf", "exec", "--", "sh", "-c", "claude -p hi"]
        return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True).stdout

    assert script(fleet / "wt") == f"claude --settings {delivery_path(fleet / 'wt')} -p hi\n"
    assert script(fleet / "main") == "claude -p hi\n"  # no delivery there: untouched
