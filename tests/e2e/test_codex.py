"""Codex end to end: after `llmconf apply`, `llmconf exec -- codex exec "hi"` in a worktree
makes the real Codex send its Responses request to the profile's openai endpoint (a fake
gateway on 127.0.0.1), with the declared main model and the profile's key, and no file in the
worktree holds that key. A main checkout, a sibling linked worktree and one nested in the main
checkout each get their own profile; a trusted project's `model` does not win; `use --apply`
switches. Codex always runs under a timeout, its process group killed after it, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.e2e.conftest import agent_binary, run_agent
from tests.e2e.fakeapi import REPLY, FakeApi
from tests.helpers import git, make_repo

OTHER_KEY = "sk-other-codex-key"
#: Codex's offline switches (no plugin sync, no analytics), in its user file, with the trust
#: that makes it read the main checkout's .codex/config.toml (and the sibling's, through it).
USER_CONFIG = '[features]\nplugins = false\n\n[analytics]\nenabled = false\n\n[projects."{main}"]\ntrust_level = "trusted"\n'


@pytest.fixture(scope="session")
def codex_bin() -> str:
    """The pinned Codex (tests/e2e/agent-versions)."""
    return agent_binary("@openai/codex", "codex")


def _codex(codex_bin: str, cwd: Path, home: Path, codex_home: Path) -> subprocess.CompletedProcess[str]:
    """`llmconf exec -- codex exec hi` in `cwd`, as a user types it, with `codex` on PATH, an
    empty HOME, and llmconf's state and secrets as the test set them."""
    keep = ("XDG_STATE_HOME", "LLMCONF_SECRETS_FILE", "LLMCONF_CLAUDE")
    env = {
        **{name: os.environ[name] for name in keep},
        "PATH": f"{Path(codex_bin).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
    }
    return run_agent([sys.executable, "-m", "llmconf", "exec", "--", "codex", "exec", "hi"], cwd, env, timeout=120)


def test_llmconf_exec_codex_reaches_each_worktrees_endpoint_with_its_model_and_key(api: FakeApi, codex_bin, run, tmp_path, monkeypatch):
    codex_home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(codex_home))  # apply's, and exec's below
    home = tmp_path / "home"
    home.mkdir()
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0
    assert run("secret", "set", "other", stdin=OTHER_KEY + "\n").code == 0
    main = make_repo(tmp_path, "r", linked=("r-x",))
    sibling, nested = tmp_path / "r-x", main / ".worktrees" / "nest"
    git(main, "worktree", "add", "-q", "-b", "nest", ".worktrees/nest")
    # A trusted project's model beats a -p profile's (targets/README.md): exec's -c beats it again.
    write_tree(main, {".codex/config.toml": 'model = "m-project"\n'})
    write_tree(codex_home, {"config.toml": USER_CONFIG.format(main=main.resolve())})
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": (
                "worktrees:\n"
                "  r: {profile: gw, agents: [claude-code, codex]}\n"
                "  r-x: {profile: other, agents: [codex]}\n"
                "  r/.worktrees/nest: {profile: other, agents: [codex]}\n"
            ),
            "profiles/gw.yaml": (
                f"base_url: {api.url}\nendpoints: {{openai: {api.url}/gw/v1}}\nauth_token: \"{{{{ secret('gw') }}}}\"\n"
                "models: {sonnet: gw/main-model, haiku: gw/small-model}\n"
            ),
            "profiles/other.yaml": (
                f"base_url: {api.url}/anthropic\nendpoints: {{openai: {api.url}/other/v1}}\nauth_token: \"{{{{ secret('other') }}}}\"\nmodels: {{sonnet: other/main-model}}\n"
            ),
        },
    )
    assert run("apply", "--yes").code == 0

    def reached(cwd: Path) -> list[tuple[str, str | None, str | None]]:
        api.requests.clear()
        done = _codex(codex_bin, cwd, home, codex_home)
        assert done.returncode == 0, done.stderr[-3000:]
        assert REPLY in done.stdout
        return [(r.path, r.model, r.authorization) for r in api.requests]

    assert {name: reached(cwd) for name, cwd in (("main", main), ("sibling", sibling), ("nested", nested))} == {
        "main": [("/gw/v1/responses", "gw/main-model", f"Bearer {SECRET}")],
        "sibling": [("/other/v1/responses", "other/main-model", f"Bearer {OTHER_KEY}")],
        "nested": [("/other/v1/responses", "other/main-model", f"Bearer {OTHER_KEY}")],
    }
    # No file in any worktree holds a key; Codex rewrote none of llmconf's files.
    files = [p for root in (main, sibling) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert [p for p in files if any(k in p.read_text(errors="replace") for k in (SECRET, OTHER_KEY))] == []
    assert run("plan").out == "No changes.\n"
    # Switched: the main checkout's Codex goes where the other profile says.
    assert run("use", "other", "r", "--apply", "--yes").code == 0
    assert reached(main) == [("/other/v1/responses", "other/main-model", f"Bearer {OTHER_KEY}")]


def _run_codex(codex_bin: str, cwd: Path, codex_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real codex with these arguments, run as _codex runs exec (its own HOME, a timeout)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(codex_home.parent), "CODEX_HOME": str(codex_home), "GW_KEY": "sk-gw"}
    return run_agent([codex_bin, *args], cwd, env)


def test_what_exec_relies_on_in_codexs_command_line(api: FakeApi, codex_bin, tmp_path):
    """Where -p goes and what Codex does with it (0.171.0), as llmconf.targets.codex says."""
    codex_home = tmp_path / "home" / ".codex"
    provider = '[model_providers.gw]\nname = "G"\nbase_url = "{url}/{name}/v1"\nenv_key = "GW_KEY"\nwire_api = "responses"\n'
    write_tree(
        codex_home,
        {  # the built-in provider goes to the fake gateway too, so a fallback stays offline
            "config.toml": f'openai_base_url = "{api.url}/builtin/v1"\n' + USER_CONFIG.split("[projects")[0],
            **{f"{n}.config.toml": f'model = "m-{n}"\nmodel_provider = "gw"\n\n' + provider.format(url=api.url, name=n) for n in ("one", "two")},
            "nokey.config.toml": 'model = "m-nokey"\nmodel_provider = "gw"\n\n' + provider.format(url=api.url, name="nokey").replace('env_key = "GW_KEY"\n', ""),
        },
    )
    repo = make_repo(tmp_path, "r")

    def sent(*args: str) -> list[tuple[str, str | None]]:
        api.requests.clear()
        done = _run_codex(codex_bin, repo, codex_home, *args)
        assert done.returncode == 0, done.stderr[-3000:]
        return [(r.path, r.model) for r in api.requests if r.method == "POST"]

    # A provider without env_key sends no Authorization header (a profile without auth_token).
    assert sent("-p", "nokey", "exec", "hi") == [("/nokey/v1/responses", "m-nokey")] and api.requests[-1].authorization is None
    assert sent("-p", "one", "exec", "hi") == [("/one/v1/responses", "m-one")] and api.requests[-1].authorization == "Bearer sk-gw"

    # -p before the subcommand works; one after it wins; -m beats -c model, which beats the profile.
    assert sent("-p", "one", "-c", 'model="m-c"', "exec", "hi") == [("/one/v1/responses", "m-c")]
    assert sent("-p", "one", "exec", "-p", "two", "hi") == [("/two/v1/responses", "m-two")]
    assert sent("-p", "one", "-c", 'model="m-c"', "exec", "-m", "m-m", "hi") == [("/one/v1/responses", "m-m")]
    # A profile Codex cannot find is ignored without a word: the built-in provider is used.
    assert [path for path, _ in sent("-p", "missing", "exec", "hi")] == ["/builtin/v1/responses"]
    # Refused: two -p before the subcommand, a name that is not plain, -p for some subcommands.
    refused = [
        (("-p", "one", "-p", "two", "exec", "hi"), 2, "error: the argument '--profile <CONFIG_PROFILE_V2>' cannot be used multiple times"),
        (("-p", "a.b", "exec", "hi"), 2, "invalid --profile value `a.b`; pass a plain name such as `work`"),
        (("-p", "one", "features", "list"), 1, "Error: --profile only applies to runtime commands"),
    ]
    for args, code, said in refused:
        api.requests.clear()
        done = _run_codex(codex_bin, repo, codex_home, *args)
        assert (done.returncode, said in done.stderr, api.requests) == (code, True, []), (args, done.stderr[-2000:])
