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
import time
import uuid

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


def test_model_shows_each_slots_label_and_description(tmp_path, run, api, claude_bin, tmux, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)
    profile = {
        "base_url": api.url, "auth_token": "not-a-real-key", "models": MODELS, "labels": LABELS, "descriptions": DESCRIPTIONS,
    }
    write_tree(tmp_path, {"cfg/profiles/gw.yaml": json.dumps(profile), "cfg/worktrees.yaml": "worktrees:\n  ../wt: gw\n"})
    (tmp_path / "wt").mkdir()
    applied = run("-C", str(tmp_path / "cfg"), "apply", "--yes")
    assert applied.code == 0, applied.err
    home = tmp_path / "home"
    write_tree(home, {".claude.json": json.dumps(
        {"hasCompletedOnboarding": True, "theme": "dark", "projects": {str(tmp_path / "wt"): {"hasTrustDialogAccepted": True}}}
    )})
    env = {**claude_env(home), "TERM": "xterm-256color"}
    command = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), claude_bin])  # tmux runs it with sh -c
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", tmux, "-x", "160", "-y", "50", "-c", str(tmp_path / "wt"), command], check=True
    )
    wait_for(tmux, r"\? for shortcuts|⏵⏵")
    subprocess.run(["tmux", "send-keys", "-t", tmux, "/model"], check=True)
    wait_for(tmux, r"Switch model|Set the AI model")
    subprocess.run(["tmux", "send-keys", "-t", tmux, "Enter"], check=True)
    screen = wait_for(tmux, r"(?s)Select model.*GW Haiku")
    rows = [m.groups() for line in screen.splitlines() if (m := ROW.match(line))]
    assert sorted(r for r in rows if r[0].startswith("GW ")) == sorted((LABELS[s], DESCRIPTIONS[s]) for s in MODELS)
    assert not api.messages  # the picker asks the gateway nothing
