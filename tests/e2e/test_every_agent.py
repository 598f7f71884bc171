"""Issue 16's "done when", end to end: one worktree declared with `agents: [opencode, gemini,
qwen, codex]` and a profile whose endpoints point at a fake gateway on 127.0.0.1. After
`llmconf apply`, `llmconf exec -- AGENT <one-shot> "hi"` makes each real CLI send its request
to the declared endpoint, with the declared main model and the profile's key; no file inside
the worktree holds the key; `status` shows every agent; `use OTHER --apply` switches them all.

Each agent runs with an empty HOME, its offline switches, under a timeout, its process group
killed after it (they retry an unreachable gateway until killed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SECRET, write_tree
from tests.e2e.conftest import agent_binary, run_agent
from tests.e2e.fakeapi import FakeApi, Request
from tests.helpers import make_repo

OTHER_KEY = "sk-every-agent-other-key"

#: agent: (npm package, its command, its one-shot arguments, the protocol it speaks to the gateway)
AGENTS = {
    "opencode": ("opencode-ai", "opencode", ["run", "hi"], "chat"),
    "gemini": ("@google/gemini-cli", "gemini", ["-p", "hi"], "gemini"),
    "qwen": ("@qwen-code/qwen-code", "qwen", ["-p", "hi"], "chat"),
    "codex": ("@openai/codex", "codex", ["exec", "hi"], "responses"),
}


def _profile(api: FakeApi, prefix: str, secret: str) -> str:
    """A gateway profile serving every protocol, under its own path prefix on the fake gateway."""
    url = f"{api.url}/{prefix}"
    return (
        f"base_url: {url}\n"
        f"endpoints: {{openai: {url}/v1, gemini: {url}}}\n"
        f"auth_token: \"{{{{ secret('{secret}') }}}}\"\n"
        f"models: {{sonnet: {prefix}-main, haiku: {prefix}-small}}\n"
    )


def _env(tmp_path: Path, name: str) -> dict[str, str]:
    """An empty HOME of the agent's own, offline; the agents' commands on PATH; llmconf's state
    and secrets as the test set them (exec finds the worktree's key files there)."""
    home = tmp_path / f"home-{name}"
    write_tree(
        home,
        {
            ".gemini/settings.json": json.dumps({"privacy": {"usageStatisticsEnabled": False}}),
            ".qwen/settings.json": json.dumps({"privacy": {"usageStatisticsEnabled": False}}),
            ".codex/config.toml": "[features]\nplugins = false\n\n[analytics]\nenabled = false\n",
        },
    )
    bins = os.pathsep.join(str(Path(agent_binary(package, command)).parent) for package, command, _, _ in AGENTS.values())
    keep = ("XDG_STATE_HOME", "LLMCONF_SECRETS_FILE", "LLMCONF_CLAUDE")
    return {
        **{k: os.environ[k] for k in keep if k in os.environ},
        "PATH": f"{bins}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CODEX_HOME": os.environ["CODEX_HOME"],  # where apply wrote Codex's profile file
        "GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(home / "none.json"),
        "QWEN_CODE_SYSTEM_SETTINGS_PATH": str(home / "none.json"),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "npm_config_offline": "true",
    }


def _exec(tmp_path: Path, cwd: Path, name: str) -> subprocess.CompletedProcess[str]:
    """`llmconf exec -- AGENT <one-shot> hi` in `cwd`, as a user types it."""
    _, command, args, _ = AGENTS[name]
    return run_agent([sys.executable, "-m", "llmconf", "exec", "--", command, *args], cwd, _env(tmp_path, name), timeout=150)


def _key(r: Request) -> str | None:
    return r.headers.get("x-goog-api-key") or (r.authorization or "").removeprefix("Bearer ") or None


def _main_requests(api: FakeApi, protocol: str) -> list[tuple[str, str | None, str | None]]:
    """(path without query, model, key) of the agent's requests in its protocol; an agent's
    small-model call (opencode titles the session) is left out."""
    return sorted({(r.bare_path, r.model, _key(r)) for r in api.spoken(protocol) if not (r.model or "").endswith("-small")})


def test_one_worktree_with_every_agent_reaches_the_declared_endpoint_model_and_key(api, run, tmp_path, monkeypatch):
    for package, command, _, _ in AGENTS.values():
        agent_binary(package, command)  # each pinned CLI is installed (skip, or fail under CI, if not)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    assert run("secret", "set", "other", stdin=OTHER_KEY + "\n").code == 0
    repo = make_repo(tmp_path, files={"README": "hi\n"})
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: {profile: gw, agents: [opencode, gemini, qwen, codex]}\n",
            "profiles/gw.yaml": _profile(api, "gw", "gw"),
            "profiles/other.yaml": _profile(api, "other", "other"),
        },
    )
    assert run("apply", "--yes").code == 0

    expected = {
        "opencode": [("/gw/v1/chat/completions", "gw-main", SECRET)],
        "gemini": [("/gw/v1beta/models/gw-main:streamGenerateContent", "gw-main", SECRET)],
        "qwen": [("/gw/v1/chat/completions", "gw-main", SECRET)],
        "codex": [("/gw/v1/responses", "gw-main", SECRET)],
    }
    for name in AGENTS:
        api.requests.clear()
        done = _exec(tmp_path, repo, name)
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        assert _main_requests(api, AGENTS[name][3]) == expected[name], name
        assert {_key(r) for r in api.requests if r.method == "POST"} <= {SECRET}, name  # nothing sent with another key

    # No file inside the worktree holds the key (as it is, or escaped as in a JSON string).
    forms = (SECRET, json.dumps(SECRET)[1:-1])
    holding = [str(p) for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts and any(f in p.read_text(errors="replace") for f in forms)]
    assert holding == []

    # status shows every agent of the worktree, each as declared.
    status = json.loads(run("status", "--json").out)
    rows = {(w["agent"], w["profile"], w["state"], w["effective"]) for w in status["worktrees"]}
    assert rows == {(name, "gw", "in-sync", "as declared") for name in AGENTS}

    # One `use ... --apply` switches every agent of the worktree.
    assert run("use", "other", "repo", "--apply", "--yes").code == 0
    for name in AGENTS:
        api.requests.clear()
        done = _exec(tmp_path, repo, name)
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        switched = [(path.replace("/gw/", "/other/").replace("gw-main", "other-main"), "other-main", OTHER_KEY) for path, _, _ in expected[name]]
        assert _main_requests(api, AGENTS[name][3]) == switched, name
    assert run("plan").out == "No changes.\n"
