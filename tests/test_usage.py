"""Usage errors teach (issue 13, trap 12): a subcommand's own usage, the actions of a command
that needs one, and git-hook's run listed."""

from __future__ import annotations

import pytest

from llmconf import cli


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 1
    return capsys.readouterr().err


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # argparse wraps usage lines at the terminal's width


def test_an_unknown_option_shows_the_usage_of_the_command_it_was_given_to(capsys):
    assert _usage_error(["plan", "--bogus"], capsys) == (
        "usage: llmconf plan [-h] [-C DIR] [--no-color] [--debug] [--detailed-exitcode] [--json] [--out FILE] [--strict] [WORKTREE ...]\n"
        "llmconf: unrecognized arguments: --bogus\n"
    )
    assert _usage_error(["secret", "list", "extra"], capsys) == (
        "usage: llmconf secret list [-h] [-C DIR] [--no-color] [--debug] [--file PATH]\nllmconf: unrecognized arguments: extra\n"
    )
    assert _usage_error(["--bogus"], capsys).startswith("usage: llmconf [-h]")


@pytest.mark.parametrize(
    ("command", "actions"), [("secret", "set, list, rm, get"), ("git-hook", "install, uninstall, run")]
)
def test_a_command_without_its_action_lists_the_actions(capsys, command, actions):
    assert _usage_error([command], capsys) == (
        f"usage: llmconf {command} [-h] [-C DIR] [--no-color] [--debug] ACTION ...\n"
        f"llmconf: the following arguments are required: ACTION (one of: {actions}; "
        f"'llmconf {command} --help' says more)\n"
    )


def test_git_hook_help_lists_run(capsys):
    with pytest.raises(SystemExit):
        cli.main(["git-hook", "--help"])
    assert "    run       what the installed hook calls; add it to a shared hooks folder yourself (see --help)\n" in (
        capsys.readouterr().out
    )


def test_a_key_given_as_an_argument_is_still_never_echoed(capsys):
    err = _usage_error(["secret", "set", "openrouter", "sk-or-v1-abcdefabcdefabcdefabcdef0123"], capsys)
    assert "abcdef" not in err
    assert err.endswith(
        "llmconf: unrecognized arguments: (sensitive); a key is never an argument: pipe it in, "
        "as in printf %s \"$KEY\" | llmconf secret set NAME\n"
    )
