"""`llmconf import` of a worktree where opencode, Gemini CLI and Qwen Code were set up by hand
against a gateway (a fake one on 127.0.0.1), beside Claude Code's file on the same gateway and
key. After import and apply, `llmconf exec -- AGENT` makes each real CLI reach the URL and
model its own files named, with the same key: import adopted what the user had."""

from __future__ import annotations

import json

from tests.conftest import SECRET, write_tree
from tests.e2e.conftest import agent_binary
from tests.e2e.test_every_agent import AGENTS, _exec, _key, _main_requests

ADOPTED = ("opencode", "gemini", "qwen")


def _hand_written(url: str) -> dict[str, str]:
    """Each agent's files as a user writes them for the gateway at `url`, each with a model of its own."""
    opencode = {
        "provider": {
            "mygw": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": f"{url}/gw/v1", "apiKey": SECRET}, "models": {"oc-model": {}}}
        },
        "model": "mygw/oc-model",
        "small_model": "mygw/oc-model",
    }
    qwen = {
        "security": {"auth": {"selectedType": "openai"}},
        "modelProviders": {"openai": [{"id": "qwen-model", "name": "mygw", "baseUrl": f"{url}/gw/v1", "envKey": "MYGW_KEY"}]},
        "model": {"name": "qwen-model"},
    }
    gemini = {"security": {"auth": {"selectedType": "gemini-api-key"}}, "model": {"name": "gemini-model"}}
    claude = {
        "env": {
            "ANTHROPIC_BASE_URL": f"{url}/gw",
            "ANTHROPIC_AUTH_TOKEN": SECRET,
            "ANTHROPIC_API_KEY": "",
            "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-side-model",
        }
    }
    return {
        ".claude/settings.local.json": json.dumps(claude),
        "opencode.json": json.dumps(opencode),
        ".qwen/settings.json": json.dumps(qwen),
        ".qwen/.env": f"MYGW_KEY='{SECRET}'\n",  # quoted: unquoted, dotenv would end the key at its '#'
        ".gemini/settings.json": json.dumps(gemini),
        ".gemini/.env": f"GOOGLE_GEMINI_BASE_URL={url}/gw\nGEMINI_API_KEY='{SECRET}'\n",
    }


def test_agents_set_up_by_hand_reach_the_same_gateway_model_and_key_after_import(api, run, tmp_path, monkeypatch):
    for name in ADOPTED:
        package, command, _, _ = AGENTS[name]
        agent_binary(package, command)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    write_tree(tmp_path / "wt", _hand_written(api.url))
    write_tree(tmp_path, {"team/worktrees.yaml": "worktrees:\n"})
    imported = run("-C", "team", "import", "wt")
    assert imported.code == 0, imported.err
    assert SECRET not in imported.out + imported.err
    assert run("-C", "team", "apply", "--yes").code == 0

    expected = {
        "opencode": [("/gw/v1/chat/completions", "oc-model", SECRET)],
        "gemini": [("/gw/v1beta/models/gemini-model:streamGenerateContent", "gemini-model", SECRET)],
        "qwen": [("/gw/v1/chat/completions", "qwen-model", SECRET)],
    }
    for name in ADOPTED:
        api.requests.clear()
        done = _exec(tmp_path, tmp_path / "wt", name)
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        assert _main_requests(api, AGENTS[name][3]) == expected[name], name
        assert {_key(r) for r in api.requests if r.method == "POST"} <= {SECRET}, name
    assert run("-C", "team", "plan").out == "No changes.\n"

    # Qwen Code picks the first entry with that model and URL: the user's, as import said. Without
    # it (and its key), the same request goes through llmconf's entry with the key exec hands over.
    assert "Qwen Code keeps using your own entry" in imported.out
    wt = tmp_path / "wt"
    settings = json.loads((wt / ".qwen/settings.json").read_text())
    settings["modelProviders"]["openai"] = [e for e in settings["modelProviders"]["openai"] if e["name"] == "llmconf"]
    (wt / ".qwen/settings.json").write_text(json.dumps(settings))
    (wt / ".qwen/.env").unlink()
    api.requests.clear()
    done = _exec(tmp_path, wt, "qwen")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _main_requests(api, "chat") == expected["qwen"]
