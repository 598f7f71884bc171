"""A key never goes into a file git does not ignore (issue 13, trap 6): plan and apply refuse
with the fix, status and doctor agree, and allow_tracked_secret is the one way past."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_tree
from tests.helpers import git, ignore_settings, make_repo, snapshot_tree

KEYED = "base_url: http://127.0.0.1:9/api\nauth_token: \"{{ secret('gw') }}\"\nmodels: {sonnet: m/s}\n"
SETTINGS = ".claude/settings.local.json"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCONF_SECRET_GW", "sk-test-unignored")
    repo = make_repo(tmp_path, ignore=False)
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: gw\n", "profiles/gw.yaml": KEYED})
    return repo


REFUSAL = (
    "llmconf: repo/.claude/settings.local.json: git does not ignore this file, and it would hold a key: one 'git add .' "
    "and the key is committed; llmconf will not write it (add .claude/settings.local.json to repo/.gitignore "
    "(or to .git/info/exclude, for this clone only), or set allow_tracked_secret: true on 'repo' in worktrees.yaml)"
)


def test_plan_and_apply_refuse_a_key_in_a_file_git_does_not_ignore(repo, tmp_path, run):
    before = snapshot_tree(tmp_path)
    plan = run("plan")
    assert (plan.code, plan.err) == (1, REFUSAL + "\n")
    applied = run("apply", "--yes")
    assert (applied.code, applied.err.splitlines()[0]) == (1, REFUSAL)
    assert snapshot_tree(tmp_path) == before
    assert git(repo, "status", "--porcelain").stdout == ""  # nothing for a `git add .` to pick up
    rows = json.loads(run("status", "--json").out)["worktrees"]
    assert rows[0]["state"] == "error" and rows[0]["error"] == REFUSAL.removeprefix("llmconf: ")
    doctor = run("doctor", "--json")
    found = [f for w in json.loads(doctor.out)["worktrees"] for f in w["findings"] if f["severity"] == "error"]
    assert [f["message"] for f in found] == [
        "git does not ignore this file, and it would hold a key: one 'git add .' and the key is committed; "
        "llmconf will not write it"
    ]  # once: the plan's refusal, not a second finding of doctor's own


@pytest.mark.parametrize("how", ["info/exclude", ".gitignore"])
def test_once_git_ignores_it_the_key_is_written(repo, run, how):
    if how == ".gitignore":
        (repo / ".gitignore").write_text(f"{SETTINGS}\n")
    else:
        ignore_settings(repo)
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / SETTINGS).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == "sk-test-unignored"
    assert git(repo, "status", "--porcelain").stdout == ("?? .gitignore\n" if how == ".gitignore" else "")
    doctor = json.loads(run("doctor", "--json").out)
    assert [f for w in doctor["worktrees"] for f in w["findings"] if f["severity"] == "error"] == []


def test_allow_tracked_secret_lets_it_through_and_doctor_agrees(repo, tmp_path, run):
    (tmp_path / "worktrees.yaml").write_text("worktrees:\n  repo:\n    profile: gw\n    allow_tracked_secret: true\n")
    assert run("apply", "--yes").code == 0
    assert (repo / SETTINGS).exists()
    doctor = json.loads(run("doctor", "--json").out)
    assert [f for w in doctor["worktrees"] for f in w["findings"] if f["severity"] == "error"] == []


def test_a_file_without_a_key_needs_no_ignore_rule(repo, tmp_path, run):
    (tmp_path / "profiles/gw.yaml").write_text("models: {sonnet: m/s}\n")
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / SETTINGS).read_text()) == {"env": {"ANTHROPIC_DEFAULT_SONNET_MODEL": "m/s"}}


def test_a_folder_named_like_pathspec_magic_is_asked_about_literally(repo, tmp_path, run):
    (repo / ":!x").mkdir()
    ignore_settings(repo)
    (tmp_path / "worktrees.yaml").write_text('worktrees:\n  "repo/:!x": gw\n')
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    assert (repo / ":!x" / SETTINGS).exists()


def test_a_saved_plan_git_would_now_commit_says_why_it_is_refused(repo, tmp_path, run):
    """The ignore rule goes between `plan --out` and `apply FILE`: apply names the git refusal,
    not just "stale plan"."""
    (repo / ".gitignore").write_text(f"{SETTINGS}\n")
    assert run("plan", "--out", "reviewed.plan").code == 0
    (repo / ".gitignore").unlink()
    before = snapshot_tree(tmp_path)
    applied = run("apply", "reviewed.plan")
    assert applied.code == 1
    assert applied.err.splitlines() == [REFUSAL, "llmconf: nothing written: fix the errors above, or name the other worktrees"]
    assert snapshot_tree(tmp_path) == before
