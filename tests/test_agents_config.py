"""worktrees.yaml's `agents:` and profiles' `endpoints:` (issue 16's config side).

`agents:` lists the agents a worktree configures: its entry's list, else its `repos:` entry's,
else the top level's, else Claude Code alone, so a config written before the field means what
it meant. `endpoints:` gives one URL per protocol; its `anthropic` one is base_url. The planner
does not read `agents:` or the openai and gemini endpoints yet: these tests pin the config side.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmconf.config import cache
from llmconf.config.load import load_config
from llmconf.config.profiles import Profiles
from tests.conftest import write_tree
from tests.helpers import assert_unchanged, git, make_repo, snapshot_tree

PROFILE = "base_url: http://127.0.0.1:9\nauth_token: t\nmodels: {sonnet: s}\n"


def planned(name: str, url: str = "http://127.0.0.1:9") -> str:
    return (
        f"# {name}: {name}/.claude/settings.local.json (profile gw) will be created\n"
        f'  + env.ANTHROPIC_BASE_URL             = "{url}"\n'
        "  + env.ANTHROPIC_AUTH_TOKEN           = (sensitive)\n"
        '  + env.ANTHROPIC_API_KEY              = ""\n'
        '  + env.ANTHROPIC_DEFAULT_SONNET_MODEL = "s"\n'
        "\n"
    )


def agents_of(root: Path) -> dict[str, tuple[str, ...]]:
    config = load_config(root)
    return {d.name: d.agents for d in config.worktrees}


# --- agents: --------------------------------------------------------------------------


def test_a_config_without_agents_configures_claude_code_alone_and_plans_as_before(tmp_path: Path, run) -> None:
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: gw\n", "profiles/gw.yaml": PROFILE, "a/.keep": ""})
    assert agents_of(tmp_path) == {"a": ("claude-code",)}
    assert load_config(tmp_path).agents == ("claude-code",)
    result = run("plan")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith(planned("a"))


def test_an_entry_lists_its_own_agents_over_the_top_levels(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": (
                "agents: [opencode, codex]\n"
                "worktrees:\n"
                "  a: gw\n"
                "  b: {profile: gw, agents: [gemini, claude-code]}\n"
            ),
            "a/.keep": "",
            "b/.keep": "",
        },
    )
    assert agents_of(tmp_path) == {"a": ("opencode", "codex"), "b": ("gemini", "claude-code")}
    assert load_config(tmp_path).agents == ("opencode", "codex")


def test_a_repos_entry_gives_its_agents_to_every_worktree_git_lists(tmp_path: Path) -> None:
    make_repo(tmp_path, "r", linked=("r-one",))
    repo = tmp_path / "r"
    git(repo, "worktree", "add", "-q", "-b", "two", "../r-two")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": (
                "agents: [codex]\n"
                "repos:\n"
                "  r: {profile: gw, agents: [qwen]}\n"
                "worktrees:\n"
                "  r-two: gw\n"  # listed: keeps its own entry, and so the top level's agents
            )
        },
    )
    assert agents_of(tmp_path) == {"r-two": ("codex",), "r": ("qwen",), "r-one": ("qwen",)}


def test_agents_survive_the_config_cache(tmp_path: Path) -> None:
    make_repo(tmp_path, "r")
    write_tree(
        tmp_path,
        {"worktrees.yaml": "agents: [opencode]\nrepos:\n  r: {profile: gw, agents: [gemini]}\nworktrees:\n  a: {profile: gw, agents: [codex]}\n", "a/.keep": ""},
    )
    config = load_config(tmp_path)
    profiles = Profiles(config.profile_dirs)
    cache.save(config, profiles.resolved(), cache.digest(config.profile_dirs, (tmp_path / "worktrees.yaml").read_bytes()))
    hit = cache.load(tmp_path)
    assert hit is not None
    cached = hit[0]
    assert cached.agents == ("opencode",)
    assert [(d.name, d.agents) for d in cached.worktrees] == [("a", ("codex",)), ("r", ("gemini",))]
    assert [r.agents for r in cached.repos] == [("gemini",)]


def check_error(run, root: Path, files: dict[str, str], expected: str) -> None:
    write_tree(root, {"profiles/gw.yaml": PROFILE, "a/.keep": "", **files})
    before = snapshot_tree(root)
    for command in (["plan"], ["apply", "--yes"], ["validate"]):
        result = run(*command)
        assert result.code == 1, result
        assert result.err.splitlines()[0] == expected
        assert "Traceback" not in result.err
        assert_unchanged(before, root)


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        (
            "agents: [claude]\nworktrees:\n  a: gw\n",
            "llmconf: worktrees.yaml:1: unknown agent 'claude' in agents (did you mean 'claude-code'?)",
        ),
        (
            "worktrees:\n  a:\n    profile: gw\n    agents:\n      - opencode\n      - gemini-cli\n",
            "llmconf: worktrees.yaml:6: unknown agent 'gemini-cli' in worktrees.a.agents (did you mean 'gemini'?)",
        ),
        (
            "worktrees:\n  a:\n    profile: gw\n    agents: [cursor]\n",
            "llmconf: worktrees.yaml:4: unknown agent 'cursor' in worktrees.a.agents "
            "(agents: claude-code, opencode, gemini, qwen, codex)",
        ),
        (
            "agents: [codex, opencode, codex]\nworktrees:\n  a: gw\n",
            "llmconf: worktrees.yaml:1: agents: codex is listed more than once",
        ),
        (
            "worktrees:\n  a: {profile: gw, agents: []}\n",
            "llmconf: worktrees.yaml:2: worktrees.a.agents: list at least one agent (claude-code alone is the default: drop the field for it)",
        ),
        (
            "agents: opencode\nworktrees:\n  a: gw\n",
            "llmconf: worktrees.yaml:1: agents: input should be a valid list",
        ),
    ],
)
def test_a_wrong_agents_list_is_one_located_error(tmp_path: Path, run, yaml: str, expected: str) -> None:
    check_error(run, tmp_path, {"worktrees.yaml": yaml}, expected)


# --- endpoints: -----------------------------------------------------------------------


def test_the_anthropic_endpoint_is_base_url_and_the_others_leave_claude_code_alone(tmp_path: Path, run) -> None:
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: gw\n  b:\n    profile: gw\n    endpoints: {anthropic: 'http://127.0.0.1:8'}\n",
            "profiles/gw.yaml": (
                "endpoints:\n  anthropic: http://127.0.0.1:9\n  openai: http://127.0.0.1:9/v1\n  gemini: http://127.0.0.1:9/gemini\n"
                "auth_token: t\nmodels: {sonnet: s}\n"
            ),
            "a/.keep": "",
            "b/.keep": "",
        },
    )
    result = run("plan")
    assert (result.code, result.err) == (0, "")
    # The same plan as base_url gives; a worktree's endpoints.anthropic overrides the profile's.
    assert result.out.startswith(planned("a") + planned("b", "http://127.0.0.1:8"))
    resolved = Profiles(load_config(tmp_path).profile_dirs).resolve("gw", load_config(tmp_path).worktrees[0].profile)
    assert {fp: s.value for fp, s in resolved.items() if fp[0] in ("base_url", "endpoints")} == {
        ("base_url",): "http://127.0.0.1:9",
        ("endpoints", "openai"): "http://127.0.0.1:9/v1",
        ("endpoints", "gemini"): "http://127.0.0.1:9/gemini",
    }


def test_a_null_anthropic_endpoint_unsets_an_inherited_base_url(tmp_path: Path, run) -> None:
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: {profile: gw, endpoints: {anthropic: null}, auth_token: null}\n",
            "profiles/gw.yaml": PROFILE,
            "a/.keep": "",
        },
    )
    result = run("plan")
    assert (result.code, result.err) == (0, "")
    assert "ANTHROPIC_BASE_URL" not in result.out
    assert '+ env.ANTHROPIC_DEFAULT_SONNET_MODEL = "s"' in result.out


def test_an_error_in_the_anthropic_endpoint_names_its_own_line(tmp_path: Path, run) -> None:
    check_error(
        run,
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: gw\n",
            "profiles/gw.yaml": "auth_token: t\nmodels: {sonnet: s}\nendpoints:\n  openai: http://x/v1\n  anthropic: '{{ vars.nope }}'\n",
        },
        "llmconf: profiles/gw.yaml:5: template error in endpoints.anthropic: 'dict object' has no attribute 'nope' "
        "(templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))",
    )


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"worktrees.yaml": "worktrees:\n  a: gw\n", "profiles/gw.yaml": "base_url: http://x\nendpoints: {anthropic: http://y}\n"},
            "llmconf: profiles/gw.yaml:2: endpoints: base_url and endpoints.anthropic are the same endpoint: set one of them",
        ),
        (
            {"worktrees.yaml": "worktrees:\n  a: gw\n", "profiles/gw.yaml": "endpoints:\n  openai: http://x/v1\n  opnai: http://y\n"},
            "llmconf: profiles/gw.yaml:3: unknown endpoint protocol 'opnai' (did you mean 'openai'?)",
        ),
        (
            {"worktrees.yaml": "worktrees:\n  a:\n    profile: gw\n    base_url: http://x\n    endpoints: {anthropic: http://y}\n"},
            "llmconf: worktrees.yaml:5: worktrees.a.endpoints: base_url and endpoints.anthropic are the same endpoint: set one of them",
        ),
    ],
)
def test_a_wrong_endpoints_field_is_one_located_error(tmp_path: Path, run, files: dict[str, str], expected: str) -> None:
    check_error(run, tmp_path, files, expected)
