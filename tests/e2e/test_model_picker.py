"""What `/model` shows is what the profile says: each slot's row carries its label and
description, read from the real Claude Code TUI in a tmux pane.

Claude Code runs interactively, offline: HOME is a temp folder whose .claude.json says the
onboarding is done and the folder is trusted, and the gateway is a fake one on 127.0.0.1
(the picker itself sends nothing). The pane is polled for text, never slept on blindly.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.e2e.conftest import claude_env

MODELS = {"haiku": "test/haiku-model", "sonnet": "test/sonnet-model", "opus": "test/opus-model", "fable": "test/fable-model"}
LABELS = {slot: f"GW {slot.title()}" for slot in MODELS}
DESCRIPTIONS = {slot: f"{slot} via the test gateway" for slot in MODELS}
#: A picker row: "  ❯ 2. GW Opus      opus via the test gateway".
ROW = re.compile(r"^\s*(?:❯\s*)?\d+\.\s+(.+?)\s{2,}(.+?)\s*$")


@pytest.fixture
def tmux():
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is not installed; tests/install-tools.sh installs it")
        pytest.skip("tmux is not installed")
    session = f"llmconf-{uuid.uuid4().hex[:8]}"
    yield session
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def pane(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def wait_for(session: str, pattern: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = pane(session)
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} on the screen after {seconds} s:\n{pane(session)}")


def apply_profile(tmp_path, run, profile: dict) -> Path:
    """Apply a one-worktree config whose worktree uses `profile`; the worktree's folder."""
    write_tree(tmp_path, {"cfg/profiles/gw.yaml": json.dumps(profile), "cfg/worktrees.yaml": "worktrees:\n  ../wt: gw\n"})
    (tmp_path / "wt").mkdir()
    applied = run("-C", str(tmp_path / "cfg"), "apply", "--yes")
    assert applied.code == 0, applied.err
    return tmp_path / "wt"


def model_picker_rows(tmp_path, session: str, worktree: Path, argv: list[str], until: str) -> list[tuple[str, str]]:
    """Start `argv` (claude, or llmconf exec -- claude) in the worktree inside tmux, open
    /model, and read its rows (label, description) once `until` is on the screen."""
    home = tmp_path / "home"
    write_tree(home, {".claude.json": json.dumps(
        {"hasCompletedOnboarding": True, "theme": "dark", "projects": {str(worktree): {"hasTrustDialogAccepted": True}}}
    )})
    # llmconf exec finds the worktree's --settings file under the test's own state folder.
    llmconf = {k: os.environ[k] for k in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME") if k in os.environ}
    env = {**claude_env(home), **llmconf, "TERM": "xterm-256color"}
    command = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv])  # tmux runs it with sh -c
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "50", "-c", str(worktree), command], check=True)
    wait_for(session, r"\? for shortcuts|⏵⏵")
    subprocess.run(["tmux", "send-keys", "-t", session, "/model"], check=True)
    wait_for(session, r"Switch model|Set the AI model")
    subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
    screen = wait_for(session, rf"(?s)Select model.*{until}")
    return [m.groups() for line in screen.splitlines() if (m := ROW.match(line))]


def test_model_shows_each_slots_label_and_description(tmp_path, run, api, claude_bin, tmux, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)
    profile = {
        "base_url": api.url, "auth_token": "not-a-real-key", "models": MODELS, "labels": LABELS, "descriptions": DESCRIPTIONS,
    }
    worktree = apply_profile(tmp_path, run, profile)
    rows = model_picker_rows(tmp_path, tmux, worktree, [claude_bin], "GW Haiku")
    assert sorted(r for r in rows if r[0].startswith("GW ")) == sorted((LABELS[s], DESCRIPTIONS[s]) for s in MODELS)
    assert not api.messages  # the picker asks the gateway nothing


def test_picker_rows_reach_model_through_llmconf_exec(tmp_path, run, api, claude_bin, claude_version, tmux, monkeypatch):
    """The profile's own /model rows, in its order, with the built-in lineup hidden: read only
    from --settings, so they come with `llmconf exec`. A release that lacks modelPicker gets
    none written, and plan says which release would take them."""
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)
    profile = {
        "base_url": api.url, "auth_token": "not-a-real-key", "models": MODELS, "labels": LABELS,
        "picker": {"rows": [
            "opus",
            {"model": "sonnet", "label": "Row Sonnet", "description": "the sonnet slot, relabelled"},
            {"model": "vendor/extra-model", "label": "Row Extra", "description": "a model no slot maps"},
        ]},
    }
    worktree = apply_profile(tmp_path, run, profile)
    planned = json.loads(run("-C", str(tmp_path / "cfg"), "plan", "--json").out)
    if claude_version < "2.1.242":
        assert planned["notes"] == [f"Claude Code {claude_version} would ignore, so plan leaves out: picker (read from 2.1.242 on)"]
        assert [w["delivery"]["kind"] for w in planned["worktrees"]] == ["file"]
        return
    assert "notes" not in planned and [w["delivery"]["kind"] for w in planned["worktrees"]] == ["settings", "settings"]
    argv = [sys.executable, "-m", "llmconf", "exec", "--", claude_bin]
    rows = model_picker_rows(tmp_path, tmux, worktree, argv, "Row Extra")
    assert [label for label, _ in rows] == ["Default (recommended) ✔", "GW Opus", "Row Sonnet", "Row Extra"]
    assert rows[1:] == [("GW Opus", "test/opus-model"), ("Row Sonnet", "the sonnet slot, relabelled"), ("Row Extra", "a model no slot maps")]
    assert not api.messages
