"""Gemini CLI end to end: after `llmconf apply`, `llmconf exec -- gemini -p "hi"` in a worktree
makes the real Gemini CLI send its request to the profile's gemini endpoint (a fake gateway on
127.0.0.1), with the declared model and the profile's key, and no file in the worktree holds
that key. The main checkout, a sibling linked worktree and one nested in the main checkout each
have a profile of their own; the nested one must not take the main checkout's .gemini/.env
(Gemini CLI loads the nearest dotenv up the folders). Every run has an empty HOME with usage
statistics off, so nothing leaves the machine."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.e2e.conftest import agent_binary, run_agent
from tests.e2e.fakeapi import REPLY, FakeApi
from tests.helpers import git, make_repo

#: One run takes 5-10 s on an idle 2-CPU machine; the timeout only stops one that retries a gateway.
TIMEOUT = 120
KEYS = {"main": SECRET, "sib": "sk-gemini-sibling", "nest": "sk-gemini-nested"}


@pytest.fixture(scope="session")
def gemini_bin() -> str:
    """The pinned Gemini CLI (tests/e2e/agent-versions)."""
    return agent_binary("@google/gemini-cli", "gemini")


def _env(home: Path) -> dict[str, str]:
    """An empty HOME for Gemini CLI, usage statistics off; llmconf's state and secrets as the
    test set them (exec finds the worktree's key file there)."""
    write_tree(home, {".gemini/settings.json": json.dumps({"privacy": {"usageStatisticsEnabled": False}})})
    keep = ("PATH", "XDG_STATE_HOME", "LLMCONF_SECRETS_FILE", "LLMCONF_CLAUDE")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(home / "no-system-settings.json"),  # not this machine's
    }


def _sent(api: FakeApi) -> list[tuple[str, str | None, str | None, str | None]]:
    """(path, model, x-goog-api-key, Authorization) of every request that reached the gateway."""
    return [(r.path, r.model, r.headers.get("x-goog-api-key"), r.authorization) for r in api.requests]


def _holding(root: Path, texts: list[str]) -> list[str]:
    """The files of a worktree that hold one of `texts` (as it is, or escaped as in JSON), but
    for Claude Code's git-ignored .claude/settings.local.json, which holds its key by design."""
    forms = [f for t in texts for f in (t, json.dumps(t)[1:-1])]
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not {".git", ".claude"} & set(p.parts) and any(f in p.read_text(errors="replace") for f in forms)
    )


def test_llmconf_exec_gemini_reaches_each_worktrees_own_endpoint_model_and_key(api, gemini_bin, run, tmp_path):
    for name, key in KEYS.items():
        assert run("secret", "set", f"gw-{name}", stdin=key + "\n").code == 0
    main = make_repo(tmp_path, "r", linked=("r-sib",), files={"README": "hi\n"})
    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    sibling, nested = tmp_path / "r-sib", main / ".worktrees" / "nest"
    profiles = {
        f"profiles/{name}.yaml": (
            f"base_url: {api.url}\n"  # Claude Code's, for the main checkout that lists it too
            f"endpoints: {{gemini: {api.url}/{name}}}\n"
            f"auth_token: \"{{{{ secret('gw-{name}') }}}}\"\n"
            f"models: {{sonnet: m-{name}, haiku: m-{name}-small}}\n"
        )
        for name in KEYS
    }
    write_tree(
        tmp_path,
        {
            **profiles,
            "worktrees.yaml": (
                "agents: [gemini]\n"
                "worktrees:\n"
                "  r: {profile: main, agents: [claude-code, gemini]}\n"
                "  r-sib: sib\n"
                "  r/.worktrees/nest: nest\n"
            ),
        },
    )
    # The user's own dotenv in the main checkout: the nested worktree, below it, would load it.
    write_tree(main, {".gemini/.env": f"GOOGLE_GEMINI_BASE_URL={api.url}/dotenv\nGEMINI_API_KEY=sk-from-dotenv\n"})
    assert run("apply", "--yes").code == 0
    env = _env(tmp_path / "gemini-home")

    def gemini(cwd: Path, *through: str) -> list[tuple[str, str | None, str | None, str | None]]:
        api.requests.clear()
        done = run_agent([*through, gemini_bin, "-p", "hi"], cwd, env, TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        assert REPLY in done.stdout
        return _sent(api)

    exec_ = (sys.executable, "-m", "llmconf", "exec", "--")
    one = "/v1beta/models/{m}:streamGenerateContent?alt=sse"
    assert gemini(main, *exec_) == [(f"/main{one.format(m='m-main')}", "m-main", SECRET, None)]
    assert gemini(sibling, *exec_) == [(f"/sib{one.format(m='m-sib')}", "m-sib", KEYS["sib"], None)]
    assert gemini(nested, *exec_) == [(f"/nest{one.format(m='m-nest')}", "m-nest", KEYS["nest"], None)]
    # A plain gemini, without exec: the worktree is not trusted, so it reads no project file and stops.
    api.requests.clear()
    plain = run_agent([gemini_bin, "-p", "hi"], nested, env, TIMEOUT)
    assert plain.returncode == 41 and "Please set an Auth method" in plain.stderr
    assert api.requests == []
    # use --apply switches the sibling; the next run goes where the new profile says.
    assert run("use", "nest", "r-sib", "--apply", "--yes").code == 0
    assert gemini(sibling, *exec_) == [(f"/nest{one.format(m='m-nest')}", "m-nest", KEYS["nest"], None)]
    # No Gemini key in any worktree; Gemini CLI rewrote nothing llmconf owns.
    for worktree in (main, sibling, nested):
        assert _holding(worktree, list(KEYS.values())) == []
    assert run("plan").out == "No changes.\n"


def test_what_status_says_beats_the_declared_model_does_and_a_subfolder_reads_no_project_file(api, gemini_bin, run, tmp_path):
    """The facts status and the README stand on, on the real Gemini CLI: GEMINI_MODEL, in the
    shell or in the nearest dotenv file, beats model.name (status says `differs`); started in a
    subfolder, it reads no .gemini/settings.json and stops before any request."""
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    repo = make_repo(tmp_path, "r")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  r: {profile: gw, agents: [gemini]}\n",
            "profiles/gw.yaml": f"endpoints: {{gemini: {api.url}}}\nauth_token: \"{{{{ secret('gw') }}}}\"\nmodels: {{sonnet: m-declared}}\n",
        },
    )
    assert run("apply", "--yes").code == 0
    env = _env(tmp_path / "gemini-home")
    exec_ = [sys.executable, "-m", "llmconf", "exec", "--", gemini_bin, "-p", "hi"]

    def models(cwd: Path, **extra: str) -> list[str | None]:
        api.requests.clear()
        done = run_agent(exec_, cwd, {**env, **extra}, TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        return [r.model for r in api.requests]

    def effective(**extra: str) -> str:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH", env["GEMINI_CLI_SYSTEM_SETTINGS_PATH"])
            mp.delenv("GEMINI_MODEL", raising=False)
            for name, value in extra.items():
                mp.setenv(name, value)
            return json.loads(run("status", "--json").out)["worktrees"][0]["effective"]

    assert (effective(), models(repo)) == ("as declared", ["m-declared"])
    assert (effective(GEMINI_MODEL="m-shell"), models(repo, GEMINI_MODEL="m-shell")) == ("differs: GEMINI_MODEL is set", ["m-shell"])
    write_tree(tmp_path, {".env": "GEMINI_MODEL=m-dotenv\n"})  # above the worktree: the nearest one
    assert (effective(), models(repo)) == (f"differs: {tmp_path / '.env'} sets GEMINI_MODEL", ["m-dotenv"])
    (tmp_path / ".env").unlink()
    (repo / "sub").mkdir()
    api.requests.clear()
    done = run_agent(exec_, repo / "sub", env, TIMEOUT)
    assert (done.returncode, api.requests) == (41, [])
    assert "Invalid auth method selected." in done.stderr
