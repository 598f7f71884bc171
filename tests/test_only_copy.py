"""A plan that would remove the only copy of a key says so loudly (issue 13, trap 2): a key in
a switch script's settings file, kept nowhere else, is marked '!' and counted in the summary."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_tree

KEY = "sk-or-v1-onlyhere0123456789abcdef0123456789"
GROWN = {
    "env": {
        "ANTHROPIC_BASE_URL": "https://openrouter.ai/api",
        "ANTHROPIC_AUTH_TOKEN": KEY,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "z-ai/glm-4.7",
    }
}
WARNING = (
    "  ! env.ANTHROPIC_AUTH_TOKEN: this file holds the only copy of that key; save it first with "
    "'llmconf secret set NAME' (the value on stdin), or it is lost"
)


@pytest.fixture
def grown(tmp_path):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n", "a/.claude/settings.local.json": json.dumps(GROWN)})
    (tmp_path / "a/.claude/settings.local.json").chmod(0o600)
    return tmp_path


def test_removing_the_only_copy_of_a_key_is_loud_in_text_and_json(grown, run):
    plan = run("plan")
    assert plan.code == 0
    lines = plan.out.splitlines()
    assert WARNING in lines
    assert lines[-1] == "Plan: 0 to add, 0 to change, 3 to remove (in 1 file); 1 key lost for good (see '!' above)."
    assert KEY not in plan.out + plan.err
    doc = json.loads(run("plan", "--json").out)
    assert doc["worktrees"][0]["only_copy"] == ["env.ANTHROPIC_AUTH_TOKEN"]
    applied = run("apply", "--yes")
    assert WARNING in applied.out.splitlines()  # apply shows the same plan before it writes


@pytest.mark.parametrize("where", ["store", "environment"])
def test_a_key_kept_elsewhere_is_no_only_copy(grown, run, store_secret, monkeypatch, where):
    if where == "store":
        store_secret("openrouter", KEY)
    else:
        monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", KEY)
    plan = run("plan")
    assert WARNING not in plan.out.splitlines()
    assert plan.out.splitlines()[-1] == "Plan: 0 to add, 0 to change, 3 to remove (in 1 file)."
    assert "only_copy" not in json.loads(run("plan", "--json").out)["worktrees"][0]
