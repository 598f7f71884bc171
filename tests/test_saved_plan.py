"""plan --out FILE, then apply FILE: exactly that plan, or nothing if anything moved."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import assert_unchanged, snapshot_tree


@pytest.fixture
def team(tmp_path, store_secret):
    store_secret()
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: openrouter\n  b: anthropic\n",
            "profiles/local.yaml": "extends: openrouter\nenv: {TIMEOUT: '{{ env(\"BENCH_T\", \"5\") }}'}\n",
            "a/.claude/settings.local.json": '{"permissions": {"allow": ["Read"]}}\n',
            "b/.keep": "",
        },
    )
    return tmp_path


def stale(what: str) -> str:
    return (
        f"llmconf: my.plan: stale plan: {what} changed since the plan was made; nothing written "
        "(make a new plan with 'llmconf plan --out FILE' and review it)\n"
    )


def saved(run, *argv):
    result = run("plan", "--out", "my.plan", *argv)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "Saved this plan to my.plan. Apply exactly it with: llmconf apply my.plan"
    return result


def test_saved_plan_applies_exactly_and_holds_no_secret(team, run):
    saved(run)
    text = (team / "my.plan").read_text()
    assert SECRET not in text and json.dumps(SECRET)[1:-1] not in text
    assert oct(os.stat(team / "my.plan").st_mode & 0o777) == "0o600"
    result = run("apply", "my.plan")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "Apply complete: 12 added, 0 changed, 0 removed, 1 file mode made 0600 (in 1 file)."
    assert json.loads((team / "a/.claude/settings.local.json").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET
    # Applied once: the same plan is now stale (its target file changed).
    again = run("apply", "my.plan")
    assert (again.code, again.err) == (1, stale("a/.claude/settings.local.json"))


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda t, run: (t / "worktrees.yaml").write_text("worktrees:\n  a: deepseek\n  b: anthropic\n"), "worktrees.yaml"),
        (lambda t, run: (t / "profiles/new.yaml").write_text("models: {haiku: x}\n"), "profiles/new.yaml"),
        (lambda t, run: run("secret", "set", "openrouter", stdin="rotated"), "secret 'openrouter'"),
        (lambda t, run: (t / "a/.claude/settings.local.json").write_text("{}\n"), "a/.claude/settings.local.json"),
    ],
)
def test_stale_saved_plan_is_refused_and_changes_nothing(team, run, change, what):
    saved(run)
    change(team, run)
    before = snapshot_tree(team)
    result = run("apply", "my.plan")
    assert (result.code, result.out, result.err) == (1, "", stale(what))
    assert_unchanged(before, team)
    assert not (team / "b/.claude").exists()


def test_env_var_read_by_a_template_is_an_input(team, run, monkeypatch):
    (team / "worktrees.yaml").write_text("worktrees:\n  a: local\n")
    saved(run)
    monkeypatch.setenv("BENCH_T", "9")
    result = run("apply", "my.plan")
    assert (result.code, result.out, result.err) == (1, "", stale("environment variable BENCH_T"))


def test_saved_plan_for_selected_worktrees(team, run):
    (team / "worktrees.yaml").write_text("worktrees:\n  a: openrouter\n  b: devstral\n")
    saved(run, "b")
    assert run("apply", "my.plan").code == 0
    assert (team / "b/.claude/settings.local.json").exists()
    assert "ANTHROPIC_BASE_URL" not in (team / "a/.claude/settings.local.json").read_text()


def test_not_a_plan_file(team, run):
    (team / "notes.txt").write_text("hello\n")
    result = run("apply", "notes.txt")
    assert (result.code, result.err) == (1, "llmconf: notes.txt: not a saved llmconf plan (make one with 'llmconf plan --out FILE')\n")
