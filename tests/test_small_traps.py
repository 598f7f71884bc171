"""Small traps from the reviews (issues 13 and 18): each drives the CLI and asserts the exact line."""

from __future__ import annotations

import json

import pytest

from llmconf import cli
from tests.conftest import write_tree


@pytest.mark.parametrize(
    ("argv", "hint"),
    [(["switch", "deepseek"], "did you mean 'use'?"), (["diff"], "did you mean 'plan'?"), (["stauts"], "did you mean 'status'?")],
)
def test_other_tools_command_names_get_a_did_you_mean(argv, hint, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps the usage line at the terminal's width
    sub = next(a for a in cli._parser()._actions if isinstance(a, cli.argparse._SubParsersAction))
    commands = ", ".join(f"'{name}'" for name in sub.choices)  # argparse's own list
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 1
    assert capsys.readouterr().err == (
        "usage: llmconf [-h] [-C DIR] [--no-color] [--debug] [--version] COMMAND ...\n"
        f"llmconf: argument COMMAND: invalid choice: '{argv[0]}' (choose from {commands}) ({hint})\n"
    )


def test_a_hidden_profile_name_is_not_suggested_as_itself(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: .hidden\n", "profiles/.hidden.yaml": "base_url: http://x\n", "a/.keep": ""})
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        "llmconf: worktrees.yaml:2: unknown profile '.hidden' "
        "(profiles/.hidden.yaml is a hidden file, never loaded as a profile: rename it to hidden.yaml)\n",
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_a_lock_timeout_that_would_wait_forever_is_refused(tmp_path, run, monkeypatch, value):
    monkeypatch.setenv("LLMCONF_LOCK_TIMEOUT", value)
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n", "a/.keep": ""})
    result = run("apply", "--yes")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        f"llmconf: LLMCONF_LOCK_TIMEOUT must be a number of seconds from 0 to 3600 (got '{value}') "
        "(unset it for the default of 10 s)\n",
    )


@pytest.mark.parametrize("folder", ["0x1F", "0o17", "1e3", "2024-01-01", "yes", "007"])
def test_use_declares_a_folder_whose_name_yaml_would_read_as_another_type(tmp_path, run, folder):
    """Found in review: `use` wrote `0x1F: p` unquoted, which YAML reads back as the number 31."""
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n", "profiles/p.yaml": "models: {haiku: a/b}\n", f"{folder}/.keep": ""})
    result = run("use", "p", folder)
    assert (result.code, result.out) == (0, f"{folder}: now uses profile 'p'.\nRun 'llmconf apply' to write the settings files.\n")
    status = run("status", "--json")
    assert [(w["worktree"], w["profile"]) for w in json.loads(status.out)["worktrees"]] == [(folder, "p")]


@pytest.mark.parametrize("name", ["0x1F", "1e3", "true"])
def test_use_switches_to_a_profile_whose_name_yaml_would_read_as_another_type(tmp_path, run, name):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "{}\n", f"profiles/{name}.yaml": "models: {haiku: a/b}\n", "a/.keep": ""})
    assert run("use", name, "a").code == 0
    assert (tmp_path / "worktrees.yaml").read_text() == f'worktrees:\n  a: "{name}"\n'
    assert run("plan").out.splitlines()[0] == f"# a: a/.claude/settings.local.json (profile {name}) will be created"


def test_a_file_holding_a_key_that_others_can_read_is_made_0600_and_plan_says_so(tmp_path, run, store_secret):
    """Trap 4 of issue 13: an imported (or hand-made) 0644 file with the key in it."""
    import os
    import stat

    store_secret("gw", "sk-test-value")
    write_tree(
        tmp_path,
        {
            "profiles/gw.yaml": "base_url: http://gw\nauth_token: \"{{ secret('gw') }}\"\nmodels: {haiku: m/h, sonnet: m/s, opus: m/o}\n",
            "worktrees.yaml": "worktrees:\n  wt: gw\n",
            "wt/.keep": "",
        },
    )
    assert run("apply", "--yes").code == 0
    settings = tmp_path / "wt/.claude/settings.local.json"
    before = settings.read_text()
    os.chmod(settings, 0o644)
    result = run("plan", "--detailed-exitcode")
    assert (result.code, result.out) == (
        2,
        "# wt: wt/.claude/settings.local.json (profile gw) will be updated\n"
        "  ~ file mode 0644 -> 0600 (it holds a key)\n"
        "\n"
        "Plan: 0 to add, 0 to change, 0 to remove, 1 file mode to 0600 (in 1 file).\n",
    )
    assert json.loads(run("plan", "--json").out)["worktrees"][0]["mode"] == {"before": "0644", "after": "0600"}
    assert json.loads(run("status", "--json").out)["worktrees"][0]["state"] == "drifted"
    assert "  warning: wt/.claude/settings.local.json: holds a key, and others can read it (mode 0644) (run 'llmconf apply', which makes it 0600)" in run("doctor").out.splitlines()
    applied = run("apply", "--yes")
    assert (applied.code, applied.out.splitlines()[-1]) == (0, "Apply complete: 0 added, 0 changed, 0 removed, 1 file mode made 0600 (in 1 file).")
    assert (stat.S_IMODE(settings.stat().st_mode), settings.read_text()) == (0o600, before)
    assert run("plan").out == "No changes.\n"
    # A file with no key in it keeps the mode its owner gave it.
    (tmp_path / "profiles/gw.yaml").write_text("base_url: http://gw\nmodels: {haiku: m/h, sonnet: m/s, opus: m/o}\n")
    assert run("apply", "--yes").code == 0
    os.chmod(settings, 0o644)
    assert (run("plan").out, stat.S_IMODE(settings.stat().st_mode)) == ("No changes.\n", 0o644)


@pytest.mark.parametrize(
    "argv",
    [
        ["plan"],
        ["-C", "plan", "status", "--json"],  # plan is -C's value: the command is status
        ["--no-color", "use", "deepseek", "../wt-a", "--apply", "--yes", "--model", "sonnet=x"],
        ["secret", "set", "openrouter"],
        ["-Cdir", "doctor", "--online"],
        [],
    ],
)
def test_the_parser_built_for_one_command_parses_as_the_whole_one(argv):
    # _parse builds the arguments of the command it finds in argv alone; the result must be the whole parser's.
    whole, extra = cli._parser().parse_known_args(argv)
    assert extra == []
    assert cli._parse(argv) == whole


@pytest.mark.parametrize("wrong", ["status", None])
def test_a_wrong_guess_of_the_command_parses_again_with_the_whole_parser(wrong, monkeypatch):
    argv = ["-C", "x", "use", "deepseek", "../wt-a", "--apply"]
    whole, _ = cli._parser().parse_known_args(argv)
    monkeypatch.setattr(cli, "_command_in", lambda argv: wrong)
    assert cli._parse(argv) == whole
