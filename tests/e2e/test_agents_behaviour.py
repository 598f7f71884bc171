"""What opencode, Gemini CLI, Qwen Code and Codex really read and send: the facts llmconf's targets
for them stand on, pinned against the real CLIs (tests/e2e/agent-versions) and a fake gateway on
127.0.0.1. Each test fails when a new release changes the behaviour it names; the reference is in
llmconf/targets/README.md.

Every run has an empty HOME (and XDG folders, CODEX_HOME) in tmp_path, a clean environment, and
each agent's offline switches, so nothing reaches the internet. The agents retry an unreachable
gateway until killed, so every run has a timeout and its whole process group is killed after it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.e2e.conftest import agent_binary, run_agent
from tests.e2e.fakeapi import REPLY, FakeApi, Request
from tests.helpers import git, make_repo

Run = Callable[..., subprocess.CompletedProcess[str]]
KEY = "sk-agent-test-1"


# --- running an agent ---------------------------------------------------------------------


def base_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        **extra,
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def posts(api: FakeApi) -> list[tuple[str, str | None, str | None]]:
    """(path, model, key) of every POST that reached the gateway, the key from whichever header."""
    return [(r.path, r.model, _key(r)) for r in api.requests if r.method == "POST"]


def _key(r: Request) -> str | None:
    if r.authorization:
        return r.authorization
    return r.headers.get("x-goog-api-key")


def repo_with_worktrees(tmp_path: Path) -> tuple[Path, Path, Path]:
    """main checkout `r`, a linked worktree `r-sib` beside it, and one nested at r/.worktrees/nest."""
    main = make_repo(tmp_path, "r", linked=("r-sib",), ignore=False)
    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    return main, tmp_path / "r-sib", main / ".worktrees/nest"


# --- opencode -----------------------------------------------------------------------------

#: opencode's offline switches: no models.dev catalogue, no update check, and no npm registry
#: (it installs its plugin package into the config folder with npm, unless npm is offline).
OPENCODE_OFFLINE = {"OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1", "npm_config_offline": "true"}


@pytest.fixture(scope="session")
def opencode_bin() -> str:
    return agent_binary("opencode-ai", "opencode")


@pytest.fixture
def opencode(opencode_bin: str, home: Path) -> Run:
    def _run(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run_agent([opencode_bin, "run", "hi"], cwd, base_env(home, **OPENCODE_OFFLINE, **env))

    return _run


def opencode_config(base_url: str, api_key: str, model: str, small: str | None = None) -> dict[str, object]:
    models = {model: {}, **({small: {}} if small else {})}
    provider = {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": base_url, "apiKey": api_key}, "models": models}
    return {"provider": {"gw": provider}, "model": f"gw/{model}", **({"small_model": f"gw/{small}"} if small else {})}


def test_opencode_project_file_sends_chat_completions_with_bearer_and_both_models(opencode: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {"opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "{env:GW_KEY}", "m-main", "m-small"))})
    result = opencode(repo, GW_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
    # The small model titles the session, the main one answers; both as chat completions, Bearer.
    assert sorted(posts(api)) == [("/v1/chat/completions", "m-main", f"Bearer {KEY}"), ("/v1/chat/completions", "m-small", f"Bearer {KEY}")]
    assert all(r.stream for r in api.spoken("chat"))


def test_opencode_adds_a_schema_line_to_the_project_file_and_nothing_else(opencode: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    config = opencode_config(f"{api.url}/v1", "{env:GW_KEY}", "m-main")
    write_tree(repo, {"opencode.json": json.dumps(config)})
    assert opencode(repo, GW_KEY=KEY).returncode == 0
    # One line goes in after the opening brace; the rest of the text is kept as written.
    assert (repo / "opencode.json").read_text() == '{\n  "$schema": "https://opencode.ai/config.json",' + json.dumps(config)[1:]


def test_opencode_reads_a_key_through_file_reference_relative_to_the_config_or_home(opencode: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    (home / "gw.key").write_text("sk-from-home-file\n")
    write_tree(repo, {".opencode/opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "{file:~/gw.key}", "m-home"))})
    assert opencode(repo).returncode == 0
    assert {key for _, _, key in posts(api)} == {"Bearer sk-from-home-file"}  # trailing newline trimmed
    api.requests.clear()
    write_tree(repo, {".opencode/opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "{file:near.key}", "m-near"))})
    (repo / ".opencode/near.key").write_text("sk-from-near-file")
    assert opencode(repo).returncode == 0
    assert {key for _, _, key in posts(api)} == {"Bearer sk-from-near-file"}


def test_opencode_sends_a_dollar_variable_as_it_is_and_reads_no_dotenv(opencode: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {"opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "$GW_KEY", "m-main"))})
    assert opencode(repo, GW_KEY=KEY).returncode == 0
    assert {key for _, _, key in posts(api)} == {"Bearer $GW_KEY"}
    api.requests.clear()
    write_tree(repo, {"opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "{env:GW_KEY}", "m-main")), ".env": f"GW_KEY={KEY}\n"})
    assert opencode(repo).returncode == 0
    assert {key for _, _, key in posts(api)} == {None}  # an unset {env:} is empty: no Authorization at all


def test_opencode_shell_openai_variables_do_not_beat_the_file_but_config_content_does(opencode: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {"opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "{env:GW_KEY}", "m-file", "m-small"))})
    result = opencode(repo, GW_KEY=KEY, OPENAI_API_KEY="sk-shell", OPENAI_BASE_URL=f"{api.url}/shell/v1")
    assert result.returncode == 0
    assert sorted(posts(api)) == [("/v1/chat/completions", "m-file", f"Bearer {KEY}"), ("/v1/chat/completions", "m-small", f"Bearer {KEY}")]
    api.requests.clear()
    assert opencode(repo, GW_KEY=KEY, OPENCODE_CONFIG_CONTENT=json.dumps({"model": "gw/m-small"})).returncode == 0
    assert {model for _, model, _ in posts(api)} == {"m-small"}


def test_opencode_merges_the_global_file_under_the_project_file_key_by_key(opencode: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(home, {".config/opencode/opencode.json": json.dumps(opencode_config(f"{api.url}/global/v1", "sk-global", "m-global"))})
    write_tree(repo, {"opencode.json": json.dumps({"provider": {"gw": {"options": {"apiKey": "{env:GW_KEY}"}, "models": {"m-proj": {}}}}, "model": "gw/m-proj"})})
    assert opencode(repo, GW_KEY=KEY).returncode == 0
    # baseURL from the global file, apiKey and model from the project's: one merged provider.
    assert ("/global/v1/chat/completions", "m-proj", f"Bearer {KEY}") in posts(api)
    assert {key for _, _, key in posts(api)} == {f"Bearer {KEY}"}


def test_opencode_searches_up_to_the_worktree_root_only(opencode: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    main, sibling, nested = repo_with_worktrees(tmp_path)
    # A global fallback on the same gateway, so a worktree that does not read the main file still
    # answers here (opencode's own default would go to the internet).
    write_tree(home, {".config/opencode/opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "sk-global", "m-global"))})
    write_tree(main, {"opencode.json": json.dumps(opencode_config(f"{api.url}/v1", "sk-main", "m-main"))})
    (main / "sub/deep").mkdir(parents=True)
    seen = {}
    for name, cwd in (("sub", main / "sub/deep"), ("nested", nested), ("sibling", sibling)):
        api.requests.clear()
        assert opencode(cwd).returncode == 0
        seen[name] = {(model, key) for _, model, key in posts(api)}
    assert seen == {
        "sub": {("m-main", "Bearer sk-main")},
        "nested": {("m-global", "Bearer sk-global")},
        "sibling": {("m-global", "Bearer sk-global")},
    }


# --- Codex --------------------------------------------------------------------------------

#: Codex's offline switches: no plugin sync (chatgpt.com, github.com), no analytics.
CODEX_OFFLINE = ["-c", "features.plugins=false", "-c", "analytics.enabled=false"]


@pytest.fixture(scope="session")
def codex_bin() -> str:
    return agent_binary("@openai/codex", "codex")


@pytest.fixture
def codex(codex_bin: str, home: Path) -> Run:
    codex_home = home / ".codex"
    codex_home.mkdir()

    def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_agent([codex_bin, "exec", *CODEX_OFFLINE, *args, "hi"], cwd, base_env(home, CODEX_HOME=str(codex_home), **env))

    return _run


def codex_profile(url: str, model: str, wire_api: str = "responses") -> str:
    return (
        f'model = "{model}"\nmodel_provider = "gw"\n\n[model_providers.gw]\nname = "Gateway"\n'
        f'base_url = "{url}"\nenv_key = "GW_KEY"\nwire_api = "{wire_api}"\n'
    )


def trust(home: Path, *folders: Path) -> None:
    write_tree(home, {".codex/config.toml": "".join(f'[projects."{f.resolve()}"]\ntrust_level = "trusted"\n' for f in folders)})


def test_codex_profile_file_sends_responses_with_bearer_and_is_not_rewritten(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(home, {".codex/llm.config.toml": codex_profile(f"{api.url}/v1", "m-prof")})
    before = (home / ".codex/llm.config.toml").read_bytes()
    result = codex(repo, "-p", "llm", GW_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
    assert posts(api) == [("/v1/responses", "m-prof", f"Bearer {KEY}")]
    assert api.spoken("responses")[0].stream
    assert (home / ".codex/llm.config.toml").read_bytes() == before
    assert not (home / ".codex/config.toml").exists()


def test_codex_without_the_env_key_variable_fails_before_any_request(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(home, {".codex/llm.config.toml": codex_profile(f"{api.url}/v1", "m-prof")})
    result = codex(repo, "-p", "llm")
    assert result.returncode != 0
    assert "Missing environment variable: `GW_KEY`" in result.stderr
    assert posts(api) == []


def test_codex_rejects_the_chat_wire_api(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(home, {".codex/llm.config.toml": codex_profile(f"{api.url}/v1", "m-prof", wire_api="chat")})
    result = codex(repo, "-p", "llm", GW_KEY=KEY)
    assert result.returncode != 0
    assert '`wire_api = "chat"` is no longer supported' in result.stderr
    assert posts(api) == []


def test_codex_provider_overrides_on_the_command_line_work_without_any_file(codex: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    provider = f'{{name="G", base_url="{api.url}/c/v1", env_key="GW_KEY", wire_api="responses"}}'
    result = codex(repo, "-c", 'model_provider="gw"', "-c", f"model_providers.gw={provider}", "-c", 'model="m-c"', GW_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert posts(api) == [("/c/v1/responses", "m-c", f"Bearer {KEY}")]


PROJECT_PROVIDER = """model = "m-project"
model_provider = "proj"
openai_base_url = "{url}/projbase/v1"

[model_providers.proj]
name = "Proj"
base_url = "{url}/proj/v1"
env_key = "GW_KEY"
wire_api = "responses"
"""


def test_codex_trusted_project_file_keeps_its_model_but_not_its_providers(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".codex/config.toml": PROJECT_PROVIDER.format(url=api.url)})
    write_tree(home, {".codex/llm.config.toml": codex_profile(f"{api.url}/v1", "m-prof")})
    trust(home, repo)
    result = codex(repo, "-p", "llm", GW_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert "Ignored unsupported project-local config keys" in result.stderr
    assert "openai_base_url, model_provider, model_providers" in result.stderr
    # The provider is the profile's; the project's `model` beats the profile's.
    assert posts(api) == [("/v1/responses", "m-project", f"Bearer {KEY}")]
    api.requests.clear()
    assert codex(repo, "-p", "llm", "-c", 'model="m-override"', GW_KEY=KEY).returncode == 0
    assert posts(api) == [("/v1/responses", "m-override", f"Bearer {KEY}")]  # -c beats the project


def test_codex_reads_no_project_file_in_an_untrusted_folder(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".codex/config.toml": PROJECT_PROVIDER.format(url=api.url)})
    write_tree(home, {".codex/llm.config.toml": codex_profile(f"{api.url}/v1", "m-prof")})
    result = codex(repo, "-p", "llm", GW_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert "Ignored unsupported project-local config keys" not in result.stderr
    assert posts(api) == [("/v1/responses", "m-prof", f"Bearer {KEY}")]


def test_codex_takes_a_linked_worktrees_trust_from_the_main_checkout(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    main, sibling, nested = repo_with_worktrees(tmp_path)
    write_tree(main, {".codex/config.toml": 'model = "m-main-project"\n'})
    write_tree(sibling, {".codex/config.toml": 'model = "m-sibling-project"\n'})
    write_tree(home, {".codex/llm.config.toml": codex_profile(f"{api.url}/v1", "m-prof")})
    trust(home, main)  # only the main checkout
    seen = {}
    for name, cwd in (("sibling", sibling), ("nested", nested)):
        api.requests.clear()
        assert codex(cwd, "-p", "llm", GW_KEY=KEY).returncode == 0
        seen[name] = [model for _, model, _ in posts(api)]
    # The sibling's own file loads (trusted through the main checkout); the nested worktree does
    # not read the main checkout's file.
    assert seen == {"sibling": ["m-sibling-project"], "nested": ["m-prof"]}


def test_codex_ignores_openai_base_url_from_the_environment(codex: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(home, {".codex/config.toml": f'openai_base_url = "{api.url}/user/v1"\n'})
    result = codex(repo, "-m", "m-x", OPENAI_BASE_URL=f"{api.url}/env/v1", OPENAI_API_KEY="sk-env")
    assert result.returncode == 0, result.stderr
    # The built-in provider tries a WebSocket first (a GET, refused here), then HTTPS; neither
    # goes to the environment's URL, and OPENAI_API_KEY is not sent by `codex exec`.
    assert posts(api) == [("/user/v1/responses", "m-x", None)]
    assert not [r for r in api.requests if r.path.startswith("/env/")]


# --- Gemini CLI ---------------------------------------------------------------------------

#: Gemini CLI's and Qwen Code's offline switch (in the user settings): no usage statistics.
NO_STATS = json.dumps({"privacy": {"usageStatisticsEnabled": False}})
GEMINI_SETTINGS = json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}, "model": {"name": "m-gem"}})


@pytest.fixture(scope="session")
def gemini_bin() -> str:
    return agent_binary("@google/gemini-cli", "gemini")


@pytest.fixture
def gemini(gemini_bin: str, home: Path) -> Run:
    write_tree(home, {".gemini/settings.json": NO_STATS})

    def _run(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run_agent([gemini_bin, "-p", "hi"], cwd, base_env(home, **env))

    return _run


def gemini_dotenv(url: str, key: str = KEY) -> str:
    return f"GOOGLE_GEMINI_BASE_URL={url}\nGEMINI_API_KEY={key}\n"


def test_gemini_trusted_project_dotenv_and_settings_speak_gemini_with_a_goog_key(gemini: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".gemini/.env": gemini_dotenv(api.url), ".gemini/settings.json": GEMINI_SETTINGS})
    result = gemini(repo, GEMINI_CLI_TRUST_WORKSPACE="true")
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
    assert posts(api) == [("/v1beta/models/m-gem:streamGenerateContent?alt=sse", "m-gem", KEY)]
    assert api.requests[-1].authorization is None
    assert (repo / ".gemini/settings.json").read_text() == GEMINI_SETTINGS  # not rewritten


def test_gemini_reads_no_project_file_in_an_untrusted_folder(gemini: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".gemini/.env": gemini_dotenv(api.url), ".gemini/settings.json": GEMINI_SETTINGS})
    result = gemini(repo)
    assert result.returncode == 41
    assert "Please set an Auth method" in result.stderr
    assert posts(api) == []
    # trustedFolders.json trusts it as the variable does.
    write_tree(home, {".gemini/trustedFolders.json": json.dumps({str(repo.resolve()): "TRUST_FOLDER"})})
    assert gemini(repo).returncode == 0
    assert posts(api) == [("/v1beta/models/m-gem:streamGenerateContent?alt=sse", "m-gem", KEY)]


def test_gemini_environment_beats_the_project_dotenv(gemini: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".gemini/.env": gemini_dotenv(api.url, "sk-dotenv"), ".gemini/settings.json": GEMINI_SETTINGS})
    result = gemini(repo, GEMINI_CLI_TRUST_WORKSPACE="true", GEMINI_API_KEY="sk-shell", GOOGLE_GEMINI_BASE_URL=f"{api.url}/shell")
    assert result.returncode == 0, result.stderr
    assert posts(api) == [("/shell/v1beta/models/m-gem:streamGenerateContent?alt=sse", "m-gem", "sk-shell")]


def test_gemini_an_empty_key_in_the_environment_beats_a_dotenv_key_and_stops_it(gemini: Run, api: FakeApi, tmp_path: Path) -> None:
    """What exec relies on for a profile with no key: the user's own key never reaches the gateway."""
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".gemini/.env": gemini_dotenv(api.url, "sk-users-own"), ".gemini/settings.json": GEMINI_SETTINGS})
    result = gemini(repo, GEMINI_CLI_TRUST_WORKSPACE="true", GEMINI_API_KEY="", GOOGLE_GEMINI_BASE_URL=f"{api.url}/gw")
    assert result.returncode == 41
    assert "you must specify the GEMINI_API_KEY environment variable" in result.stderr
    assert api.requests == []


def test_gemini_nested_worktree_loads_the_nearest_dotenv_up_the_folders(gemini: Run, api: FakeApi, tmp_path: Path) -> None:
    main, sibling, nested = repo_with_worktrees(tmp_path)
    write_tree(main, {".gemini/.env": gemini_dotenv(api.url, "sk-main"), ".gemini/settings.json": GEMINI_SETTINGS})
    nested_settings = json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}, "model": {"name": "m-nest"}})
    write_tree(nested, {".gemini/settings.json": nested_settings})
    write_tree(sibling, {".gemini/settings.json": nested_settings})
    # The nested worktree inherits the main checkout's .gemini/.env (but not its settings.json).
    assert gemini(nested, GEMINI_CLI_TRUST_WORKSPACE="true").returncode == 0
    assert posts(api) == [("/v1beta/models/m-nest:streamGenerateContent?alt=sse", "m-nest", "sk-main")]
    # A linked worktree beside it does not.
    api.requests.clear()
    result = gemini(sibling, GEMINI_CLI_TRUST_WORKSPACE="true")
    assert result.returncode == 41
    assert "you must specify the GEMINI_API_KEY environment variable" in result.stderr
    assert posts(api) == []
    # Only the nearest dotenv loads: a nested one shadows the main checkout's whole file, so the
    # main checkout's base URL is gone with it (its own then points at the gateway too).
    api.requests.clear()
    write_tree(nested, {".gemini/.env": gemini_dotenv(f"{api.url}/nested", "sk-nested")})
    assert gemini(nested, GEMINI_CLI_TRUST_WORKSPACE="true").returncode == 0
    assert posts(api) == [("/nested/v1beta/models/m-nest:streamGenerateContent?alt=sse", "m-nest", "sk-nested")]


def test_gemini_reads_a_dotenv_at_the_project_root_when_there_is_no_gemini_one(gemini: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".env": gemini_dotenv(api.url, "sk-root"), ".gemini/settings.json": GEMINI_SETTINGS})
    assert gemini(repo, GEMINI_CLI_TRUST_WORKSPACE="true").returncode == 0
    assert posts(api) == [("/v1beta/models/m-gem:streamGenerateContent?alt=sse", "m-gem", "sk-root")]


# --- Qwen Code ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def qwen_bin() -> str:
    return agent_binary("@qwen-code/qwen-code", "qwen")


@pytest.fixture
def qwen(qwen_bin: str, home: Path) -> Run:
    write_tree(home, {".qwen/settings.json": NO_STATS})

    def _run(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run_agent([qwen_bin, "-p", "hi"], cwd, base_env(home, **env))

    return _run


def qwen_settings(url: str, model: str) -> str:
    return json.dumps(
        {
            "modelProviders": {"openai": [{"id": model, "name": "Gateway", "baseUrl": url, "envKey": "GW_KEY"}]},
            "security": {"auth": {"selectedType": "openai"}},
            "model": {"name": model},
        },
        indent=2,
    )


def test_qwen_project_settings_send_chat_completions_with_the_envkey_as_bearer(qwen: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-qwen")})
    result = qwen(repo, GW_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert REPLY in result.stdout
    assert set(posts(api)) == {("/v1/chat/completions", "m-qwen", f"Bearer {KEY}")}


def test_qwen_rewrites_its_settings_adding_a_version_and_leaves_no_copy(qwen: Run, api: FakeApi, tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    text = qwen_settings(f"{api.url}/v1", "m-qwen")
    write_tree(repo, {".qwen/settings.json": text})
    assert qwen(repo, GW_KEY=KEY).returncode == 0
    after = (repo / ".qwen/settings.json").read_text()
    assert after != text
    assert json.loads(after) == {**json.loads(text), "$version": 4}
    assert sorted(p.name for p in (repo / ".qwen").iterdir()) == ["settings.json"]
    assert json.loads((home / ".qwen/settings.json").read_text()) == {**json.loads(NO_STATS), "$version": 4}


def test_qwen_key_comes_from_the_qwen_dotenv_and_the_environment_beats_it(qwen: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-qwen"), ".qwen/.env": "GW_KEY=sk-dotenv\n"})
    assert qwen(repo).returncode == 0
    assert {key for _, _, key in posts(api)} == {"Bearer sk-dotenv"}
    api.requests.clear()
    assert qwen(repo, GW_KEY="sk-shell").returncode == 0
    assert {key for _, _, key in posts(api)} == {"Bearer sk-shell"}


def test_qwen_shell_openai_variables_do_not_beat_the_model_provider(qwen: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-qwen")})
    result = qwen(repo, GW_KEY=KEY, OPENAI_API_KEY="sk-shell", OPENAI_BASE_URL=f"{api.url}/shell/v1", OPENAI_MODEL="m-shell")
    assert result.returncode == 0, result.stderr
    assert set(posts(api)) == {("/v1/chat/completions", "m-qwen", f"Bearer {KEY}")}


def test_qwen_nested_worktree_inherits_the_main_checkouts_dotenv_a_sibling_does_not(qwen: Run, api: FakeApi, tmp_path: Path) -> None:
    main, sibling, nested = repo_with_worktrees(tmp_path)
    write_tree(main, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-main"), ".qwen/.env": "GW_KEY=sk-main\n"})
    write_tree(nested, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-nest")})
    write_tree(sibling, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-sib")})
    assert qwen(nested).returncode == 0
    assert set(posts(api)) == {("/v1/chat/completions", "m-nest", "Bearer sk-main")}
    api.requests.clear()
    result = qwen(sibling)
    assert result.returncode == 1
    assert "Set the 'GW_KEY' environment variable" in result.stderr
    assert posts(api) == []


def test_qwen_picks_the_first_entry_of_an_id_unless_model_base_url_names_another(qwen: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    first = {"id": "m-same", "name": "Mine", "baseUrl": f"{api.url}/first/v1", "envKey": "GW_KEY"}
    second = {"id": "m-same", "name": "llmconf", "baseUrl": f"{api.url}/second/v1", "envKey": "GW_KEY", "unknown": True}
    doc = {"modelProviders": {"openai": [first, second]}, "security": {"auth": {"selectedType": "openai"}}, "model": {"name": "m-same"}}
    write_tree(repo, {".qwen/settings.json": json.dumps(doc)})
    assert qwen(repo, GW_KEY=KEY).returncode == 0
    assert {path for path, _, _ in posts(api)} == {"/first/v1/chat/completions"}
    api.requests.clear()
    doc["model"]["baseUrl"] = second["baseUrl"]  # an unknown member in an entry is no error either
    write_tree(repo, {".qwen/settings.json": json.dumps(doc)})
    assert qwen(repo, GW_KEY=KEY).returncode == 0
    assert {path for path, _, _ in posts(api)} == {"/second/v1/chat/completions"}


def test_qwen_project_list_replaces_the_users_and_system_settings_or_folder_trust_beat_the_project(
    qwen: Run, api: FakeApi, tmp_path: Path, home: Path
) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    user_entry = {"id": "m-user", "name": "User", "baseUrl": f"{api.url}/user/v1", "envKey": "GW_KEY"}
    write_tree(home, {".qwen/settings.json": json.dumps({**json.loads(NO_STATS), "modelProviders": {"openai": [user_entry]}})})
    project = json.loads(qwen_settings(f"{api.url}/project/v1", "m-project"))
    write_tree(repo, {".qwen/settings.json": json.dumps({**project, "model": {"name": "m-user"}})})
    # The user's list is gone: m-user is not found, and the project list's first entry answers.
    assert qwen(repo, GW_KEY=KEY).returncode == 0
    assert set(posts(api)) == {("/project/v1/chat/completions", "m-project", f"Bearer {KEY}")}
    api.requests.clear()
    write_tree(repo, {".qwen/settings.json": json.dumps(project)})
    system = {"modelProviders": {"openai": [user_entry]}, "model": {"name": "m-user"}}
    write_tree(tmp_path, {"system.json": json.dumps(system)})
    assert qwen(repo, GW_KEY=KEY, QWEN_CODE_SYSTEM_SETTINGS_PATH=str(tmp_path / "system.json")).returncode == 0
    assert {path for path, _, _ in posts(api)} == {"/user/v1/chat/completions"}
    api.requests.clear()
    trust = {"folderTrust": {"enabled": True}, "auth": {"selectedType": "openai"}}
    user = {**json.loads(NO_STATS), "security": trust, "model": {"name": "m-user"}, "modelProviders": {"openai": [user_entry]}}
    write_tree(home, {".qwen/settings.json": json.dumps(user)})
    assert qwen(repo, GW_KEY=KEY).returncode == 0  # not trusted: the project file is ignored, silently
    assert {path for path, _, _ in posts(api)} == {"/user/v1/chat/completions"}
    api.requests.clear()
    write_tree(home, {".qwen/trustedFolders.json": json.dumps({str(tmp_path): "TRUST_FOLDER"})})  # a folder above it
    assert qwen(repo, GW_KEY=KEY).returncode == 0
    assert {path for path, _, _ in posts(api)} == {"/project/v1/chat/completions"}


def test_qwen_reads_the_project_settings_of_the_folder_it_starts_in_only(qwen: Run, api: FakeApi, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "r", ignore=False)
    write_tree(repo, {".qwen/settings.json": qwen_settings(f"{api.url}/v1", "m-qwen"), "sub/.keep": ""})
    result = qwen(repo / "sub", GW_KEY=KEY)
    assert result.returncode == 1
    assert "No auth type is selected." in result.stderr
    assert posts(api) == []
