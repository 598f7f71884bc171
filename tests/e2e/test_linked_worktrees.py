"""Claude Code 2.1.211+ and linked git worktrees: every worktree reaches its own backend.

Since 2.1.211 a linked worktree reads the main checkout's .claude/settings.local.json first,
and it wins over the worktree's own file key by key. These tests pin that rule (and the others
llmconf relies on) against the real binaries, then prove that llmconf's deliveries give each
worktree its declared gateway, key and models, through `llmconf exec` and through a shell set
up with `llmconf activate`, and that `status` says what a plain `claude` really does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.e2e.conftest import claude_env
from tests.e2e.fakeapi import FakeApi
from tests.helpers import git, make_repo

ROOT_LOCAL_SINCE = (2, 1, 211)
#: What each pinned version sends for each slot with a gateway and no slot variables, and with
#: neither --model nor a `model` setting (the default).
BUILTIN = {
    "2.1.332": {
        "default": "claude-opus-5-5", "haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5",
        "fable": "claude-fable-5-2",
    },
    "2.1.197": {
        "default": "claude-opus-4-8", "haiku": "claude-haiku-4-5-20251001", "sonnet": "claude-sonnet-5", "opus": "claude-opus-4-8",
        "fable": "claude-fable-5",
    },
}
SLOTS = ("haiku", "sonnet", "opus", "fable")
#: The main checkout's one commit: settings.local.json is git-ignored, as teams do.
IGNORED = {".gitignore": ".claude/settings.local.json\n"}


def root_local(version: str) -> bool:
    return tuple(int(p) for p in version.split(".")) >= ROOT_LOCAL_SINCE


def settings(folder: Path, env: dict[str, str], **top: str) -> None:
    write_tree(folder, {".claude/settings.local.json": json.dumps({"env": env, **top})})


def gateway_env(api: FakeApi, key: str, models: dict[str, str] | None = None) -> dict[str, str]:
    env = {"ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_AUTH_TOKEN": key, "ANTHROPIC_API_KEY": ""}
    return {**env, **{f"ANTHROPIC_DEFAULT_{s.upper()}_MODEL": m for s, m in (models or {}).items()}}


@pytest.fixture
def apis():
    with FakeApi() as a, FakeApi() as b, FakeApi() as c:
        yield {"a": a, "b": b, "c": c}


def sent(apis: dict[str, FakeApi]) -> list[tuple[str, str | None, str | None]]:
    """Every message request so far, in the order they arrived: (gateway, Authorization, model)."""
    seen = [(r.seq, name, r) for name, api in apis.items() for r in api.messages]
    return [(name, r.authorization, r.model) for _, name, r in sorted(seen, key=lambda t: t[0])]


# --- the client's rules, pinned ------------------------------------------------------------


def test_the_main_checkouts_file_wins_key_by_key_from_2_1_211(tmp_path, apis, claude, claude_version):
    main = make_repo(tmp_path, "Forgerank", linked=("wt",), files=IGNORED)
    # The main checkout sets only the sonnet model; the worktree's own file sets everything.
    settings(main, {"ANTHROPIC_DEFAULT_SONNET_MODEL": "main/sonnet"})
    settings(tmp_path / "wt", gateway_env(apis["b"], "key-b", {"sonnet": "wt/sonnet", "opus": "wt/opus"}))
    assert claude(tmp_path / "wt", "--model", "sonnet").returncode == 0
    assert claude(tmp_path / "wt", "--model", "opus").returncode == 0
    sonnet = "main/sonnet" if root_local(claude_version) else "wt/sonnet"
    assert sent(apis) == [("b", "Bearer key-b", sonnet), ("b", "Bearer key-b", "wt/opus")]
    # Once the main checkout names a gateway too, the worktree's own gateway is not used at all.
    settings(main, gateway_env(apis["a"], "key-a", {"sonnet": "main/sonnet"}))
    assert claude(tmp_path / "wt", "--model", "opus").returncode == 0
    expected = ("a", "Bearer key-a", "wt/opus") if root_local(claude_version) else ("b", "Bearer key-b", "wt/opus")
    assert sent(apis)[-1] == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give .claude away")
def test_a_main_checkout_claude_folder_that_is_not_yours_is_not_read(tmp_path, apis, claude, claude_version):
    """The exception llmconf's delivery choice follows: a root .claude owned by another user."""
    main = make_repo(tmp_path, "Forgerank", linked=("wt",), files=IGNORED)
    settings(main, gateway_env(apis["a"], "key-a", {"opus": "main/opus"}))
    settings(tmp_path / "wt", gateway_env(apis["b"], "key-b", {"opus": "wt/opus"}))
    os.chown(main / ".claude", 65534, 65534)
    assert claude(tmp_path / "wt", "--model", "opus").returncode == 0
    assert sent(apis) == [("b", "Bearer key-b", "wt/opus")]


def test_the_settings_layer_beats_every_local_file_key_by_key(tmp_path, apis, claude_bin, claude_version):
    main = make_repo(tmp_path, "Forgerank", linked=("wt",), files=IGNORED)
    settings(main, gateway_env(apis["a"], "key-a", {"sonnet": "main/sonnet", "opus": "main/opus"}))
    settings(tmp_path / "wt", gateway_env(apis["b"], "key-b", {"sonnet": "wt/sonnet"}))
    layer = tmp_path / "layer.json"
    # Only the base URL and the opus model.
    layer.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": apis["c"].url, "ANTHROPIC_DEFAULT_OPUS_MODEL": "cli/opus"}}))
    home = tmp_path / "home-c"
    home.mkdir()
    for slot in ("opus", "sonnet"):
        done = subprocess.run(
            [claude_bin, "-p", "hi", "--model", slot, "--settings", str(layer)],
            cwd=tmp_path / "wt", env=claude_env(home), capture_output=True, text=True, timeout=90,
        )
        assert done.returncode == 0, done.stderr
    # What the layer leaves unset comes from the highest local file that sets it: the main
    # checkout's from 2.1.211, the worktree's own before.
    key, sonnet = ("Bearer key-a", "main/sonnet") if root_local(claude_version) else ("Bearer key-b", "wt/sonnet")
    assert sent(apis) == [("c", key, "cli/opus"), ("c", key, sonnet)]


def test_the_default_model_and_each_slots_builtin_id(tmp_path, apis, claude, claude_version):
    (tmp_path / "w").mkdir()
    settings(tmp_path / "w", gateway_env(apis["a"], "key-a"))
    assert claude(tmp_path / "w").returncode == 0
    for slot in SLOTS:
        assert claude(tmp_path / "w", "--model", slot).returncode == 0
    assert [m for _, _, m in sent(apis)] == [BUILTIN[claude_version][k] for k in ("default", *SLOTS)]


# --- llmconf: every worktree reaches its own backend ----------------------------------------

PROFILES = {
    "ga": {"haiku": "a/haiku", "sonnet": "a/sonnet", "opus": "a/opus", "fable": "a/fable"},
    "gb": {"haiku": "b/haiku", "sonnet": "b/sonnet", "opus": "b/opus", "fable": "b/fable"},
    "gc": {"sonnet": "c/sonnet"},  # haiku, opus and fable left to Claude Code's own
}
DECLARED = {"Forgerank": "ga", "forgerank-glm": "gb", "forgerank-kimi": "gc", "forgerank-direct": "anthropic"}


@pytest.fixture
def fleet(tmp_path, run, apis, claude_bin, monkeypatch):
    """A main checkout and three linked worktrees on four profiles: three gateways and direct."""
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)  # llmconf follows the client that will run
    make_repo(tmp_path, "Forgerank", linked=tuple(w for w in DECLARED if w != "Forgerank"), files=IGNORED)
    files = {}
    for name, models in PROFILES.items():
        gw = name[1]
        assert run("secret", "set", f"key-{gw}", stdin=f"secret-{gw}\n").code == 0
        files[f"cfg/profiles/{name}.yaml"] = (
            f"base_url: {apis[gw].url}\nauth_token: \"{{{{ secret('key-{gw}') }}}}\"\nmodels: {json.dumps(models)}\n"
        )
    worktrees = "".join(f"  ../{w}: {p}\n" for w, p in DECLARED.items())
    write_tree(tmp_path, {**files, "cfg/worktrees.yaml": f"worktrees:\n{worktrees}"})
    applied = run("-C", str(tmp_path / "cfg"), "apply", "--yes")
    assert applied.code == 0, applied.err
    return tmp_path


def expected(worktree: str, slot: str, version: str) -> tuple[str, str, str] | None:
    """(gateway, Authorization, model) the worktree's declared profile sends for a slot."""
    profile = DECLARED[worktree]
    if profile == "anthropic":
        return None
    gw = profile[1]
    return (gw, f"Bearer secret-{gw}", PROFILES[profile].get(slot) or BUILTIN[version][slot])


def llmconf_env(tmp_path: Path, path: str | None = None) -> dict[str, str]:
    """claude's environment, plus where llmconf keeps its state (the delivery files)."""
    keep = {k: os.environ[k] for k in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME") if k in os.environ}
    home = tmp_path / "claude-home"
    home.mkdir(exist_ok=True)
    return {**claude_env(home, path), **keep}


def check_each_worktree(fleet, apis, version, start) -> None:
    """`start(worktree, slot)` runs claude there; each request reaches only the declared gateway."""
    for worktree in DECLARED:
        for slot in SLOTS:
            before = sent(apis)
            done = start(fleet / worktree, slot)
            want = expected(worktree, slot, version)
            if want is None:  # Anthropic direct, and no login here: no gateway hears of it
                assert done.returncode != 0 and sent(apis) == before, (worktree, slot, done.stdout)
            else:
                assert done.returncode == 0, (worktree, slot, done.stderr)
                assert sent(apis)[len(before):] == [want], (worktree, slot)


def test_through_llmconf_exec_every_worktree_reaches_its_own_backend(fleet, apis, claude_bin, claude_version):
    def start(worktree: Path, slot: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "llmconf", "exec", "--", claude_bin, "-p", "say hi", "--model", slot]
        return subprocess.run(argv, cwd=worktree, env=llmconf_env(fleet), capture_output=True, text=True, timeout=90)

    check_each_worktree(fleet, apis, claude_version, start)


SHELLS = {  # how each shell loads `llmconf activate SHELL`, then runs `claude` in folder $1
    "bash": (["bash", "--norc", "-c"], 'eval "$(llmconf activate bash)"\ncd "$1" && claude -p "say hi" --model {slot}'),
    "zsh": (["zsh", "-f", "-c"], 'eval "$(llmconf activate zsh)"\ncd "$1" && claude -p "say hi" --model {slot}'),
    "fish": (["fish", "--no-config", "-c"], 'llmconf activate fish | source\ncd $argv[-1]; and claude -p "say hi" --model {slot}'),
}


@pytest.mark.parametrize("shell", SHELLS)
def test_a_shell_set_up_with_llmconf_activate_runs_plain_claude_right(fleet, apis, claude_bin, claude_version, shell):
    if shutil.which(shell) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{shell} is not installed; tests/install-tools.sh installs it")
        pytest.skip(f"{shell} is not installed")
    bin_dir = fleet / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude_bin)
    (bin_dir / "llmconf").symlink_to(Path(sys.executable).parent / "llmconf")
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    argv, script = SHELLS[shell]

    def start(worktree: Path, slot: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, script.format(slot=slot), shell, str(worktree)],
            env=llmconf_env(fleet, path), capture_output=True, text=True, timeout=90,
        )

    check_each_worktree(fleet, apis, claude_version, start)


def test_status_says_what_a_plain_claude_really_does(fleet, apis, claude, claude_version, run):
    rows = json.loads(run("-C", str(fleet / "cfg"), "status", "--json").out)["worktrees"]
    by_name = {row["worktree"]: row for row in rows}
    for worktree in DECLARED:
        row = by_name[worktree]
        plain = row["effective_values"].get("plain_claude", row["effective_values"])
        before = sent(apis)
        claude(fleet / worktree, "--model", "sonnet")
        new = sent(apis)[len(before):]
        reached = next((api.url for name, api in apis.items() if new and new[0][0] == name), "anthropic direct")
        assert plain["backend"] == reached, worktree
        if new:
            assert plain["sonnet"] == new[0][2], worktree
        # "as declared" only where a plain claude does what is declared.
        declared = expected(worktree, "sonnet", claude_version)
        right = new == ([declared] if declared else [])
        assert (row["effective"] == "as declared") == right, (worktree, row["effective"])
        if not right:
            assert row["effective"] == "with llmconf exec/activate only: plain claude differs (llmconf doctor)"
    assert not root_local(claude_version) or by_name["forgerank-glm"]["effective"] != "as declared"
    # --json says where each value comes from: for a plain claude in a linked worktree on
    # 2.1.211+, the main checkout's file; through llmconf, the worktree's --settings file.
    glm = by_name["forgerank-glm"]["effective_values"]
    main_file = str(fleet / "Forgerank/.claude/settings.local.json")
    own_file = str(fleet / "forgerank-glm/.claude/settings.local.json")
    if root_local(claude_version):
        from llmconf.targets.claude_code.layers import delivery_path

        assert glm["plain_claude"]["sources"]["env.ANTHROPIC_BASE_URL"] == main_file
        assert glm["sources"]["env.ANTHROPIC_BASE_URL"] == str(delivery_path(fleet / "forgerank-glm"))
    else:
        assert glm["sources"]["env.ANTHROPIC_BASE_URL"] == own_file


def test_plan_says_which_delivery_and_why(fleet, run, claude_version):
    doc = json.loads(run("-C", str(fleet / "cfg"), "plan", "--json").out)
    kinds = {w["name"]: w["delivery"]["kind"] for w in doc["worktrees"] if w.get("role") != "delivery"}
    linked = "settings" if root_local(claude_version) else "file"
    assert kinds == {"Forgerank": "file", "forgerank-glm": linked, "forgerank-kimi": linked, "forgerank-direct": linked}
    assert doc["summary"]["files"] == 0  # applied: nothing left to do
    if root_local(claude_version):
        why = {w["name"]: w["delivery"]["why"] for w in doc["worktrees"]}
        main_file = fleet / "Forgerank/.claude/settings.local.json"
        assert why["forgerank-glm"] == (
            f"Claude Code {claude_version} reads {main_file} first, and it wins over this worktree's own file "
            "key by key (2.1.211+): it sets env.ANTHROPIC_BASE_URL"
        )


def test_no_key_in_a_tracked_file_and_delivery_files_are_private(fleet, claude_version):
    from llmconf.targets.claude_code.layers import delivery_path

    for worktree in DECLARED:
        out = git(fleet / worktree, "ls-files").stdout
        assert out.split() == [".gitignore"]
        path = delivery_path(fleet / worktree)
        if root_local(claude_version) and worktree != "Forgerank":
            assert path.stat().st_mode & 0o777 == 0o600
        else:
            assert not path.exists()


def test_switching_the_main_checkout_to_direct_drops_the_deliveries_it_no_longer_needs(fleet, run, apis, claude_version):
    from llmconf.targets.claude_code.layers import delivery_path

    cfg = str(fleet / "cfg")
    assert run("-C", cfg, "use", "anthropic", str(fleet / "Forgerank"), "--apply", "--yes").code == 0
    doc = json.loads(run("-C", cfg, "plan", "--json").out)
    kinds = {w["name"]: w["delivery"]["kind"] for w in doc["worktrees"] if w.get("role") != "delivery"}
    assert set(kinds.values()) == {"file"}
    # The other worktrees' --settings files are no longer needed: the next apply deletes them.
    dropped = sorted(w["name"] for w in doc["worktrees"] if w.get("role") == "delivery" and w["action"] == "delete")
    assert dropped == (["forgerank-direct", "forgerank-glm", "forgerank-kimi"] if root_local(claude_version) else [])
    assert run("-C", cfg, "apply", "--yes").code == 0
    assert not any(delivery_path(fleet / w).exists() for w in DECLARED)


def test_doctor_names_what_a_plain_claude_takes_from_the_main_checkout(fleet, run, claude_version):
    doc = json.loads(run("-C", str(fleet / "cfg"), "doctor", "forgerank-glm", "--json").out)
    findings = doc["worktrees"][0]["findings"]
    main_file = str(fleet / "Forgerank/.claude/settings.local.json")
    plain = [f for f in findings if f["path"] == main_file]
    if not root_local(claude_version):
        assert plain == [] and doc["worktrees"][0]["delivery"]["kind"] == "file"
        return
    assert [(f["level"], f["message"]) for f in plain] == [
        (
            "error",
            "a plain claude (not started through llmconf) takes ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN, "
            "ANTHROPIC_DEFAULT_HAIKU_MODEL, ANTHROPIC_DEFAULT_SONNET_MODEL, ANTHROPIC_DEFAULT_OPUS_MODEL, "
            "ANTHROPIC_DEFAULT_FABLE_MODEL from this "
            "file, which Claude Code 2.1.211+ reads first",
        )
    ]
    # With llmconf's delivery, nothing is taken from it: the effective backend is the declared one.
    assert doc["worktrees"][0]["effective"]["base_url"] == json.loads(
        run("-C", str(fleet / "cfg"), "status", "forgerank-glm", "--json").out
    )["worktrees"][0]["backend"]


def test_a_worktree_claude_made_under_the_main_checkout_gets_its_own_backend(fleet, run, apis, claude_bin, claude_version):
    """`claude --worktree NAME` puts a linked worktree in .claude/worktrees/ of the main checkout."""
    nested = fleet / "Forgerank/.claude/worktrees/side"
    git(fleet / "Forgerank", "worktree", "add", "-q", "-b", "side", str(nested))
    cfg = fleet / "cfg"
    assert run("-C", str(cfg), "use", "gb", str(nested), "--apply", "--yes").code == 0
    argv = [sys.executable, "-m", "llmconf", "exec", "--", claude_bin, "-p", "say hi", "--model", "opus"]
    done = subprocess.run(argv, cwd=nested, env=llmconf_env(fleet), capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert sent(apis)[-1] == ("b", "Bearer secret-b", "b/opus")
    # The main checkout itself is not inside its nested worktree's delivery.
    argv[-1] = "sonnet"
    done = subprocess.run(argv, cwd=fleet / "Forgerank", env=llmconf_env(fleet), capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert sent(apis)[-1] == ("a", "Bearer secret-a", "a/sonnet")
