"""opencode end to end: after `llmconf apply`, `llmconf exec -- opencode run "hi"` in the
worktree makes the real opencode send its chat completions to the profile's openai endpoint
(a fake gateway on 127.0.0.1), with the declared main model and the profile's key, and no
file in the worktree holds that key. opencode retries an unreachable gateway until killed,
so it always runs under `timeout`, with its offline switches set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.e2e.conftest import agent_binary
from tests.helpers import make_repo

#: opencode's run takes 25-35 s on an idle 2-CPU machine and over 60 s while other tests run;
#: the timeout only stops one that retries a gateway forever.
TIMEOUT = "120"


@pytest.fixture(scope="session")
def opencode_bin() -> str:
    """The pinned opencode (tests/e2e/agent-versions)."""
    return agent_binary("opencode-ai", "opencode")


def _opencode_env(home: Path) -> dict[str, str]:
    """An empty HOME and XDG folders of opencode's own, offline; llmconf's state and secrets
    as the test set them (exec finds the worktree's key file there)."""
    keep = ("PATH", "XDG_STATE_HOME", "LLMCONF_SECRETS_FILE", "LLMCONF_CLAUDE")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "npm_config_offline": "true",  # else it asks registry.npmjs.org for its plugin package first
    }


def test_llmconf_exec_opencode_run_reaches_the_profiles_openai_endpoint_with_its_key(api, opencode_bin, run, tmp_path):
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    repo = make_repo(tmp_path, files={"README": "hi\n"})
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n",
            "profiles/gw.yaml": (
                f"base_url: {api.url}\n"
                f"endpoints: {{openai: {api.url}/v1}}\n"
                "auth_token: \"{{ secret('gw') }}\"\n"
                "models: {sonnet: gw/main-model, haiku: gw/small-model, opus: gw/big-model}\n"
            ),
        },
    )
    assert run("apply", "--yes").code == 0
    home = tmp_path / "opencode-home"
    home.mkdir()
    argv = ["timeout", TIMEOUT, sys.executable, "-m", "llmconf", "exec", "--", opencode_bin, "run", "hi"]
    done = subprocess.run(argv, cwd=repo, env=_opencode_env(home), capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok from the fake gateway" in done.stdout
    chats = api.chats
    assert {(r.path, r.authorization) for r in chats} == {("/v1/chat/completions", f"Bearer {SECRET}")}
    # The session's turn goes to the main model (sonnet's); its title, to the small one (haiku's).
    assert chats[-1].model == "gw/main-model" and {r.model for r in chats} <= {"gw/main-model", "gw/small-model"}
    assert [r for r in api.requests if r not in chats] == []  # nothing else reached the gateway
    # No file in the worktree holds the key, before or after opencode ran.
    forms = (SECRET, json.dumps(SECRET)[1:-1])  # as it is, or escaped as in a JSON file
    holding = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts and any(f in p.read_text(errors="replace") for f in forms)]
    assert holding == []
    # opencode adds a $schema line to the file; llmconf leaves it be and sees no change.
    assert json.loads((repo / "opencode.json").read_text())["$schema"] == "https://opencode.ai/config.json"
    assert run("plan").out == "No changes.\n"


def test_plain_opencode_without_exec_has_no_key(api, opencode_bin, run, tmp_path):
    """What exec adds: without it, opencode.json's {env:...} is empty and no key goes out."""
    assert run("secret", "set", "gw", stdin="sk-plain-test-key\n").code == 0
    repo = make_repo(tmp_path)
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n",
            "profiles/gw.yaml": f"endpoints: {{openai: {api.url}/v1}}\nauth_token: \"{{{{ secret('gw') }}}}\"\nmodels: {{sonnet: m}}\n",
        },
    )
    assert run("apply", "--yes").code == 0
    home = tmp_path / "opencode-home"
    home.mkdir()
    done = subprocess.run(
        ["timeout", TIMEOUT, opencode_bin, "run", "hi"], cwd=repo, env=_opencode_env(home), capture_output=True, text=True, timeout=150
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert api.chats and all(r.authorization is None for r in api.chats)  # an unset {env:} sends no Authorization


def test_llmconf_edits_the_commented_file_opencode_reads_last_and_opencode_uses_it(api, opencode_bin, run, tmp_path):
    """.opencode/opencode.jsonc beats opencode.json (measured): llmconf writes there, keeps its
    comments, and the real opencode parses the result and uses llmconf's provider."""
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    repo = make_repo(tmp_path, files={"README": "hi\n"})
    user = '// ours\n{\n  "provider": {"mine": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "http://127.0.0.1:9/v1",},},}, /* keep */\n}\n'
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode]}\n",
            "profiles/gw.yaml": f"endpoints: {{openai: {api.url}/v1}}\nauth_token: \"{{{{ secret('gw') }}}}\"\nmodels: {{sonnet: gw/jsonc-model}}\n",
            "repo/opencode.json": '{"model": "mine/beaten"}\n',
            "repo/.opencode/opencode.jsonc": user,
        },
    )
    assert run("apply", "--yes").code == 0
    text = (repo / ".opencode" / "opencode.jsonc").read_text()
    assert text.startswith("// ours\n{\n") and "/* keep */" in text
    home = tmp_path / "opencode-home"
    home.mkdir()
    argv = ["timeout", TIMEOUT, sys.executable, "-m", "llmconf", "exec", "--", opencode_bin, "run", "hi"]
    done = subprocess.run(argv, cwd=repo, env=_opencode_env(home), capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {(r.path, r.model, r.authorization) for r in api.chats} == {("/v1/chat/completions", "gw/jsonc-model", f"Bearer {SECRET}")}
    assert run("plan").out == "No changes.\n"


def test_main_checkout_sibling_and_nested_worktree_each_reach_their_own_profile(api, opencode_bin, run, tmp_path):
    """A linked worktree beside the main checkout and one nested inside it, each on another
    profile than the main checkout's: opencode reads no file above its worktree's root
    (measured), so each gets its own endpoint, model and key through exec."""
    from tests.helpers import git

    keys = {"main": SECRET, "sib": "sk-opencode-sibling", "nest": "sk-opencode-nested"}
    for name, key in keys.items():
        assert run("secret", "set", name, stdin=key + "\n").code == 0
    main = make_repo(tmp_path, "r", linked=("r-sib",))
    sibling, nested = tmp_path / "r-sib", main / ".worktrees" / "nest"
    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    profiles = {
        f"profiles/{name}.yaml": f"endpoints: {{openai: {api.url}/{name}/v1}}\nauth_token: \"{{{{ secret('{name}') }}}}\"\nmodels: {{sonnet: m-{name}}}\n"
        for name in keys
    }
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "agents: [opencode]\nworktrees:\n  r: main\n  r-sib: sib\n  r/.worktrees/nest: nest\n",
            **profiles,
        },
    )
    assert run("apply", "--yes").code == 0
    home = tmp_path / "opencode-home"
    home.mkdir()
    seen = {}
    for name, cwd in (("main", main), ("sib", sibling), ("nest", nested)):
        api.requests.clear()
        argv = ["timeout", TIMEOUT, sys.executable, "-m", "llmconf", "exec", "--", opencode_bin, "run", "hi"]
        done = subprocess.run(argv, cwd=cwd, env=_opencode_env(home), capture_output=True, text=True, timeout=150)
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        seen[name] = {(r.path, r.model, r.authorization) for r in api.chats}
    assert seen == {name: {(f"/{name}/v1/chat/completions", f"m-{name}", f"Bearer {key}")} for name, key in keys.items()}
    rows = {r["worktree"]: (r["agent"], r["sonnet"], r["state"], r["effective"]) for r in json.loads(run("status", "--json").out)["worktrees"]}
    assert rows == {name: ("opencode", f"m-{profile}", "in-sync", "as declared") for name, profile in (("r", "main"), ("r-sib", "sib"), ("nest", "nest"))}
