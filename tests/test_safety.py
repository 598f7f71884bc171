"""Backups, rollback, the lock and concurrent runs: nothing lost, nothing interleaved."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from llmconf.apply.lock import locked
from tests.conftest import SECRET, write_tree
from tests.helpers import git

GROWN = '{\n    "permissions": {"allow": ["Read"]},\n    "env": {"KEEP": "1"}\n}\n'


@pytest.fixture
def team(tmp_path, store_secret):
    store_secret()
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: openrouter\n  b: anthropic\n",
            "a/.claude/settings.local.json": GROWN,
            "b/.keep": "",
        },
    )
    return tmp_path


def state_dir(home: Path) -> Path:
    return home / ".local" / "state" / "llmconf"


def unstamped(text: str) -> str:
    """Output with each apply's id and time as <id> and <time>: the rest is stable."""
    text = re.sub(r"\b\d{8}T\d{6}\.\d{6}Z\b", "<id>", text)
    return re.sub(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\b", "<time>", text)


def rollback_of_b(sign: str, action: str) -> str:
    """What rolling b back prints: its twelve devstral keys (a slot's model, its /model label and
    description from the catalog) removed (sign '-') or put back ('+')."""
    added, removed = (0, 12) if sign == "-" else (12, 0)
    slots = "".join(
        f'  {sign} env.ANTHROPIC_DEFAULT_{slot}_MODEL{" " * (6 - len(slot))}             = "mistralai/devstral-2512"\n'
        f'  {sign} env.ANTHROPIC_DEFAULT_{slot}_MODEL_NAME{" " * (6 - len(slot))}        = "Devstral 2"\n'
        f'  {sign} env.ANTHROPIC_DEFAULT_{slot}_MODEL_DESCRIPTION{" " * (6 - len(slot))} = "$0.15/$0.60 per 1M · 256K context"\n'
        for slot in ("HAIKU", "SONNET", "OPUS")
    )
    return (
        f"# b: b/.claude/settings.local.json (back to before apply <id>) will be {action}\n"
        f'  {sign} env.ANTHROPIC_BASE_URL                         = "https://openrouter.ai/api"\n'
        f"  {sign} env.ANTHROPIC_AUTH_TOKEN                       = (sensitive)\n"
        f'  {sign} env.ANTHROPIC_API_KEY                          = ""\n'
        + slots
        + "\n"
        f"Plan: {added} to add, 0 to change, {removed} to remove (in 1 file).\n"
        f"Rollback complete: {added} added, 0 changed, {removed} removed (in 1 file).\n"
    )


def test_apply_keeps_the_previous_bytes_privately(team, run, isolated_home):
    assert run("apply", "--yes").code == 0
    backups = list((state_dir(isolated_home) / "backups").rglob("*.json"))
    assert [json.loads(b.read_text())["files"] for b in backups] == [{str(team / "a/.claude/settings.local.json"): GROWN}]
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(backups[0].parent.stat().st_mode) == 0o700
    assert team not in backups[0].parents  # outside the worktree and the config


def test_rollback_restores_exact_bytes_and_can_be_redone(team, run):
    settings = team / "a/.claude/settings.local.json"
    run("apply", "--yes")
    applied = settings.read_text()
    assert json.loads(applied)["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET
    refused = run("rollback")
    assert refused.code == 1 and settings.read_text() == applied  # asks like apply
    result = run("rollback", "--yes")
    assert result.code == 0, result.err
    assert unstamped(result.out) == (
        "# a: a/.claude/settings.local.json (back to before apply <id>) will be updated\n"
        '  - env.ANTHROPIC_BASE_URL                         = "https://openrouter.ai/api"\n'
        "  - env.ANTHROPIC_AUTH_TOKEN                       = (sensitive)\n"
        '  - env.ANTHROPIC_API_KEY                          = ""\n'
        '  - env.ANTHROPIC_DEFAULT_HAIKU_MODEL              = "mistralai/devstral-2512"\n'
        '  - env.ANTHROPIC_DEFAULT_HAIKU_MODEL_NAME         = "Devstral 2"\n'
        '  - env.ANTHROPIC_DEFAULT_HAIKU_MODEL_DESCRIPTION  = "$0.15/$0.60 per 1M · 256K context"\n'
        '  - env.ANTHROPIC_DEFAULT_SONNET_MODEL             = "qwen/qwen3-coder:exacto"\n'
        '  - env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME        = "Qwen3-Coder 480B"\n'
        '  - env.ANTHROPIC_DEFAULT_SONNET_MODEL_DESCRIPTION = "$0.22/$0.95 per 1M · 262K context"\n'
        '  - env.ANTHROPIC_DEFAULT_OPUS_MODEL               = "anthropic/claude-opus-4.5"\n'
        '  - env.ANTHROPIC_DEFAULT_OPUS_MODEL_NAME          = "Claude Opus 4.5"\n'
        '  - env.ANTHROPIC_DEFAULT_OPUS_MODEL_DESCRIPTION   = "$5.00/$25.00 per 1M · 200K context"\n'
        "\n"
        "Plan: 0 to add, 0 to change, 12 to remove (in 1 file).\n"
        "Rollback complete: 0 added, 0 changed, 12 removed (in 1 file).\n"
    )
    assert settings.read_text() == GROWN
    assert SECRET not in result.out + result.err
    # The rollback was recorded too: rolling back again redoes the apply.
    assert run("rollback", "--yes").code == 0
    assert settings.read_text() == applied
    assert run("plan", "--detailed-exitcode").code == 0


def test_rollback_deletes_a_file_the_apply_created(team, run):
    (team / "worktrees.yaml").write_text("worktrees:\n  a: openrouter\n  b: devstral\n")
    run("apply", "--yes")
    created = team / "b/.claude/settings.local.json"
    assert created.exists()
    result = run("rollback", "b", "--yes")
    assert result.code == 0, result.err
    assert unstamped(result.out) == rollback_of_b("-", "deleted: it did not exist before")
    assert not created.exists()
    a = json.loads((team / "a/.claude/settings.local.json").read_text())
    assert a["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET  # not named: untouched


def test_rollback_with_nothing_recorded(team, run):
    result = run("rollback", "--yes")
    assert (result.code, result.err) == (
        1,
        "llmconf: nothing to roll back: no apply recorded on this machine "
        "('llmconf rollback --list' shows the kept backups; 'llmconf rollback --to ID' restores one)\n",
    )


def test_backup_listing_shows_no_content(team, run):
    run("apply", "--yes")
    run("use", "deepseek", "a", "--apply", "--yes")
    listing = run("rollback", "--list")
    assert listing.code == 0
    assert unstamped(listing.out).splitlines() == [  # the file, when, and how big: never what it held
        "a/.claude/settings.local.json  <id>  <time>  69 bytes",
        "a/.claude/settings.local.json  <id>  <time>  819 bytes",
    ]
    assert SECRET not in listing.out and "KEEP" not in listing.out


def test_only_the_last_five_versions_are_kept(team, run, isolated_home):
    for profile in ["openrouter", "deepseek", "devstral", "budget", "qwen3-coder", "ultra-budget", "best-value"]:
        assert run("use", profile, "a", "--apply", "--yes").code == 0
    kept = list((state_dir(isolated_home) / "backups").rglob("*.json"))
    assert len(kept) == 5


def test_a_second_run_waits_then_names_the_holder(team, run, isolated_home, monkeypatch):
    monkeypatch.setenv("LLMCONF_LOCK_TIMEOUT", "0.3")
    with locked(state_dir(isolated_home)):
        result = run("apply", "--yes")
    assert result.code == 1
    assert result.err == (
        f"llmconf: {state_dir(isolated_home) / 'lock'}: another llmconf (pid {os.getpid()}) holds the lock; "
        "gave up after 0.3s (wait for it to finish, then run this again)\n"
    )
    assert (team / "a/.claude/settings.local.json").read_text() == GROWN
    assert run("apply", "--yes").code == 0  # released


def test_concurrent_runs_lose_no_update(tmp_path, isolated_home):
    """Eight processes each switch their own worktree and apply, all at once."""
    profiles = ["deepseek", "devstral", "budget", "qwen3-coder", "mixed", "best-value", "ultra-budget", "max-no-claude"]
    names = [f"wt{i}" for i in range(len(profiles))]
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n" + "".join(f"  {n}: anthropic\n" for n in names)})
    for n in names:
        write_tree(tmp_path, {f"{n}/.claude/settings.local.json": GROWN})
    env = {**os.environ, "LLMCONF_SECRET_OPENROUTER": "k", "LLMCONF_LOCK_TIMEOUT": "60"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "llmconf", "-C", str(tmp_path), "use", p, n, "--apply", "--yes"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p, n in zip(profiles, names)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    config = (tmp_path / "worktrees.yaml").read_text()
    assert config == "worktrees:\n" + "".join(f"  {n}: {p}\n" for n, p in zip(names, profiles))
    for n in names:
        doc = json.loads((tmp_path / n / ".claude/settings.local.json").read_text())
        assert doc["permissions"] == {"allow": ["Read"]} and doc["env"]["KEEP"] == "1"
    final = subprocess.run(
        [sys.executable, "-m", "llmconf", "-C", str(tmp_path), "plan", "--detailed-exitcode"], env=env, capture_output=True
    )
    assert final.returncode == 0


def test_a_secret_under_a_plain_name_stays_hidden_when_removed_and_rolled_back(tmp_path, run, store_secret):
    """Found in review: redaction went by the key's name only."""
    store_secret("k", "sk-SUPERSECRET")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: p\n",
            "profiles/p.yaml": "base_url: http://x\nenv: {GATEWAY_AUTH: \"{{ secret('k') }}\"}\n",
            "a/.keep": "",
        },
    )
    assert run("apply", "--yes").code == 0
    run("use", "anthropic", "a")
    outputs = [run("plan"), run("plan", "--json"), run("plan", "--out", "p.plan")]
    assert "  - env.GATEWAY_AUTH       = (sensitive)" in outputs[0].out.splitlines()
    assert run("apply", "--yes").code == 0
    settings = tmp_path / "a/.claude/settings.local.json"
    assert not settings.exists()
    outputs.append(run("rollback", "--yes"))
    assert all("SUPERSECRET" not in r.out + r.err for r in outputs)
    assert "SUPERSECRET" not in (tmp_path / "p.plan").read_text()
    # The file rollback recreates holds the key again: it is private, whatever the umask.
    assert json.loads(settings.read_text())["env"]["GATEWAY_AUTH"] == "sk-SUPERSECRET"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600


def test_rolling_back_one_worktree_keeps_the_others_undo(team, run):
    """Found in review: a partial rollback dropped the rest of the journal."""
    (team / "worktrees.yaml").write_text("worktrees:\n  a: openrouter\n  b: devstral\n")
    assert run("apply", "--yes").code == 0
    assert run("rollback", "a", "--yes").code == 0
    assert (team / "a/.claude/settings.local.json").read_text() == GROWN
    result = run("rollback", "b", "--yes")
    assert result.code == 0, result.err
    assert unstamped(result.out) == rollback_of_b("-", "deleted: it did not exist before")
    assert not (team / "b/.claude/settings.local.json").exists()
    nothing = run("rollback", "b", "--yes")  # b's undo is spent; the rollback of it can be redone
    assert unstamped(nothing.out) == rollback_of_b("+", "created")


def test_a_literal_key_is_not_written_into_a_tracked_file(tmp_path, run):
    """Found in review: only secret() values were refused."""
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: p\n",
            "profiles/p.yaml": "base_url: http://x\nauth_token: sk-literal-KEY\n",
            "repo/.claude/settings.local.json": "{}\n",
        },
    )
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".")
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines() == [
        "llmconf: repo/.claude/settings.local.json: git tracks this file; llmconf will not write a secret into it "
        "(git-ignore .claude/settings.local.json and 'git rm --cached' it, "
        "or set allow_tracked_secret: true on 'repo' in worktrees.yaml)",
        "llmconf: nothing written: fix the errors above, or name the other worktrees",
    ]
    assert (tmp_path / "repo/.claude/settings.local.json").read_text() == "{}\n"


def test_no_backups_says_so(team, run):
    listing = run("rollback", "--list")
    assert (listing.code, listing.out) == (0, "No backups.\n")


def test_stray_files_in_the_backup_folder_are_ignored(team, run, isolated_home):
    run("apply", "--yes")
    (state_dir(isolated_home) / "backups/manual.json").write_text("{}")
    listing = run("rollback", "--list")
    assert listing.code == 0 and len(listing.out.splitlines()) == 1
