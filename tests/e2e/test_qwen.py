"""Qwen Code end to end: after `llmconf apply`, `llmconf exec -- qwen -p "hi"` makes the real
Qwen Code send its chat completions to the profile's openai endpoint (a fake gateway on
127.0.0.1), with the profile's main model and key, in a main checkout, a sibling worktree and
a worktree nested inside the main checkout, each with its own profile. The nested one reads
the main checkout's .qwen/.env (measured), which here sets llmconf's variable: exec's key
wins over it. Every run has a timeout and an empty HOME with Qwen Code's offline switch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.e2e.conftest import agent_binary
from tests.helpers import git, make_repo

TIMEOUT = "90"


@pytest.fixture(scope="session")
def qwen_bin() -> str:
    """The pinned Qwen Code (tests/e2e/agent-versions)."""
    return agent_binary("@qwen-code/qwen-code", "qwen")


def _qwen_env(home: Path) -> dict[str, str]:
    """An empty HOME whose user settings turn usage statistics off (the one call Qwen Code makes
    elsewhere); llmconf's state and secrets as the test set them."""
    keep = ("PATH", "XDG_STATE_HOME", "LLMCONF_SECRETS_FILE", "LLMCONF_CLAUDE")
    write_tree(home, {".qwen/settings.json": json.dumps({"privacy": {"usageStatisticsEnabled": False}})})
    return {**{name: os.environ[name] for name in keep if name in os.environ}, "HOME": str(home)}


def _profile(url: str, secret: str, model: str) -> str:
    return f"endpoints: {{openai: {url}/v1}}\nauth_token: \"{{{{ secret('{secret}') }}}}\"\nmodels: {{sonnet: {model}, haiku: small}}\n"


def test_exec_qwen_reaches_each_worktrees_endpoint_with_its_model_and_key(api, qwen_bin, run, tmp_path):
    keys = {"main": SECRET, "sib": "sk-sibling-key", "nest": "sk-nested-key"}
    for name, key in keys.items():
        assert run("secret", "set", name, stdin=key + "\n").code == 0
    main = make_repo(tmp_path, "r", linked=("r-sib",), ignore=False)
    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    sibling, nested = tmp_path / "r-sib", main / ".worktrees" / "nest"
    mine = {"id": "m-main", "name": "Mine", "baseUrl": f"{api.url}/mine/v1", "envKey": "MINE_KEY"}
    user_file = json.dumps({"modelProviders": {"openai": [mine]}, "ui": {"hideTips": True}}, indent=2) + "\n"
    write_tree(
        tmp_path,
        {
            # The user's own provider, with the same model id as the profile's, comes first.
            "r/.qwen/settings.json": user_file,
            # A .env of the user's in the main checkout that sets llmconf's variable: the nested worktree reads it.
            "r/.qwen/.env": "LLMCONF_QWEN_API_KEY=sk-main-dotenv\nMINE_KEY=sk-mine\n",
            "worktrees.yaml": (
                "agents: [qwen]\nworktrees:\n  r: main\n  r-sib: sib\n  r/.worktrees/nest: nest\n"
            ),
            "profiles/main.yaml": _profile(f"{api.url}/main", "main", "m-main"),
            "profiles/sib.yaml": _profile(f"{api.url}/sib", "sib", "vendor/m-sib.1"),
            "profiles/nest.yaml": _profile(f"{api.url}/nest", "nest", "m-nest"),
        },
    )
    assert run("apply", "--yes").code == 0
    home = tmp_path / "qwen-home"

    def qwen(cwd: Path, *via: str) -> list[tuple[str, str | None, str | None]]:
        api.requests.clear()
        argv = ["timeout", TIMEOUT, *via, qwen_bin, "-p", "hi"]
        done = subprocess.run(argv, cwd=cwd, env=_qwen_env(home), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "ok from the fake gateway" in done.stdout
        return sorted({(r.path, r.model, r.authorization) for r in api.requests})

    exec_ = (sys.executable, "-m", "llmconf", "exec", "--")
    assert qwen(main, *exec_) == [("/main/v1/chat/completions", "m-main", f"Bearer {SECRET}")]
    assert qwen(sibling, *exec_) == [("/sib/v1/chat/completions", "vendor/m-sib.1", "Bearer sk-sibling-key")]
    assert qwen(nested, *exec_) == [("/nest/v1/chat/completions", "m-nest", "Bearer sk-nested-key")]
    # Without exec, the nested worktree's qwen takes the main checkout's .env key: status says so.
    assert qwen(nested) == [("/nest/v1/chat/completions", "m-nest", "Bearer sk-main-dotenv")]
    rows = {r["worktree"]: r for r in json.loads(run("status", "--json").out)["worktrees"]}
    assert {name: (r["agent"], r["backend"], r["sonnet"], r["state"]) for name, r in rows.items()} == {
        "r": ("qwen", f"{api.url}/main/v1", "m-main", "in-sync"),
        "r-sib": ("qwen", f"{api.url}/sib/v1", "vendor/m-sib.1", "in-sync"),
        "nest": ("qwen", f"{api.url}/nest/v1", "m-nest", "in-sync"),
    }
    assert rows["nest"]["effective"] == (
        f"differs: a plain qwen, without llmconf exec, takes LLMCONF_QWEN_API_KEY from {main / '.qwen' / '.env'}"
    )
    # Qwen Code added "$version" to each file it read; the user's entry is still first. No change to plan.
    doc = json.loads((main / ".qwen" / "settings.json").read_text())
    assert doc["$version"] == 4 and doc["modelProviders"]["openai"][0] == mine and doc["ui"] == {"hideTips": True}
    assert run("plan").out == "No changes.\n"
    forms = (SECRET, json.dumps(SECRET)[1:-1])  # as it is, or escaped as in a JSON file
    files = [p for root in (main, sibling) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert [p for p in files if any(f in p.read_text(errors="replace") for f in forms)] == []  # no key in any worktree
    # use --apply switches the sibling; dropping qwen (Claude Code alone, the default) gives the
    # main checkout's file back as the user wrote it, plus what Qwen Code added.
    assert run("use", "nest", "r-sib", "--apply", "--yes").code == 0
    assert qwen(sibling, *exec_) == [("/nest/v1/chat/completions", "m-nest", "Bearer sk-nested-key")]
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  r: direct\n", "profiles/direct.yaml": "description: Anthropic direct\n"})
    assert run("apply", "--yes").code == 0
    assert json.loads((main / ".qwen" / "settings.json").read_text()) == {**json.loads(user_file), "$version": 4}
