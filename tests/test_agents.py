"""Agents per worktree (`agents:`) and endpoints per protocol (`endpoints:`): the config."""

from __future__ import annotations

import pytest

from llmconf.config.load import DEFAULT_AGENTS, load_config
from tests.conftest import write_tree
from tests.helpers import assert_unchanged, snapshot_tree

GATEWAY = """\
base_url: http://127.0.0.1:9/api
endpoints: {openai: http://127.0.0.1:9/v1}
auth_token: "{{ env('GW_TOKEN', 'gw-token') }}"
models: {haiku: h-1, sonnet: s-1, opus: o-1}
"""


def _config(tmp_path, worktrees_yaml: str, profile: str = GATEWAY):
    write_tree(tmp_path, {"worktrees.yaml": worktrees_yaml, "profiles/gw.yaml": profile, "a/.keep": "", "b/.keep": "", "c/.keep": ""})
    return tmp_path


def test_agents_default_to_claude_code_and_inherit_from_the_top_level(tmp_path):
    _config(tmp_path, "worktrees:\n  a: gw\n")
    assert load_config(tmp_path).worktrees[0].agents == DEFAULT_AGENTS == ("claude-code",)
    _config(tmp_path, "agents: [opencode, claude-code]\nworktrees:\n  a: gw\n  b: {profile: gw, agents: [opencode, opencode]}\n")
    by_key = {d.key: d.agents for d in load_config(tmp_path).worktrees}
    assert by_key == {"a": ("opencode", "claude-code"), "b": ("opencode",)}


def test_a_repos_entry_gives_its_agents_to_every_worktree_it_finds(tmp_path):
    from tests.helpers import make_repo

    _config(tmp_path, "repos:\n  r: {profile: gw, agents: [opencode]}\n")
    make_repo(tmp_path, "r")
    decls = load_config(tmp_path).worktrees
    assert [d.agents for d in decls] == [("opencode",)]


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        (
            "worktrees:\n  a: gw\n  b: {profile: gw, agents: [opencode, codx]}\n",
            "llmconf: worktrees.yaml:3: worktrees.b.agents.1: unknown agent 'codx' (did you mean 'codex'?)\n",
        ),
        (
            "agents: [claude]\nworktrees:\n  a: gw\n",
            "llmconf: worktrees.yaml:1: agents.0: unknown agent 'claude' (did you mean 'claude-code'?)\n",
        ),
        (
            "worktrees:\n  a:\n    profile: gw\n    agents:\n      - opencode\n      - cursor\n",
            "llmconf: worktrees.yaml:6: worktrees.a.agents.1: unknown agent 'cursor' (agents: claude-code, opencode, gemini, qwen, codex)\n",
        ),
        ("agents: []\nworktrees:\n  a: gw\n", "llmconf: worktrees.yaml:1: agents: list at least one agent, or leave agents out (then: claude-code)\n"),
        (
            "worktrees:\n  a:\n    profile: gw\n    endpoints: {opnai: http://x}\n",
            "llmconf: worktrees.yaml:4: worktrees.a.endpoints.opnai: input should be 'anthropic', 'openai' or 'gemini'\n",
        ),
    ],
)
def test_bad_agents_or_endpoints_are_one_line_at_their_line(tmp_path, run, yaml, message):
    _config(tmp_path, yaml)
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert (result.code, result.out, result.err) == (1, "", message)
    assert_unchanged(before, tmp_path)


def test_a_profile_with_endpoints_plans_claude_code_as_before(tmp_path, run):
    """endpoints: is no Claude Code key: a Claude-only worktree's plan is the same with it."""
    _config(tmp_path, "worktrees:\n  a: gw\n", GATEWAY.replace("endpoints: {openai: http://127.0.0.1:9/v1}\n", ""))
    without = run("plan", "--json").out
    _config(tmp_path, "worktrees:\n  a: gw\n")
    assert run("plan", "--json").out == without


def test_the_config_cache_keeps_each_worktrees_agents(tmp_path, run):
    from llmconf.config import cache

    _config(tmp_path, "agents: [opencode]\nworktrees:\n  a: gw\n  b: {profile: gw, agents: [claude-code]}\nrepos:\n  r: {profile: gw, agents: [claude-code, opencode]}\n")
    from tests.helpers import make_repo

    make_repo(tmp_path, "r")
    fresh = {d.key: d.agents for d in load_config(tmp_path).worktrees}
    run("plan")  # saves the cache (its outcome is not the point here)
    loaded = cache.load(tmp_path)
    assert loaded is not None
    assert {d.key: d.agents for d in loaded[0].worktrees} == fresh == {
        "a": ("opencode",), "b": ("claude-code",), "r": ("claude-code", "opencode")
    }


def test_endpoints_anthropic_is_claude_codes_base_url_unless_base_url_is_set(tmp_path, run):
    import json

    profile = "endpoints: {anthropic: http://127.0.0.1:7/api, openai: http://127.0.0.1:7/v1}\nmodels: {sonnet: s-1}\n"
    _config(tmp_path, "worktrees:\n  a: gw\n", profile)
    keys = {c["key"]: c["after"] for c in json.loads(run("plan", "--json").out)["worktrees"][0]["changes"]}
    assert keys["env.ANTHROPIC_BASE_URL"] == "http://127.0.0.1:7/api"
    _config(tmp_path, "worktrees:\n  a: gw\n", "base_url: http://127.0.0.1:6/api\n" + profile)
    keys = {c["key"]: c["after"] for c in json.loads(run("plan", "--json").out)["worktrees"][0]["changes"]}
    assert keys["env.ANTHROPIC_BASE_URL"] == "http://127.0.0.1:6/api"


@pytest.mark.parametrize(
    ("agent", "rel", "text", "parent"),
    [
        ("opencode", "opencode.json", '{"provider": 5}\n', "provider"),
        ("opencode", "opencode.json", '{"provider": {"llmconf": "x"}}\n', "provider.llmconf"),
        ("gemini", ".gemini/settings.json", '{"model": "gemini-2.5-pro"}\n', "model"),  # Gemini CLI's older flat shape
        ("qwen", ".qwen/settings.json", '{"security": 5}\n', "security"),
        ("qwen", ".qwen/settings.json", '{"modelProviders": 5}\n', "modelProviders"),
    ],
)
def test_a_value_where_llmconf_needs_an_object_is_a_located_refusal_not_a_crash(tmp_path, run, agent, rel, text, parent):
    from tests.helpers import make_repo

    assert run("secret", "set", "gw", stdin="sk-agents-test\n").code == 0
    repo = make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": f"worktrees:\n  repo: {{profile: gw, agents: [{agent}]}}\n",
            "profiles/gw.yaml": "endpoints: {openai: http://127.0.0.1:9/v1, gemini: http://127.0.0.1:9/g}\n"
            "auth_token: \"{{ secret('gw') }}\"\nmodels: {sonnet: s-1, haiku: h-1}\n",
        },
    )
    write_tree(repo, {rel: text})
    before = snapshot_tree(tmp_path)
    for argv in (("plan",), ("apply", "--yes"), ("status",), ("doctor",)):
        result = run(*argv)
        assert result.code == 1, (argv, result.err)
        assert "Traceback" not in result.err and "internal error" not in result.err
        assert f"'{parent}' is not an object" in result.out + result.err
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(("agent", "rel"), [("opencode", "opencode.json"), ("gemini", ".gemini/settings.json"), ("qwen", ".qwen/settings.json")])
def test_a_value_from_env_never_goes_into_a_project_file_git_tracks(tmp_path, run, store_secret, monkeypatch, agent, rel):
    """A model from env() is a secret: refused in a tracked project file, named, not shown."""
    from tests.helpers import make_repo

    store_secret("gw", "sk-agents-test")
    monkeypatch.setenv("GW_MODEL", "private/model")
    make_repo(tmp_path, files={rel: "{}\n"})
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": f"worktrees:\n  repo: {{profile: gw, agents: [{agent}]}}\n",
            "profiles/gw.yaml": "endpoints: {openai: http://127.0.0.1:9/v1, gemini: http://127.0.0.1:9/g}\n"
            "auth_token: \"{{ secret('gw') }}\"\nmodels: {sonnet: \"{{ env('GW_MODEL') }}\"}\n",
        },
    )
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"llmconf: repo/{rel}: git tracks this file; llmconf will not write a secret into it "
        f"(git-ignore {rel} and 'git rm --cached' it, or set allow_tracked_secret: true on 'repo' in worktrees.yaml)"
    )
    assert "private/model" not in result.out + result.err
    assert_unchanged(before, tmp_path)



@pytest.mark.parametrize(
    ("agent", "protocol", "speaks", "url"),
    [
        ("opencode", "openai", "opencode speaks OpenAI chat completions", "its OpenAI-compatible .../v1 URL"),
        ("gemini", "gemini", "Gemini CLI speaks the Gemini API", "the URL that /v1beta/models/... follows"),
        ("qwen", "openai", "Qwen Code speaks OpenAI chat completions", "its OpenAI-compatible .../v1 URL"),
        ("codex", "openai", "Codex speaks the OpenAI Responses API", "a .../v1 URL that serves POST /responses"),
    ],
)
def test_a_profile_without_the_agents_protocol_cannot_serve_it(tmp_path, run, agent, protocol, speaks, url):
    """A plan error at the worktree's line naming the profile, the agent and the endpoint to
    add; the worktree that can be served is not written either."""
    _config(tmp_path, f"worktrees:\n  a: gw\n  b:\n    profile: direct\n    agents: [{agent}]\n")
    write_tree(tmp_path, {"profiles/direct.yaml": "description: no gateway\n"})
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"llmconf: worktrees.yaml:3: profile 'direct' cannot serve {agent}: it gives no {protocol} endpoint ({speaks}) "
        f"(add endpoints: {{{protocol}: URL}} to the profile ({url}), or leave {agent} out of agents:)",
        "llmconf: nothing written: fix the errors above, or name the other worktrees",
    ]
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(("agent", "rel"), [("opencode", "opencode.jsonc"), ("gemini", ".gemini/settings.json"), ("qwen", ".qwen/settings.json")])
def test_a_project_file_that_is_not_jsonc_is_refused_at_its_line_and_kept(tmp_path, run, agent, rel):
    """The agents read their files with comments allowed, and JSON.parse's rules otherwise (no
    NaN): llmconf says the file, line and column, as for Claude Code's, and never rewrites it."""
    from tests.helpers import make_repo

    repo = make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": f"worktrees:\n  repo: {{profile: gw, agents: [{agent}]}}\n",
            "profiles/gw.yaml": "endpoints: {openai: http://127.0.0.1:9/v1, gemini: http://127.0.0.1:9/g}\nmodels: {sonnet: s-1, haiku: h-1}\n",
        },
    )
    write_tree(repo, {rel: '{\n  // the team\'s own\n  "model": NaN\n}\n'})
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"llmconf: repo/{rel}:3: invalid JSON: NaN is not JSON (column 12) "
        "(fix it by hand; llmconf never overwrites a file it cannot parse)"
    )
    assert_unchanged(before, tmp_path)
