"""The guide's daily jobs, done its way: from inside the worktree, with no -C.

The config lives in a sibling folder (the README's `llmconf init ../forgerank ../forgerank-glm`),
forgerank-glm is a linked git worktree of forgerank, and the real Claude Code runs there. The
guide's switch scripts become `llmconf use`: OpenRouter, DeepSeek, Devstral, back to direct,
and one slot changed. After each, plan has nothing left to do, status says what the worktree
uses, and the requests a plain `claude` sends there reach the gateway with that profile's
model and key (or, direct, reach no gateway).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import write_tree
from tests.e2e.fakeapi import FakeApi
from tests.helpers import make_repo

KEY = "sk-or-v1-" + "5a" * 32
#: The sonnet model of each shipped profile (profiles/*.yaml), as Claude Code must send it.
SONNET = {"openrouter": "qwen/qwen3-coder:exacto", "deepseek": "deepseek/deepseek-v3.2", "devstral": "mistralai/devstral-2512"}


@pytest.fixture
def guide(tmp_path, run, claude_bin, monkeypatch):
    """forgerank (main checkout) and forgerank-glm (linked), the config in llm-config beside them,
    made with init from the config folder; the team's copy of openrouter-base points at a fake
    OpenRouter on 127.0.0.1."""
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)
    make_repo(tmp_path, "forgerank", linked=("forgerank-glm",))
    write_tree(tmp_path, {"llm-config/.keep": ""})
    with FakeApi() as gateway:
        made = run("init", "../forgerank", "../forgerank-glm", cwd=tmp_path / "llm-config")
        assert made.code == 0, made.err
        base = tmp_path / "llm-config/profiles/openrouter-base.yaml"
        text, n = re.subn(r"(?m)^base_url: https://openrouter.ai/api", f"base_url: {gateway.url}", base.read_text())
        assert n == 1
        base.write_text(text)
        yield tmp_path, gateway


def _sonnet_request(claude, worktree, gateway):
    """What a plain `claude -p` there sends for the sonnet slot: (Authorization, model), or None
    when no request reaches the gateway."""
    before = len(gateway.messages)
    done = claude(worktree, "--model", "sonnet")
    new = gateway.messages[before:]
    if not new:
        return None
    assert done.returncode == 0, done.stderr
    return {(r.authorization, r.model) for r in new}


def test_the_guides_jobs_from_inside_the_worktree(guide, run, claude, monkeypatch):
    root, gateway = guide
    glm = root / "forgerank-glm"
    # save-openrouter-key.sh KEY, the safe way: the key comes in on stdin.
    assert run("secret", "set", "openrouter", stdin=KEY + "\n", cwd=glm).code == 0

    def status_row():
        done = run("status", "--json", cwd=glm)
        assert done.code == 0, done.err
        return {r["worktree"]: r for r in json.loads(done.out)["worktrees"]}["forgerank-glm"]

    for profile, sonnet in SONNET.items():  # switch-openrouter.sh, switch-deepseek.sh, switch-devstral.sh
        switched = run("use", profile, "--apply", "--yes", cwd=glm)
        assert switched.code == 0, switched.err
        assert switched.out.splitlines()[0] == f"../forgerank-glm: now uses profile '{profile}'."
        assert run("plan", "--detailed-exitcode", cwd=glm).code == 0
        row = status_row()
        assert (row["profile"], row["state"], row["effective"]) == (profile, "in-sync", "as declared")
        assert _sonnet_request(claude, glm, gateway) == {(f"Bearer {KEY}", sonnet)}

    # One slot, no YAML edited by hand.
    one = run("use", "openrouter", "--model", "sonnet=z-ai/glm-4.7", "--apply", "--yes", cwd=glm)
    assert one.code == 0, one.err
    assert _sonnet_request(claude, glm, gateway) == {(f"Bearer {KEY}", "z-ai/glm-4.7")}
    assert (root / "llm-config/worktrees.yaml").read_text().splitlines()[-4:] == [
        "  ../forgerank: anthropic",
        "  ../forgerank-glm:",
        "    profile: openrouter",
        "    models: {sonnet: z-ai/glm-4.7}",
    ]

    # switch-claude.sh: back to Anthropic direct, overrides dropped; no gateway hears of it.
    direct = run("use", "anthropic", "--reset", "--apply", "--yes", cwd=glm)
    assert direct.code == 0, direct.err
    assert run("plan", "--detailed-exitcode", cwd=glm).code == 0
    assert not (glm / ".claude").exists()
    assert _sonnet_request(claude, glm, gateway) is None
    row = status_row()
    assert (row["profile"], row["state"], row["effective"]) == ("anthropic", "in-sync", "as declared")

    # status, the command people run most, from inside the worktree and in 80 columns.
    monkeypatch.setenv("COLUMNS", "80")
    shown = run("status", cwd=glm)
    assert shown.code == 0, shown.err
    assert all(len(line) <= 80 for line in shown.out.splitlines()), shown.out
    assert [line.split()[:2] for line in shown.out.splitlines() if line.startswith("forgerank")] == [
        ["forgerank", "anthropic"],
        ["forgerank-glm", "anthropic"],
    ]
    # The key is in no file of either checkout or the config, and in no output.
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert KEY not in path.read_text(errors="replace"), path
