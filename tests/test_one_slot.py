"""One slot, a reset and a forgotten worktree without a hand edit (issue 13, trap 8):
`use --model SLOT=ID`, `use --reset` and `forget`, each keeping worktrees.yaml's comments and
layout, and `use` on a folder that does not exist saying so."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_tree
from tests.helpers import snapshot_tree

CONFIG = """\
# Our worktrees.
worktrees:
  # the main checkout
  main: anthropic
  # the GLM experiment
  glm:
    profile: openrouter
    models: {opus: z-ai/glm-4.7}   # GLM for planning
    env: {API_TIMEOUT_MS: "600000"}

  # kept for the demo
  demo: anthropic
"""


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "sk-or-v1-test")
    write_tree(tmp_path, {"worktrees.yaml": CONFIG, "main/.keep": "", "glm/.keep": "", "demo/.keep": ""})
    return tmp_path


def _slots(run, name: str) -> dict[str, str]:
    rows = {r["worktree"]: r for r in json.loads(run("status", "--json").out)["worktrees"]}
    return {slot: rows[name][slot] for slot in ("haiku", "sonnet", "opus")}


def test_model_sets_one_slot_and_keeps_the_rest(cfg, run):
    result = run("use", "openrouter", "glm", "--model", "sonnet=qwen/qwen3-coder:exacto")
    assert result.code == 0, result.err
    assert result.out == (
        "glm: now uses profile 'openrouter'.\n"
        "glm: sonnet slot set to qwen/qwen3-coder:exacto.\n"
        "Run 'llmconf apply' to write the settings files.\n"
    )
    assert result.err == "llmconf: warning: glm keeps its own overrides in worktrees.yaml: env.API_TIMEOUT_MS, models.opus (--reset drops them)\n"
    assert (cfg / "worktrees.yaml").read_text() == CONFIG.replace(
        "    models: {opus: z-ai/glm-4.7}   # GLM for planning\n    env: {API_TIMEOUT_MS: \"600000\"}\n",
        "    models: {opus: z-ai/glm-4.7, sonnet: \"qwen/qwen3-coder:exacto\"}   # GLM for planning\n"
        "    env: {API_TIMEOUT_MS: \"600000\"}\n",
    )
    assert _slots(run, "glm")["sonnet"] == "qwen/qwen3-coder:exacto"
    assert _slots(run, "glm")["opus"] == "z-ai/glm-4.7"


def test_model_on_an_entry_that_is_a_bare_name(cfg, run):
    result = run("use", "openrouter", "main", "--model", "opus=z-ai/glm-4.7", "--model", "haiku=mistralai/devstral-2512")
    assert result.code == 0, result.err
    assert "  main:\n    profile: openrouter\n    models: {opus: z-ai/glm-4.7, haiku: mistralai/devstral-2512}\n" in (
        cfg / "worktrees.yaml"
    ).read_text()
    assert (cfg / "worktrees.yaml").read_text().startswith("# Our worktrees.\nworktrees:\n  # the main checkout\n")
    assert _slots(run, "main") == {"haiku": "mistralai/devstral-2512", "sonnet": "qwen/qwen3-coder:exacto", "opus": "z-ai/glm-4.7"}


def test_reset_drops_the_overrides_so_the_profile_decides_every_slot(cfg, run):
    result = run("use", "deepseek", "glm", "--reset")
    assert result.code == 0, result.err
    assert result.err == ""  # nothing kept, so no warning
    assert (cfg / "worktrees.yaml").read_text() == CONFIG.replace(
        "  glm:\n    profile: openrouter\n    models: {opus: z-ai/glm-4.7}   # GLM for planning\n"
        "    env: {API_TIMEOUT_MS: \"600000\"}\n",
        "  glm: deepseek\n",
    )
    assert set(_slots(run, "glm").values()) == {"deepseek/deepseek-v3.2"}


def test_reset_with_model_keeps_only_that_slot(cfg, run):
    assert run("use", "openrouter", "glm", "--reset", "--model", "sonnet=z-ai/glm-4.7").code == 0
    assert "  glm:\n    profile: openrouter\n    models: {sonnet: z-ai/glm-4.7}\n\n  # kept for the demo\n" in (
        cfg / "worktrees.yaml"
    ).read_text()


@pytest.mark.parametrize("bad", ["sonnet", "sonet=x/y", "sonnet=", "=x/y"])
def test_a_bad_model_option_changes_nothing(cfg, run, bad):
    before = snapshot_tree(cfg)
    result = run("use", "openrouter", "glm", "--model", bad)
    assert (result.code, result.err) == (
        1,
        f"llmconf: --model takes SLOT=ID, not '{bad}' (SLOT is one of haiku, sonnet, opus, fable: --model sonnet=z-ai/glm-4.7)\n",
    )
    assert snapshot_tree(cfg) == before


def test_forget_removes_an_entry_whose_folder_is_gone_and_apply_works_again(cfg, run):
    (cfg / "demo/.keep").unlink()
    (cfg / "demo").rmdir()
    assert run("apply", "--yes").code == 1  # the gone folder blocks every apply
    result = run("forget", "demo")
    assert (result.code, result.out, result.err) == (0, "demo: no longer declared in worktrees.yaml.\n", "")
    # The entry goes with the comment that introduces it; the blank line before that stays.
    assert (cfg / "worktrees.yaml").read_text() == CONFIG.replace("\n  # kept for the demo\n  demo: anthropic\n", "\n")
    assert run("apply", "--yes").code == 0


def test_forget_of_a_worktree_that_exists_says_what_its_file_keeps(cfg, run):
    result = run("forget", "glm")
    assert result.code == 0, result.err
    assert result.out == (
        "glm: no longer declared in worktrees.yaml. Its settings file keeps what llmconf wrote there "
        "('llmconf use anthropic WORKTREE --apply' first clears it).\n"
    )
    # The entry goes with the comment just above it, which introduces it.
    assert (cfg / "worktrees.yaml").read_text() == CONFIG.replace(
        "  # the GLM experiment\n  glm:\n    profile: openrouter\n    models: {opus: z-ai/glm-4.7}   # GLM for planning\n"
        "    env: {API_TIMEOUT_MS: \"600000\"}\n",
        "",
    )


def test_forget_in_a_flow_style_config(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "# fleet\nworktrees: {a: anthropic, b: anthropic}\n", "a/.keep": ""})
    assert run("forget", "b").code == 0
    assert (tmp_path / "worktrees.yaml").read_text() == "# fleet\nworktrees: {a: anthropic}\n"


def test_forget_of_an_undeclared_worktree_changes_nothing(cfg, run):
    before = snapshot_tree(cfg)
    result = run("forget", "gml")
    assert (result.code, result.err) == (
        1,
        "llmconf: 'gml' is not a worktree declared in worktrees.yaml (did you mean 'glm'?)\n",
    )
    assert snapshot_tree(cfg) == before


def test_use_on_a_folder_that_does_not_exist_says_so(cfg, run):
    before = snapshot_tree(cfg)
    result = run("use", "anthropic", "no-such-wt")
    assert (result.code, result.err) == (
        1,
        f"llmconf: no folder {cfg}/no-such-wt: it is not a worktree declared in worktrees.yaml either "
        "(create it first (git worktree add ...), or check the path; 'llmconf status' lists the declared ones)\n",
    )
    assert snapshot_tree(cfg) == before


def test_forget_refuses_a_worktree_that_a_repos_entry_brings(tmp_path, run):
    from tests.helpers import make_repo

    make_repo(tmp_path, linked=("feature",))
    write_tree(tmp_path, {"worktrees.yaml": "repos:\n  repo: anthropic\n"})
    before = snapshot_tree(tmp_path, skip=lambda rel: ".git" in rel.parts)
    result = run("forget", "feature")
    assert (result.code, result.err) == (
        1,
        "llmconf: worktrees.yaml: 'feature' is one of the worktrees of repos: repo; it is not declared on its own "
        "(remove the repos: entry repo, or 'git worktree remove' the worktree)\n",
    )
    assert snapshot_tree(tmp_path, skip=lambda rel: ".git" in rel.parts) == before
