"""What llmconf apply writes makes the real Claude Code CLI do what the profile says.

Each test writes a profile whose gateway is a fake Messages API on 127.0.0.1, applies it,
runs `claude -p` in the worktree and asserts on the requests that reached the server.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import write_tree

KEY = "sk-e2e-secret-value"
MODELS = {"haiku": "test/haiku-model", "sonnet": "test/sonnet-model", "opus": "test/opus-model", "fable": "test/fable-model"}


@pytest.fixture
def setup(tmp_path, run, api, claude_bin, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)  # llmconf plans for the Claude Code under test
    assert run("secret", "set", "gw", stdin=KEY + "\n").code == 0
    profile = (
        f"base_url: {api.url}\n"
        "auth_token: \"{{ secret('gw') }}\"\n"
        f"models: {json.dumps(MODELS)}\n"
    )
    write_tree(
        tmp_path,
        {
            "cfg/profiles/gw.yaml": profile,
            "cfg/worktrees.yaml": "worktrees:\n  ../a: gw\n  ../b:\n    profile: gw\n    models: {sonnet: test/override-model}\n",
            "a/.keep": "",
            "b/.keep": "",
        },
    )

    def llmconf(*argv):
        result = run("-C", str(tmp_path / "cfg"), *argv)
        assert result.code == 0, result.err
        return result

    llmconf("apply", "--yes")
    return tmp_path, llmconf


def last_model(api):
    assert api.messages, f"no request reached the fake gateway: {api.requests}"
    return api.messages[-1].model


@pytest.mark.parametrize("slot", ["haiku", "sonnet", "opus", "fable"])
def test_each_slot_sends_the_profiles_model(setup, api, claude, slot):
    root, _ = setup
    result = claude(root / "a", "--model", slot)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok from the fake gateway"
    assert last_model(api) == MODELS[slot]


def test_without_model_the_request_carries_the_default_status_shows(setup, api, claude, claude_version):
    root, llmconf = setup
    row = json.loads(llmconf("status", "a", "--json").out)["worktrees"][0]
    assert row["default_slot"] == "opus"  # Claude Code's own choice when nothing picks one
    assert claude(root / "a").returncode == 0
    assert row["default"] == f"{last_model(api)} (opus)"
    # The profile's `default` changes it, and status follows. It is written where this version
    # reads it: from 2.1.236 on ANTHROPIC_DEFAULT_MODEL (a /model pick, saved as `model`, still
    # wins over it), which passes over the alias haiku; before, and for haiku, the `model` setting.
    env_default = tuple(map(int, claude_version.split("."))) >= (2, 1, 236)
    profile = root / "cfg/profiles/gw.yaml"
    written = profile.read_text()
    for slot, in_env in (("sonnet", env_default), ("haiku", False)):
        profile.write_text(written + f"default: {slot}\n")
        llmconf("apply", "--yes")
        doc = json.loads((root / "a/.claude/settings.local.json").read_text())
        where = (doc["env"].get("ANTHROPIC_DEFAULT_MODEL"), doc.get("model"))
        assert where == ((slot, None) if in_env else (None, slot))
        row = json.loads(llmconf("status", "a", "--json").out)["worktrees"][0]
        assert (row["default_slot"], row["default"], row["effective"]) == (slot, f"{MODELS[slot]} ({slot})", "as declared")
        assert claude(root / "a").returncode == 0
        assert last_model(api) == MODELS[slot]


def test_the_key_arrives_as_a_bearer_token_only(setup, api, claude):
    root, _ = setup
    assert claude(root / "a", "--model", "sonnet").returncode == 0
    request = api.messages[-1]
    assert request.authorization == f"Bearer {KEY}"
    assert request.x_api_key is None


def test_back_to_anthropic_direct_reaches_the_gateway_no_more(setup, api, claude):
    root, llmconf = setup
    llmconf("use", "anthropic", "a", "--apply", "--yes")  # WORKTREE paths are relative to the cwd
    assert not (root / "a/.claude/settings.local.json").exists()
    seen = len(api.requests)
    result = claude(root / "a", "--model", "sonnet")
    assert result.returncode != 0  # no login on this machine: Claude Code says so and stops
    assert len(api.requests) == seen


def test_key_via_helper_sends_the_key_though_the_file_holds_none(setup, api, claude):
    root, llmconf = setup
    profile = root / "cfg/profiles/gw.yaml"
    profile.write_text(profile.read_text() + "key_via: helper\n")
    llmconf("apply", "--yes")
    assert KEY not in (root / "a/.claude/settings.local.json").read_text()
    assert claude(root / "a", "--model", "opus").returncode == 0
    request = api.messages[-1]
    # Claude Code sends a helper's output both ways.
    assert (request.authorization, request.x_api_key) == (f"Bearer {KEY}", KEY)
    assert request.model == MODELS["opus"]


def test_a_worktree_override_reaches_the_wire_for_that_worktree_only(setup, api, claude):
    root, _ = setup
    assert claude(root / "b", "--model", "sonnet").returncode == 0
    assert last_model(api) == "test/override-model"
    assert claude(root / "a", "--model", "sonnet").returncode == 0
    assert last_model(api) == MODELS["sonnet"]
    assert claude(root / "b", "--model", "haiku").returncode == 0
    assert last_model(api) == MODELS["haiku"]


def test_doctor_warning_about_available_models_matches_what_claude_code_does(setup, api, claude, run, claude_version):
    """A family alias admits an ID that names the family (test/sonnet-model) and nothing else."""
    root, _ = setup
    for wt in ("a", "b"):  # b's sonnet slot is test/override-model, which names no family
        (root / wt / ".claude/settings.json").write_text(json.dumps({"availableModels": ["sonnet", "opus"]}))

    def flagged(wt):
        doc = json.loads(run("-C", str(root / "cfg"), "doctor", wt, "--json").out)["worktrees"][0]
        return {re.search(r"model '([^']+)'", f["message"])[1] for f in doc["findings"] if "availableModels" in f["message"]}

    assert flagged("a") == {MODELS["haiku"], MODELS["fable"]}  # 'haiku' and 'fable' are not listed
    assert flagged("b") == {MODELS["haiku"], MODELS["fable"], "test/override-model"}
    # Claude Code agrees, slot by slot: admitted models go out, the others do not. What goes
    # instead changed: 2.1.197 sent the default slot's model; 2.1.332 does so for a slot the
    # list does not name, but sends its own ID for a listed slot whose model is not admitted.
    instead = {
        "2.1.197": {"sonnet": MODELS["opus"], "haiku": MODELS["opus"], "fable": MODELS["opus"]},
        "2.1.332": {"sonnet": "claude-sonnet-5-5", "haiku": MODELS["opus"], "fable": MODELS["opus"]},
    }[claude_version]
    sent = []
    for wt, slot in [("a", "sonnet"), ("b", "sonnet"), ("a", "haiku"), ("a", "fable")]:
        assert claude(root / wt, "--model", slot).returncode == 0
        sent.append(last_model(api))
    assert sent == [MODELS["sonnet"], instead["sonnet"], instead["haiku"], instead["fable"]]


def test_doctor_error_about_a_wrong_type_matches_what_claude_code_does(setup, api, claude, run):
    root, _ = setup
    settings = root / "a/.claude/settings.local.json"
    doc = json.loads(settings.read_text())
    settings.write_text(json.dumps({**doc, "model": 42}))  # a hand edit gone wrong
    result = run("-C", str(root / "cfg"), "doctor", "a")
    assert result.code == 1
    lines = result.out.splitlines()
    assert (
        "  error: a/.claude/settings.local.json: 'model' is a int, not a str: Claude Code drops the whole local "
        "settings file, silently (its env too) (fix that value)"
    ) in lines
    assert lines[-1] == "1 error, 0 warnings."
    seen = len(api.requests)
    assert claude(root / "a").returncode != 0  # the whole file, env and all, is dropped
    assert len(api.requests) == seen


def test_enforce_available_models_sends_a_builtin_id_to_the_gateway(setup, api, claude, run):
    """doctor's warning, proven both ways: with the default model admitted nothing changes;
    without it, the default becomes an Anthropic model ID the gateway never heard of."""
    root, _ = setup
    shared = root / "a/.claude/settings.json"

    def warned():
        doc = json.loads(run("-C", str(root / "cfg"), "doctor", "a", "--json").out)["worktrees"][0]
        return any("enforceAvailableModels" in f["message"] for f in doc["findings"])

    shared.write_text(json.dumps({"availableModels": list(MODELS.values()), "enforceAvailableModels": True}))
    assert not warned()
    assert claude(root / "a").returncode == 0
    assert last_model(api) == MODELS["opus"]
    shared.write_text(json.dumps({"availableModels": [MODELS["haiku"]], "enforceAvailableModels": True}))
    assert warned()
    assert claude(root / "a").returncode == 0
    sent = last_model(api)
    assert sent not in MODELS.values() and sent.startswith("claude-"), sent


#: The filter Claude Code puts on a gateway's /v1/models list when discovery is on, as each
#: pinned release's binary writes it (the lint in catalog/lint.py follows the newest).
DISCOVERY_FILTER = {"2.1.197": "/^(claude|anthropic)/i.test(", "2.1.332": "/(claude|anthropic)/i.test("}


def test_gateway_discovery_keeps_only_claude_ids_as_the_lint_says(claude_bin, claude_version):
    """The lint for CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY rests on this filter: a release
    that changes it fails here (the fake gateway has no /v1/models to try it on the wire)."""
    with open(claude_bin, "rb") as f:
        binary = f.read()
    # The message after the filter, in the bundled source (the binary also holds it in a string table).
    found = [
        re.findall(r"/\^?\(claude\|anthropic\)/i\.test\(", binary[max(0, m.start() - 400) : m.start()].decode("latin-1"))
        for m in re.finditer(rb"\[gatewayDiscovery\] 0 usable models after filter", binary)
    ]
    assert [f for f in found if f] == [[DISCOVERY_FILTER[claude_version]]], "revisit catalog/lint.py's _discovery"
