"""llmconf import (and init WT...) of a worktree where someone configured opencode, Qwen Code or
Gemini CLI by hand, beside the file a switch script left for Claude Code, on real files.

The worktree's entry lists the agent, with the endpoint and models its files use where the
profile's differ; its key must be the profile's. Nothing is written to the agents' files: the
next plan switches them to llmconf's own keys, and leaves Claude Code's file as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import Tree, changed_paths, snapshot_tree
from tests.test_import import SETTINGS, switched

OR_OPENAI = "https://openrouter.ai/api/v1"
CONFIG = "# team config\nworktrees:\n  ../main: anthropic   # main checkout\n"
STORE = "secrets.env"
LOCK = ".local/state/llmconf/lock"

#: opencode.jsonc as a user writes it: a comment, a custom OpenRouter provider with its key, and
#: models on it that the devstral profile's slots do not give.
OPENCODE = """{
  "$schema": "https://opencode.ai/config.json",
  // my OpenRouter provider
  "provider": {
    "or": {
      "npm": "@ai-sdk/openai-compatible",
      "options": {
        "baseURL": "https://openrouter.ai/api/v1",
        "apiKey": KEY
      },
      "models": {"qwen/qwen3-coder": {}}
    }
  },
  "model": "or/qwen/qwen3-coder",
  "small_model": "or/mistralai/devstral-2512"
}
"""

QWEN = {
    "security": {"auth": {"selectedType": "openai"}},
    "modelProviders": {
        "openai": [{"id": "qwen/qwen3-coder", "name": "OpenRouter", "baseUrl": OR_OPENAI, "envKey": "OPENROUTER_API_KEY"}]
    },
    "model": {"name": "qwen/qwen3-coder"},
}

GEMINI = {"security": {"auth": {"selectedType": "gemini-api-key"}}, "model": {"name": "gemini-2.5-pro"}}
GEMINI_URL = "http://127.0.0.1:9/gemini"


def _opencode(key: str = SECRET) -> str:
    return OPENCODE.replace("KEY", json.dumps(key))


def _worktree(tmp_path: Path, name: str, files: dict[str, str], claude: str | None = None) -> Path:
    """A worktree: the file devstral's switch script leaves for Claude Code (None: no file,
    Anthropic direct), and the agents' own files."""
    write_tree(tmp_path, {"team/worktrees.yaml": CONFIG, "main/README.md": "main\n"})
    write_tree(tmp_path / name, files)
    if claude is not None:
        write_tree(tmp_path / name, {SETTINGS: claude})
        os.chmod(tmp_path / name / SETTINGS, 0o600)
    return tmp_path / name


def _everything(tmp_path: Path, home: Path) -> Tree:
    tree = {f"tmp/{p}": n for p, n in snapshot_tree(tmp_path).items()}
    # The lock, and llmconf's caches (the catalog's parsed form is kept there whether or not the
    # run succeeds): neither is the user's data.
    skip = lambda rel: f"{LOCK}/".startswith(f"{rel}/") or rel.parts[:1] == (".cache",)  # noqa: E731
    return {**tree, **{f"home/{p}": n for p, n in snapshot_tree(home, skip=skip).items()}}


def _entry(tmp_path: Path, key: str) -> object:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load((tmp_path / "team/worktrees.yaml").read_text())["worktrees"][key]


def _planned(run) -> dict[tuple[str, str | None, str | None], list[tuple[str, str, object]]]:
    """plan --json: each file's changes as (key, action, value after), by (worktree, agent, role)."""
    result = run("-C", "team", "plan", "--json")
    assert result.code == 0, result.err
    out = {}
    for wp in json.loads(result.out)["worktrees"]:
        assert wp["error"] is None, wp
        out[(wp["name"], wp.get("agent"), wp.get("role"))] = [(c["key"], c["action"], c.get("after")) for c in wp["changes"]]
    return out


def _no_secret(tmp_path: Path, home: Path, *texts: str) -> None:
    for text in texts:
        assert SECRET not in text and "sk-or-v1" not in text
    for p in [*tmp_path.rglob("*.yaml"), *home.rglob("*.yaml")]:
        assert SECRET not in p.read_text(), p


NEXT_SWITCH = (
    "Next: 'llmconf plan' shows no changes for them, except the switch of {agent} to llmconf's own keys "
    "('llmconf apply' makes it; start them with 'llmconf exec -- AGENT' or 'llmconf activate' so they get the key); "
    "switch a worktree with 'llmconf use PROFILE WORKTREE'.\n"
)


def test_opencode_with_the_same_key_is_adopted_and_plan_switches_only_its_keys(tmp_path, run, isolated_home):
    wt = _worktree(tmp_path, "oc", {"opencode.jsonc": _opencode()}, switched("devstral"))
    user_file = (wt / "opencode.jsonc").read_text()
    result = run("-C", "team", "import", "oc")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "../oc: declared with profile 'devstral' and catalog_info: false (the file has no /model labels).\n"
        "  opencode (oc/opencode.jsonc:8): added to its agents, with its own agent_models.opencode.main in its entry; "
        "plan adds provider 'llmconf' to opencode.jsonc and points model and small_model at it.\n"
        "  its key (oc/opencode.jsonc:9) is the profile's (secret 'openrouter'); llmconf leaves it in that file: take it out by hand.\n"
        f"Secret 'openrouter': stored from oc/.claude/settings.local.json in {isolated_home}/{STORE} (0600).\n"
        + NEXT_SWITCH.format(agent="opencode")
    )
    # devstral's haiku is the file's small model: only the main model is the entry's own.
    assert _entry(tmp_path, "../oc") == {
        "profile": "devstral",
        "agents": ["claude-code", "opencode"],
        "catalog_info": False,
        "agent_models": {"opencode": {"main": "qwen/qwen3-coder"}},
    }
    assert (tmp_path / "team/worktrees.yaml").read_text().startswith(CONFIG)  # comments kept
    assert (wt / "opencode.jsonc").read_text() == user_file  # import writes no agent's file

    planned = _planned(run)
    assert planned[("oc", None, None)] == []  # Claude Code's file stays in sync
    assert planned[("oc", "opencode", "agent")] == [
        ("provider.llmconf.npm", "add", "@ai-sdk/openai-compatible"),
        ("provider.llmconf.name", "add", "llmconf (devstral)"),
        ("provider.llmconf.options.baseURL", "add", OR_OPENAI),
        ("provider.llmconf.options.apiKey", "add", "{env:LLMCONF_OPENCODE_API_KEY}"),
        (
            "provider.llmconf.models",
            "add",
            {"qwen/qwen3-coder": {"name": "qwen/qwen3-coder"}, "mistralai/devstral-2512": {"name": "mistralai/devstral-2512"}},
        ),
        ("model", "change", "llmconf/qwen/qwen3-coder"),
        ("small_model", "change", "llmconf/mistralai/devstral-2512"),
    ]
    assert [(k, a) for k, a, _ in planned[("oc", "opencode", "agent-key")]] == [("env.LLMCONF_OPENCODE_API_KEY", "add")]

    applied = run("-C", "team", "apply", "--yes")
    assert applied.code == 0, applied.err
    key_file = next((isolated_home / ".local/state/llmconf/deliver").rglob("opencode-key.json"))
    assert json.loads(key_file.read_text()) == {"env": {"LLMCONF_OPENCODE_API_KEY": SECRET}}
    text = (wt / "opencode.jsonc").read_text()
    assert "// my OpenRouter provider" in text and '"or": {' in text  # the user's provider stays theirs
    assert run("-C", "team", "plan", "--detailed-exitcode").code == 0
    _no_secret(tmp_path, isolated_home, result.out, result.err, applied.out, applied.err)


def test_qwen_with_its_key_by_reference_is_adopted(tmp_path, run, isolated_home):
    _worktree(tmp_path, "qw", {".qwen/settings.json": json.dumps(QWEN, indent=2) + "\n"}, switched("devstral"))
    result = run("-C", "team", "import", "qw")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[1:3] == [
        "  qwen (qw/.qwen/settings.json:12): added to its agents, with its own agent_models.qwen.main in its entry; "
        "plan adds the 'llmconf' entry ahead of your own entry in modelProviders.openai (Qwen Code takes the first that matches) "
        "in .qwen/settings.json and points model.name at it.",
        "  its key is read from $OPENROUTER_API_KEY (envKey) (qw/.qwen/settings.json:13): "
        "llmconf will hand over the profile's key instead.",
    ]
    assert result.out.endswith(NEXT_SWITCH.format(agent="qwen"))
    assert _entry(tmp_path, "../qw") == {
        "profile": "devstral",
        "agents": ["claude-code", "qwen"],
        "catalog_info": False,
        "agent_models": {"qwen": {"main": "qwen/qwen3-coder"}},
    }
    planned = _planned(run)
    assert planned[("qw", None, None)] == []
    entry = {"id": "qwen/qwen3-coder", "name": "llmconf", "baseUrl": OR_OPENAI, "envKey": "LLMCONF_QWEN_API_KEY"}
    assert planned[("qw", "qwen", "agent")] == [
        ("modelProviders.openai.[name=llmconf]", "add", entry),
        ("model.baseUrl", "add", OR_OPENAI),
    ]
    assert [(k, a) for k, a, _ in planned[("qw", "qwen", "agent-key")]] == [("env.LLMCONF_QWEN_API_KEY", "add")]
    _no_secret(tmp_path, isolated_home, result.out)


def test_gemini_with_its_gateway_in_dotenv_gets_the_endpoint_and_model(tmp_path, run, isolated_home):
    files = {".gemini/settings.json": json.dumps(GEMINI) + "\n", ".gemini/.env": f"GOOGLE_GEMINI_BASE_URL={GEMINI_URL}\nGEMINI_API_KEY='{SECRET}'\n"}
    _worktree(tmp_path, "gm", files, switched("devstral"))
    result = run("-C", "team", "import", "gm")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[1:3] == [
        "  gemini (gm/.gemini/.env:1): added to its agents, with its own endpoints.gemini, agent_models.gemini.main in its entry; "
        "plan keeps .gemini/settings.json as it is; the URL and key go to llmconf's key file, which 'llmconf exec' hands over.",
        "  its key (gm/.gemini/.env:2) is the profile's (secret 'openrouter'); llmconf leaves it in that file: take it out by hand.",
    ]
    assert _entry(tmp_path, "../gm") == {
        "profile": "devstral",
        "agents": ["claude-code", "gemini"],
        "catalog_info": False,
        "endpoints": {"gemini": GEMINI_URL},
        "agent_models": {"gemini": {"main": "gemini-2.5-pro"}},
    }
    planned = _planned(run)
    assert planned[("gm", None, None)] == []
    assert planned[("gm", "gemini", "agent")] == []  # its settings already select the key and the model
    assert planned[("gm", "gemini", "agent-key")] == [
        ("env.GOOGLE_GEMINI_BASE_URL", "add", GEMINI_URL),
        ("env.GEMINI_API_KEY", "add", None),  # (sensitive): no value in the JSON
    ]
    assert run("-C", "team", "apply", "--yes").code == 0
    key_file = next((isolated_home / ".local/state/llmconf/deliver").rglob("gemini-key.json"))
    assert json.loads(key_file.read_text())["env"] == {"GOOGLE_GEMINI_BASE_URL": GEMINI_URL, "GEMINI_API_KEY": SECRET}
    _no_secret(tmp_path, isolated_home, result.out)


@pytest.mark.parametrize(
    ("agent", "files", "where"),
    [
        ("opencode", {"opencode.json": _opencode("sk-or-v1-another-key")}, "oc/opencode.json:9"),
        (
            "gemini",
            {".gemini/settings.json": json.dumps(GEMINI), ".env": f"# mine\nGEMINI_API_KEY=sk-or-v1-another-key\nGOOGLE_GEMINI_BASE_URL={GEMINI_URL}\n"},
            "oc/.env:2",
        ),
        ("qwen", {".qwen/settings.json": json.dumps(QWEN), ".qwen/.env": "OPENROUTER_API_KEY=sk-or-v1-another-key\n"}, "oc/.qwen/.env:1"),
        # A key pasted where a reference belongs is a key (never printed as a variable's name).
        (
            "qwen",
            {".qwen/settings.json": json.dumps(QWEN).replace('"OPENROUTER_API_KEY"', '"sk-or-v1-another-key"')},
            "oc/.qwen/settings.json:1",
        ),
        ("opencode", {"opencode.json": _opencode("sk-or-v1-another-key{env:X}")}, "oc/opencode.json:9"),
    ],
)
def test_an_agent_key_that_is_not_the_profile_key_is_refused(tmp_path, run, isolated_home, agent, files, where):
    _worktree(tmp_path, "oc", files, switched("devstral"))
    before = _everything(tmp_path, isolated_home)
    result = run("-C", "team", "import", "oc")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"llmconf: {where}: {agent}'s key here is not the key of profile 'devstral' (secret 'openrouter'), which Claude Code "
        "uses: a worktree's agents share one profile and its one key; nothing changed "
        f"(make the two keys the same, or take the key out of this file and import again ({agent} then gets the profile's))\n"
    )
    assert changed_paths(before, _everything(tmp_path, isolated_home)) == set()
    assert "another-key" not in result.err and SECRET not in result.err


def test_an_agent_with_a_key_beside_claude_code_on_anthropic_direct_is_left_out(tmp_path, run, isolated_home):
    """Claude Code with no settings file uses its own login: profile `anthropic`, no key. Giving
    that profile opencode's key would send it to Anthropic; so opencode is left to itself."""
    wt = _worktree(tmp_path, "oc", {"opencode.json": _opencode()})
    result = run("-C", "team", "import", "oc")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "../oc: declared with profile 'anthropic' (no .claude/settings.local.json there: Anthropic direct, nothing to adopt).\n"
        "  opencode (oc/opencode.json:8): not adopted: its backend takes a key, and profile 'anthropic' (Claude Code's here) "
        "has none; a worktree's agents share one profile and its one key. llmconf leaves it as it is.\n"
        "Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.\n"
    )
    assert _entry(tmp_path, "../oc") == "anthropic"
    assert not (isolated_home / STORE).exists()
    before = snapshot_tree(wt)
    assert run("-C", "team", "plan", "--detailed-exitcode").out == "No changes.\n"
    assert snapshot_tree(wt) == before


def test_dry_run_with_agents_writes_nothing(tmp_path, run, isolated_home):
    _worktree(tmp_path, "oc", {"opencode.json": _opencode()}, switched("devstral"))
    before = _everything(tmp_path, isolated_home)
    result = run("-C", "team", "import", "oc", "--dry-run")
    assert (result.code, result.err) == (0, "")
    assert "  opencode (oc/opencode.json:8): would be added to its agents, with its own agent_models.opencode.main" in result.out
    assert result.out.endswith("Dry run: nothing changed.\n")
    assert changed_paths(before, _everything(tmp_path, isolated_home)) == set()


def test_a_new_profile_serves_the_agent_itself(tmp_path, run, isolated_home):
    """A backend no profile matches gets a new profile: the agent's endpoint and models go
    there, not on the entry, and a second worktree on the same backend reuses them."""
    oc = _opencode().replace("https://openrouter.ai/api/v1", "http://127.0.0.1:8/v1").replace("or/mistralai/devstral-2512", "or/z-ai/glm-4.5-air")
    _worktree(tmp_path, "a", {"opencode.json": oc}, switched("openrouter"))
    _worktree(tmp_path, "b", {"opencode.json": oc}, switched("openrouter"))
    result = run("-C", "team", "import", "a", "b")
    assert result.code == 0, result.err
    assert result.out.splitlines()[2] == (
        "  opencode (a/opencode.json:8): added to its agents, with its own endpoints.openai, agent_models.opencode.main, "
        "agent_models.opencode.small in the new profile; plan adds provider 'llmconf' to opencode.json and points model and small_model at it."
    )
    assert "  opencode (b/opencode.json:8): added to its agents;" in result.out  # the new profile serves it as it is
    profile = (tmp_path / "team/profiles/qwen3-coder-480b-a35b.yaml").read_text()
    assert profile.splitlines()[1:] == [
        "extends: openrouter-base",
        "endpoints:",
        "  openai: http://127.0.0.1:8/v1",
        "models:",
        "  haiku: mistralai/devstral-2512",
        "  sonnet: qwen/qwen3-coder-480b-a35b",
        "  opus: anthropic/claude-opus-4",
        "agent_models:",
        "  opencode: {main: qwen/qwen3-coder, small: z-ai/glm-4.5-air}",
        "catalog_info: false",
    ]
    assert _entry(tmp_path, "../a") == _entry(tmp_path, "../b") == {"profile": "qwen3-coder-480b-a35b", "agents": ["claude-code", "opencode"]}
    planned = _planned(run)
    assert planned[("a", None, None)] == planned[("b", None, None)] == []
    assert ("provider.llmconf.options.baseURL", "add", "http://127.0.0.1:8/v1") in planned[("b", "opencode", "agent")]
    assert ("small_model", "change", "llmconf/z-ai/glm-4.5-air") in planned[("b", "opencode", "agent")]


def test_codex_and_gemini_on_google_are_not_adopted_and_init_adopts_the_others(tmp_path, run, isolated_home):
    """Codex keeps no backend in a project: its .codex/config.toml is left alone. Gemini CLI
    with no GOOGLE_GEMINI_BASE_URL talks to Google with a Google key: no profile serves that.
    `init WT` adopts as import does."""
    files = {
        "opencode.json": _opencode(),
        ".codex/config.toml": 'model = "gpt-5"\n',
        ".gemini/settings.json": json.dumps(GEMINI),
        ".gemini/.env": "GEMINI_API_KEY=AIza-google-key\n",
    }
    write_tree(tmp_path / "oc", files)
    write_tree(tmp_path / "oc", {SETTINGS: switched("devstral")})
    result = run("init", "-C", "team", "oc")
    assert result.code == 0, result.err
    assert "  opencode (oc/opencode.json:8): added to its agents, with its own agent_models.opencode.main in its entry;" in result.out
    assert "  codex" not in result.out and "  gemini" not in result.out
    assert _entry(tmp_path, "../oc") == {
        "profile": "devstral",
        "agents": ["claude-code", "opencode"],
        "catalog_info": False,
        "agent_models": {"opencode": {"main": "qwen/qwen3-coder"}},
    }


def test_top_level_agents_already_listing_the_agent_add_no_agents_to_the_entry(tmp_path, run, isolated_home):
    _worktree(tmp_path, "oc", {"opencode.json": _opencode()}, switched("devstral"))
    (tmp_path / "team/worktrees.yaml").write_text("agents: [claude-code, opencode]\n" + CONFIG)
    assert run("-C", "team", "import", "oc").code == 0
    assert _entry(tmp_path, "../oc") == {"profile": "devstral", "catalog_info": False, "agent_models": {"opencode": {"main": "qwen/qwen3-coder"}}}


def test_an_agent_file_that_does_not_parse_refuses_the_folder(tmp_path, run, isolated_home):
    _worktree(tmp_path, "oc", {"opencode.json": '{"model": "or/x",\n'}, switched("devstral"))
    before = _everything(tmp_path, isolated_home)
    result = run("-C", "team", "import", "oc")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("llmconf: oc/opencode.json:2: invalid JSON: ")
    assert changed_paths(before, _everything(tmp_path, isolated_home)) == set()


def test_a_key_by_reference_going_to_another_host_is_pointed_out(tmp_path, run, isolated_home):
    qwen = json.loads(json.dumps(QWEN))
    qwen["modelProviders"]["openai"][0]["baseUrl"] = "http://127.0.0.1:8/v1"
    _worktree(tmp_path, "qw", {".qwen/settings.json": json.dumps(qwen, indent=2)}, switched("devstral"))
    result = run("-C", "team", "import", "qw")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1:4] == [
        "  qwen (qw/.qwen/settings.json:12): added to its agents, with its own endpoints.openai, agent_models.qwen.main in its entry; "
        "plan adds the 'llmconf' entry ahead of your own entry in modelProviders.openai (Qwen Code takes the first that matches) "
        "in .qwen/settings.json and points model.name at it.",
        "  its key is read from $OPENROUTER_API_KEY (envKey) (qw/.qwen/settings.json:13): llmconf will hand over the profile's key instead.",
        "  so the profile's key will go to 127.0.0.1, which is not the profile's gateway: check it before 'llmconf apply'.",
    ]
    assert _entry(tmp_path, "../qw")["endpoints"] == {"openai": "http://127.0.0.1:8/v1"}


def test_a_key_inside_an_agent_url_is_refused(tmp_path, run, isolated_home):
    oc = _opencode().replace("https://openrouter.ai/api/v1", "https://gw.example/sk-or-v1-0123456789abcdef0123456789/v1")
    _worktree(tmp_path, "oc", {"opencode.json": oc}, switched("devstral"))
    before = _everything(tmp_path, isolated_home)
    result = run("-C", "team", "import", "oc")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "llmconf: oc/opencode.json:8: opencode's URL or model here holds what looks like a key, which llmconf never writes "
        "into worktrees.yaml; nothing changed (put the key where the agent reads its key from, and import again)\n"
    )
    assert changed_paths(before, _everything(tmp_path, isolated_home)) == set()


def test_a_dotenv_key_is_read_as_the_agent_reads_it(tmp_path, run, isolated_home):
    """Unquoted, a dotenv value ends at '#' (the npm dotenv package Gemini CLI uses): the key
    Gemini CLI would send is not the whole key, so it is not the profile's."""
    files = {".gemini/settings.json": json.dumps(GEMINI), ".gemini/.env": f"GOOGLE_GEMINI_BASE_URL={GEMINI_URL}\nGEMINI_API_KEY={SECRET}\n"}
    _worktree(tmp_path, "gm", files, switched("devstral"))
    result = run("-C", "team", "import", "gm")
    assert result.code == 1
    assert result.err.startswith("llmconf: gm/.gemini/.env:2: gemini's key here is not the key of profile 'devstral'")
    assert SECRET.split("#")[0] not in result.err


def test_adopting_an_agent_adds_one_entry_and_keeps_every_other_byte_of_worktrees_yaml(tmp_path, run, isolated_home):
    """The new entry, with its agents and agent_models, is written in the file's own indent;
    nothing else in worktrees.yaml moves (no YAML round trip: quotes, spacing, comments stay)."""
    wt = _worktree(tmp_path, "oc", {"opencode.jsonc": _opencode()}, switched("devstral"))
    config = "# team config\nworktrees:\n    \"../main\":   'anthropic'    # main checkout, quoted by hand\n\n# the end\n"
    (tmp_path / "team/worktrees.yaml").write_text(config)
    result = run("-C", "team", "import", "oc")
    assert (result.code, result.err) == (0, ""), result.out
    assert (tmp_path / "team/worktrees.yaml").read_text() == config + (
        "    ../oc:\n"
        "        profile: devstral\n"
        "        agents: [claude-code, opencode]\n"
        "        catalog_info: false\n"
        "        agent_models: {opencode: {main: qwen/qwen3-coder}}\n"
    )
    assert wt.exists()
