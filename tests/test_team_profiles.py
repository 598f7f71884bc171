"""Team profiles in git: profile_paths folders searched after the local profiles/, before the
shipped ones; `extends` across them; status says where each profile came from."""

from __future__ import annotations

import json

from llmconf.config.load import shipped_profiles_dir
from tests.conftest import write_tree

WORKTREES = """\
profile_paths: [../team-profiles]   # the team's shared profiles repo, checked out beside
worktrees:
  a: team-or
  b: fast
"""


def test_shared_profiles_resolve_across_folders_and_status_names_their_origin(tmp_path, run):
    cfg = tmp_path / "cfg"
    write_tree(
        tmp_path,
        {
            # shared: one profile extending a shipped one, and one the local folder shadows
            "team-profiles/team-or.yaml": "extends: openrouter-base\nauth_token: team-token\nmodels: {sonnet: z-ai/glm-4.7}\n",
            "team-profiles/fast.yaml": "base_url: http://shared.invalid\nauth_token: t\n",
            "cfg/worktrees.yaml": WORKTREES,
            "cfg/profiles/fast.yaml": "extends: team-or\nmodels: {sonnet: deepseek/deepseek-v3.2}\n",
            "cfg/a/.keep": "",
            "cfg/b/.keep": "",
        },
    )
    assert run("apply", "--yes", cwd=cfg).code == 0
    env_a = json.loads((cfg / "a/.claude/settings.local.json").read_text())["env"]
    env_b = json.loads((cfg / "b/.claude/settings.local.json").read_text())["env"]
    assert env_a["ANTHROPIC_BASE_URL"] == "https://openrouter.ai/api"  # from the shipped parent
    assert env_a["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "z-ai/glm-4.7"  # from the shared child
    # The local 'fast' wins by name over the shared one, and extends a shared profile.
    assert env_b["ANTHROPIC_BASE_URL"] == "https://openrouter.ai/api"
    assert env_b["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "deepseek/deepseek-v3.2"

    status = run("status", cwd=cfg)
    assert status.code == 0
    table = status.out[status.out.index("\nPROFILE ") + 1 :].splitlines()
    assert [line.split() for line in table] == [
        ["PROFILE", "SOURCE", "FILE", "EXTENDS"],
        ["fast", "local", "profiles/fast.yaml", "team-or"],
        ["openrouter-base", "shipped", "openrouter-base.yaml", "-"],
        ["team-or", "shared", "../team-profiles/team-or.yaml", "openrouter-base"],  # the path from where status runs
    ]
    profiles = json.loads(run("status", "--json", cwd=cfg).out)["profiles"]
    assert profiles["team-or"] == {
        "source": "shared", "file": str(tmp_path / "team-profiles/team-or.yaml"), "extends": "openrouter-base"
    }
    assert profiles["fast"]["file"] == str(cfg / "profiles/fast.yaml")
    assert "team-token" not in status.out


def test_status_of_an_unknown_profile_reports_it_once_at_its_line(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: nope\n", "a/.keep": ""})
    result = run("status")
    assert result.code == 1
    shipped = ", ".join(sorted(p.stem for p in shipped_profiles_dir().glob("*.yaml")))
    assert result.err == f"llmconf: worktrees.yaml:2: unknown profile 'nope' (profiles: {shipped})\n"
    assert result.out == (  # and no table of profiles under it
        "WORKTREE  PROFILE  BACKEND  HAIKU  SONNET  OPUS  DEFAULT  EST. COST  STATE  EFFECTIVE\n"
        "a         nope     ?        ?      ?       ?     ?        -          error  -\n"
    )
