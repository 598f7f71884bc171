"""llmconf secret: values go in through stdin, are stored verbatim in a 0600 file, never come out."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import SECRET


def store(isolated_home):
    return isolated_home / "secrets.env"


def test_set_list_rm(run, isolated_home):
    result = run("secret", "set", "openrouter", stdin=SECRET + "\n")
    assert result.code == 0
    assert result.out == f"Stored secret 'openrouter' in {store(isolated_home)} (0600).\n"
    assert run("secret", "set", "zai", stdin="k2").code == 0
    listed = run("secret", "list")
    assert listed.out == "openrouter\nzai\n"
    assert stat.S_IMODE(store(isolated_home).stat().st_mode) == 0o600
    assert run("secret", "rm", "zai").out == "Removed secret 'zai'.\n"
    assert run("secret", "list").out == "openrouter\n"
    missing = run("secret", "rm", "zai")
    assert missing.code == 1
    assert missing.err == f"llmconf: {store(isolated_home)}: no secret named 'zai' (see 'llmconf secret list')\n"


def test_default_location_is_private(run, isolated_home, monkeypatch):
    monkeypatch.delenv("LLMCONF_SECRETS_FILE")
    assert run("secret", "set", "k", stdin="v").code == 0
    path = isolated_home / ".config" / "llmconf" / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("value", [SECRET, "line1\nline2", "  spaced  ", "tab\there", "ünïcode-ключ", "trailing\\"])
def test_value_round_trips_verbatim(run, tmp_path, value):
    from llmconf.secrets.store import SecretStore

    assert run("secret", "set", "x", stdin=value + "\n").code == 0
    assert SecretStore().get("x") == value


def test_only_one_trailing_newline_stripped(run):
    from llmconf.secrets.store import SecretStore

    run("secret", "set", "x", stdin="abc\n\n")
    assert SecretStore().get("x") == "abc\n"
    run("secret", "set", "y", stdin="abc\r\n")
    assert SecretStore().get("y") == "abc"


def test_hidden_prompt_on_a_terminal(run, monkeypatch):
    import getpass

    from llmconf.secrets.store import SecretStore

    monkeypatch.setattr(getpass, "getpass", lambda prompt, stream=None: "typed-" + prompt[:5])
    assert run("secret", "set", "x", tty=True).code == 0
    assert SecretStore().get("x") == "typed-Value"


def test_empty_value_refused(run, isolated_home):
    result = run("secret", "set", "x", stdin="\n")
    assert (result.code, result.err) == (1, "llmconf: empty value for secret 'x'; nothing stored (pipe the value on stdin)\n")
    assert not store(isolated_home).exists()


def test_never_from_argv(run):
    with pytest.raises(SystemExit) as exc:
        run("secret", "set", "x", "the-value")
    assert exc.value.code == 1


def test_invalid_name(run):
    result = run("secret", "set", "../evil", stdin="v")
    assert result.code == 1
    assert result.err == (
        "llmconf: invalid secret name '../evil' (use letters, digits, '.', '_' and '-', starting with a letter or digit)\n"
    )


def test_malformed_store_line_is_located_but_not_echoed(run, isolated_home):
    store(isolated_home).write_text('ok="1"\nbroken sk-or-v1-LEAKED\n')
    result = run("secret", "list")
    assert result.code == 1
    assert result.err == (
        f"llmconf: {store(isolated_home)}:2: malformed secret line "
        "(expected NAME=\"value\"; fix or 'llmconf secret rm' it)\n"
    )
    assert "LEAKED" not in result.err


def test_environment_override_name(monkeypatch):
    from llmconf.secrets.store import SecretStore, env_var

    assert env_var("open-router.v2") == "LLMCONF_SECRET_OPEN_ROUTER_V2"
    monkeypatch.setenv("LLMCONF_SECRET_OPEN_ROUTER_V2", "from-env")
    assert SecretStore().get("open-router.v2") == "from-env"
    assert not os.path.exists(SecretStore().path)  # read from the environment, store untouched


KEY_SHAPES = [
    "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "0123456789abcdef0123456789abcdef.AbCdEfGhIjKlMnOp",  # z.ai
    "AIzaSyA0123456789abcdefghijklmnopqrstu",
]


@pytest.mark.parametrize("key", KEY_SHAPES)
def test_the_old_save_key_habit_never_echoes_the_key(run, key, capsys):
    """`save-openrouter-key.sh KEY` becomes `llmconf secret set openrouter KEY`: refused, unprinted."""
    from llmconf import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["secret", "set", "openrouter", key])
    out, err = capsys.readouterr()
    assert key not in out + err
    assert (exc.value.code, out) == (1, "")
    assert err.splitlines()[-1] == (
        "llmconf: unrecognized arguments: (sensitive); a key is never an argument: pipe it in, as in "
        'printf %s "$KEY" | llmconf secret set NAME'
    )
    assert run("secret", "list").out == ""


@pytest.mark.parametrize("key", KEY_SHAPES)
def test_a_key_is_never_a_secret_name(run, key):
    result = run("secret", "set", key, stdin="value\n")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "llmconf: that looks like an API key, not a secret's name; nothing stored (and it is not shown) "
        '(name the secret and pipe the key in: printf %s "$KEY" | llmconf secret set openrouter)\n'
    )
    assert run("secret", "list").out == ""
    assert key not in run("secret", "rm", key).err
