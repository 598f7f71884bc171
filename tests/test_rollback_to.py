"""rollback --to ID reaches any kept backup, not only the last apply's (issue 13, trap 7):
shown as a plan first, files the apply created go again, and a plain rollback undoes it."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import write_tree
from tests.helpers import snapshot_tree

SETTINGS = "a/.claude/settings.local.json"


def _profile(model: str) -> str:
    return f"models: {{sonnet: {model}}}\n"


@pytest.fixture
def history(tmp_path, run):
    """Three applies to one worktree: it gets m/one (created), then m/two, then m/three."""
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "a/.keep": ""})
    for model in ("m/one", "m/two", "m/three"):
        write_tree(tmp_path, {"profiles/p.yaml": _profile(model)})
        assert run("apply", "--yes").code == 0
    listed = run("rollback", "--list").out.splitlines()
    ids = [re.search(r"\d{8}T\d{6}\.\d{6}Z", line)[0] for line in listed]
    assert len(ids) == 3 and listed[0].endswith("created by it"), listed
    return ids


def _sonnet(tmp_path) -> str | None:
    path = tmp_path / SETTINGS
    return json.loads(path.read_text())["env"]["ANTHROPIC_DEFAULT_SONNET_MODEL"] if path.exists() else None


def test_rollback_to_a_middle_apply_shows_the_plan_then_restores_it(tmp_path, run, history):
    first, second, _ = history
    result = run("rollback", "--to", second, "--yes")
    assert result.code == 0, result.err
    assert result.out.startswith(
        f"# a: {SETTINGS} (back to before apply {second}) will be updated\n"
        '  ~ env.ANTHROPIC_DEFAULT_SONNET_MODEL = "m/three" -> "m/one"\n'
    )
    assert _sonnet(tmp_path) == "m/one"
    assert run("rollback", "--yes").code == 0  # a plain rollback undoes the --to
    assert _sonnet(tmp_path) == "m/three"


def test_rollback_to_the_apply_that_created_the_file_deletes_it(tmp_path, run, history):
    first = history[0]
    result = run("rollback", "--to", first, "--yes")
    assert result.code == 0, result.err
    assert f"# a: {SETTINGS} (back to before apply {first}) will be deleted" in result.out
    assert not (tmp_path / SETTINGS).exists()
    assert run("plan", "--detailed-exitcode").code == 2  # worktrees.yaml still declares m/three
    assert run("apply", "--yes").code == 0 and _sonnet(tmp_path) == "m/three"


def test_rollback_to_an_unknown_id_changes_nothing(tmp_path, run, history, isolated_home):
    before = snapshot_tree(tmp_path)
    for bad in ("20200101T000000.000000Z", "../../etc/passwd", "latest"):
        result = run("rollback", "--to", bad, "--yes")
        assert (result.code, result.err) == (
            1,
            f"llmconf: {isolated_home}/.local/state/llmconf/backups: no backup named '{bad}' is kept "
            "('llmconf rollback --list' shows the kept ones)\n",
        )
    assert snapshot_tree(tmp_path) == before


def test_nothing_to_roll_back_points_at_the_list(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n", "a/.keep": ""})
    result = run("rollback", "--yes")
    assert (result.code, result.err) == (
        1,
        "llmconf: nothing to roll back: no apply recorded on this machine "
        "('llmconf rollback --list' shows the kept backups; 'llmconf rollback --to ID' restores one)\n",
    )
