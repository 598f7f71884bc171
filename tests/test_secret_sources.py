"""`secrets:` in worktrees.yaml: a secret from an env var, a file (or one KEY= line), a command,
or the OS keychain (the keyring extra, driven here through keyrings.alt's file backend)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from tests.conftest import write_tree

PROFILE = "base_url: http://127.0.0.1:9\nauth_token: \"{{ secret('or') }}\"\n"


def config(root, source: str, profile: str = PROFILE) -> None:
    write_tree(root, {"worktrees.yaml": f"secrets:\n  or: {source}\nworktrees:\n  a: p\n", "profiles/p.yaml": profile, "a/.keep": ""})


def token(root):
    return json.loads((root / "a/.claude/settings.local.json").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"]


def test_from_an_environment_variable(tmp_path, run, monkeypatch):
    config(tmp_path, "{env: OR_KEY}")
    missing = run("plan")
    assert (missing.code, missing.err) == (
        1,
        "llmconf: profiles/p.yaml:2: secret 'or' comes from $OR_KEY, which is not set (export OR_KEY)\n",
    )
    monkeypatch.setenv("OR_KEY", "from-env")
    assert run("apply", "--yes").code == 0
    assert token(tmp_path) == "from-env"


def test_from_the_guides_key_file(tmp_path, run, isolated_home):
    # The guide's save-openrouter-key.sh writes this file.
    write_tree(isolated_home, {".config/forgerank/.env.openrouter": "# saved\nexport OPENROUTER_API_KEY='sk-or-v1-abc'\n"})
    config(tmp_path, "{file: ~/.config/forgerank/.env.openrouter, key: OPENROUTER_API_KEY}")
    assert run("apply", "--yes").code == 0
    assert token(tmp_path) == "sk-or-v1-abc"


def test_from_a_whole_file_and_a_missing_one(tmp_path, run):
    write_tree(tmp_path, {"key.txt": "whole-file-key\n"})
    config(tmp_path, "{file: key.txt}")
    assert run("apply", "--yes").code == 0
    assert token(tmp_path) == "whole-file-key"
    (tmp_path / "key.txt").unlink()
    result = run("plan")
    assert result.err == (
        f"llmconf: profiles/p.yaml:2: secret 'or' comes from {tmp_path / 'key.txt'}, which cannot be read "
        "(FileNotFoundError) (create it, or fix secrets: in worktrees.yaml)\n"
    )


def test_from_a_command_and_a_failing_one_never_shows_its_output(tmp_path, run):
    script = tmp_path / "pass"
    # As `pass show` prints an entry: the password, then metadata lines.
    script.write_text(
        "#!/bin/sh\nif [ \"$2\" = openrouter ]; then printf ' cmd-key \\nuser: me\\nurl: x\\n'; else echo LEAKY-OUTPUT; exit 3; fi\n"
    )
    script.chmod(0o755)
    config(tmp_path, f"{{command: [{script}, show, openrouter]}}")
    assert run("apply", "--yes").code == 0
    assert token(tmp_path) == "cmd-key"
    config(tmp_path, f"{{command: [{script}, show, other]}}")
    result = run("plan")
    assert result.code == 1
    assert result.err == (
        f"llmconf: profiles/p.yaml:2: secret 'or': command `{script} show other` failed (exit 3) (run it yourself to see why)\n"
    )
    assert "LEAKY" not in result.out + result.err


def test_the_environment_override_still_wins(tmp_path, run, monkeypatch):
    config(tmp_path, "{env: OR_KEY}")
    monkeypatch.setenv("LLMCONF_SECRET_OR", "override")
    assert run("apply", "--yes").code == 0
    assert token(tmp_path) == "override"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{env: A, file: b}", "secrets.or: give exactly one of env, file, command, keyring"),
        ("{env: A, key: K}", "secrets.or: 'key' goes with 'file'"),
        (
            "{vault: x}",
            "unknown field 'vault' in secrets.or (valid fields: vars, secrets, profile_paths, strict, claude_code, agents, worktrees, repos)",
        ),
        ("{env: A, username: u}", "secrets.or: 'username' goes with 'keyring'"),
    ],
)
def test_a_bad_source_is_a_located_error(tmp_path, run, source, message):
    config(tmp_path, source)
    result = run("plan")
    assert (result.code, result.err) == (1, f"llmconf: worktrees.yaml:2: {message}\n")


def test_validate_treats_a_failing_source_as_a_warning(tmp_path, run):
    config(tmp_path, "{env: OR_KEY}")
    result = run("validate")
    assert result.code == 0
    assert result.err == (
        "llmconf: warning: secret 'or' is not set on this machine (run 'llmconf secret set or', or export LLMCONF_SECRET_OR)\n"
    )


def test_key_via_helper_with_a_source(tmp_path, run, isolated_home):
    config(tmp_path, "{env: OR_KEY}", PROFILE + "key_via: helper\n")
    os.environ["OR_KEY"] = "helper-env-key"
    try:
        assert run("apply", "--yes").code == 0
        helper = json.loads((tmp_path / "a/.claude/settings.local.json").read_text())["apiKeyHelper"]
        program, *args = shlex.split(helper)
        assert (os.path.isabs(program), args) == (
            True,
            ["-C", str(tmp_path), "secret", "get", "or", "--file", f"{isolated_home}/secrets.env"],
        )
        env = {"PATH": "/usr/bin:/bin", "HOME": str(isolated_home), "OR_KEY": "helper-env-key"}
        out = subprocess.run(["/bin/sh", "-c", helper], env=env, capture_output=True, text=True)
        assert (out.returncode, out.stdout) == (0, "helper-env-key"), out.stderr
    finally:
        del os.environ["OR_KEY"]


def test_validate_never_runs_a_command_source(tmp_path, run):
    """validate gates changes (pre-commit, CI): a command named by the config under review never runs."""
    marker = tmp_path / "ran"
    config(tmp_path, f"{{command: [touch, {marker}]}}")
    assert run("validate").code == 0
    assert not marker.exists()
    run("plan")  # plan runs it: the user chose to run this config
    assert marker.exists()


KEYRING = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}


def test_from_the_os_keychain(tmp_path, isolated_home):
    """As a user runs it: the key stored with keyring, the backend picked by keyring's own env var."""
    env = {**os.environ, **KEYRING, "XDG_DATA_HOME": str(isolated_home / "share")}

    def llmconf(*argv):
        return subprocess.run([sys.executable, "-m", "llmconf", *argv], cwd=tmp_path, env=env, capture_output=True, text=True)

    config(tmp_path, "{keyring: llmconf, username: openrouter}")
    missing = llmconf("plan")
    assert (missing.returncode, missing.stderr) == (
        1,
        "llmconf: profiles/p.yaml:2: secret 'or': keyring service 'llmconf', user 'openrouter' holds nothing "
        "(store it: keyring set llmconf openrouter)\n",
    )
    store = "import keyring, sys; keyring.set_password('llmconf', 'openrouter', sys.stdin.read())"
    subprocess.run([sys.executable, "-c", store], input="kr-key-123", env=env, check=True, text=True)
    applied = llmconf("apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert token(tmp_path) == "kr-key-123"
    assert "kr-key-123" not in applied.stdout + applied.stderr
    # The username defaults to the secret's own name.
    config(tmp_path, "{keyring: llmconf}")
    subprocess.run([sys.executable, "-c", store.replace("'openrouter'", "'or'")], input="kr-or", env=env, check=True, text=True)
    assert llmconf("apply", "--yes").returncode == 0
    assert token(tmp_path) == "kr-or"


def test_without_the_keyring_extra_the_error_says_how_to_install_it(tmp_path, run, monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if not installed
    config(tmp_path, "{keyring: llmconf}")
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        "llmconf: profiles/p.yaml:2: secret 'or' comes from the OS keychain, and the keyring library is not "
        f"installed (install it beside llmconf: {sys.executable} -m pip install keyring)\n",
    )


def test_a_keychain_that_cannot_be_read_is_one_line_naming_the_secret(tmp_path, isolated_home):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "no_such_module.Keyring"}
    config(tmp_path, "{keyring: llmconf}")
    result = subprocess.run([sys.executable, "-m", "llmconf", "plan"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (
        1,
        "llmconf: profiles/p.yaml:2: secret 'or': keyring service 'llmconf', user 'or' could not be read "
        "(ModuleNotFoundError) (check the keychain with: keyring --list-backends)\n",
    )
