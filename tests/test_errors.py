"""Bad input: one clear line naming file:line and what to do, exit 1, nothing on disk changed."""

from __future__ import annotations

import json
import os

import pytest

from llmconf.config.load import shipped_profiles_dir
from llmconf.plan.planner import Planner
from tests.conftest import write_tree
from tests.helpers import assert_unchanged, snapshot_tree

GOOD = {
    "worktrees.yaml": "worktrees:\n  a: gw\n  b: gw\n",
    "profiles/gw.yaml": "base_url: http://127.0.0.1:9\nauth_token: t\nmodels: {sonnet: s}\n",
    "a/.keep": "",
    "b/.keep": "",
}


def planned(name: str) -> str:
    """The plan text for one of GOOD's worktrees."""
    return (
        f"# {name}: {name}/.claude/settings.local.json (profile gw) will be created\n"
        '  + env.ANTHROPIC_BASE_URL             = "http://127.0.0.1:9"\n'
        "  + env.ANTHROPIC_AUTH_TOKEN           = (sensitive)\n"
        '  + env.ANTHROPIC_API_KEY              = ""\n'
        '  + env.ANTHROPIC_DEFAULT_SONNET_MODEL = "s"\n'
        "\n"
    )


def profiles(*local: str) -> str:
    """The profile names an unknown-profile error lists: the shipped ones and `local`."""
    return ", ".join(sorted({p.stem for p in shipped_profiles_dir().glob("*.yaml")} | set(local)))


def check(run, root, argv, expected_err, files=None):
    write_tree(root, {**GOOD, **(files or {})})
    before = snapshot_tree(root)
    for command in (["plan"], ["apply", "--yes"]) if argv is None else [argv]:
        result = run(*command)
        assert result.code == 1, result
        # An error in the profile both worktrees use is printed once, naming them (test_errors_once.py).
        assert result.err.splitlines()[0].replace(" (in 2 worktrees: a, b)", "", 1) == expected_err
        assert "Traceback" not in result.err
        assert_unchanged(before, root)


def test_malformed_worktrees_yaml(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: worktrees.yaml:3: invalid YAML: a tab in the indentation (YAML indents with spaces only) (replace the tab with spaces)",
        {"worktrees.yaml": "worktrees:\n  a: gw\n\tb: gw\n"},
    )


def test_malformed_profile_yaml(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:3: invalid YAML: did not find expected node content (fix the syntax there)",
        {"profiles/gw.yaml": "base_url: x\nmodels: [\n"},
    )


def test_duplicate_key(tmp_path, run):
    check(
        run, tmp_path, None,
        'llmconf: worktrees.yaml:3: invalid YAML: found duplicate key "a" with value "gw" (original value: "gw") (fix the syntax there)',
        {"worktrees.yaml": "worktrees:\n  a: gw\n  a: gw\n"},
    )


def test_unknown_profile_suggests_closest(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: worktrees.yaml:3: unknown profile 'gww' (did you mean 'gw'?)",
        {"worktrees.yaml": "worktrees:\n  a: gw\n  b: gww\n"},
    )


def test_unknown_field_in_profile(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:2: unknown field 'modles' (did you mean 'models'?)",
        {"profiles/gw.yaml": "base_url: http://x\nmodles: {sonnet: s}\n"},
    )


def test_unknown_field_in_worktree_entry(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: worktrees.yaml:5: unknown field 'modle' in worktrees.b (did you mean 'models'?)",
        {"worktrees.yaml": "worktrees:\n  a: gw\n  b:\n    profile: gw\n    modle: {sonnet: x}\n"},
    )


def test_unknown_slot(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:2: unknown model slot 'sonet' (did you mean 'sonnet'?)",
        {"profiles/gw.yaml": "models:\n  sonet: s\n"},
    )


def test_backend_var_in_env_points_to_its_field(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:2: env.ANTHROPIC_BASE_URL: set ANTHROPIC_BASE_URL with the 'base_url' field, not env",
        {"profiles/gw.yaml": "env:\n  ANTHROPIC_BASE_URL: http://x\n"},
    )


def test_extends_cycle(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/y.yaml:1: 'extends' cycle: gw -> x -> y -> x (break the cycle)",
        {"profiles/gw.yaml": "extends: x\n", "profiles/x.yaml": "extends: y\n", "profiles/y.yaml": "extends: x\n"},
    )


def test_template_error(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:2: template error in env.TEAM: 'dict object' has no attribute 'team' "
        "(templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))",
        {"profiles/gw.yaml": "env:\n  TEAM: '{{ vars.team }}'\n"},
    )


def test_template_syntax_error(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:1: template error in base_url: unexpected '}' "
        "(templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))",
        {"profiles/gw.yaml": "base_url: '{{ } }}'\n"},
    )


def test_missing_secret_names_profile_secret_and_command(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:2: profile 'gw' needs secret 'openrouter', which is not set "
        "(run 'llmconf secret set openrouter', or export LLMCONF_SECRET_OPENROUTER)",
        {"profiles/gw.yaml": "base_url: http://x\nauth_token: \"{{ secret('openrouter') }}\"\n"},
    )


def test_token_without_gateway(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:1: auth_token is set but base_url is not "
        "(a token only goes to a gateway: set base_url, or drop auth_token)",
        {"profiles/gw.yaml": "auth_token: t\n"},
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{\n  "env": {\n    "A": "1",\n  }\n}\n',
            "a/.claude/settings.local.json:4: invalid JSON: Expecting property name enclosed in double quotes (column 3) "
            "(JSON allows no comma after the last member: remove it; llmconf never overwrites a file it cannot parse)",
        ),
        (
            "[1, 2]\n",
            "a/.claude/settings.local.json:1: expected a JSON object, found list (llmconf never overwrites it; fix it by hand)",
        ),
    ],
)
def test_unparseable_settings_file_is_never_overwritten(tmp_path, run, text, message):
    write_tree(tmp_path, {**GOOD, "a/.claude/settings.local.json": text})
    before = snapshot_tree(tmp_path)
    plan = run("plan")
    assert plan.code == 1
    assert plan.err == f"llmconf: {message}\n"
    assert plan.out == (  # the others still planned
        planned("b") + "Plan: 4 to add, 0 to change, 0 to remove (in 1 file); 1 worktree could not be planned (errors below).\n"
    )
    apply = run("apply", "--yes")
    assert (apply.code, apply.out) == (1, plan.out)
    assert apply.err == f"llmconf: {message}\nllmconf: nothing written: fix the errors above, or name the other worktrees\n"
    assert_unchanged(before, tmp_path)


def test_missing_worktree_folder_reported_others_planned(tmp_path, run):
    write_tree(tmp_path, {**GOOD, "worktrees.yaml": "worktrees:\n  a: gw\n  gone: gw\n"})
    before = snapshot_tree(tmp_path)
    plan = run("plan")
    assert plan.code == 1
    assert plan.err == "llmconf: worktrees.yaml:3: worktree folder gone does not exist (create it, or remove the entry)\n"
    assert plan.out == (
        planned("a") + "Plan: 4 to add, 0 to change, 0 to remove (in 1 file); 1 worktree could not be planned (errors below).\n"
    )
    assert run("apply", "--yes").code == 1
    assert_unchanged(before, tmp_path)
    assert run("apply", "a", "--yes").code == 0  # the healthy one can still be applied by name


def test_no_config_found(tmp_path, run):
    result = run("plan")
    assert result.code == 1
    assert result.err == f"llmconf: no worktrees.yaml in {tmp_path} or any folder above it (run 'llmconf init' to start one, or pass -C DIR)\n"


def test_usage_error_exits_1(tmp_path, run, capsys):
    with pytest.raises(SystemExit) as exc:
        run("plan", "--frobnicate")
    assert exc.value.code == 1


def test_internal_error_exit_3_traceback_only_with_debug(tmp_path, run, monkeypatch):
    write_tree(tmp_path, GOOD)

    def boom(self, decls):
        raise RuntimeError(f"internal detail {os.getpid()}")

    monkeypatch.setattr(Planner, "plan", boom)
    quiet = run("plan")
    assert (quiet.code, quiet.err) == (3, "llmconf: internal error: RuntimeError (run with --debug for a traceback)\n")
    loud = run("plan", "--debug")
    lines = loud.err.splitlines()
    assert (loud.code, loud.out) == (3, "")
    assert (lines[0], lines[-1]) == ("Traceback (most recent call last):", f"RuntimeError: internal detail {os.getpid()}")


def test_changed_between_plan_and_write_is_refused(tmp_path, run, monkeypatch):
    write_tree(tmp_path, {**GOOD, "a/.claude/settings.local.json": "{}\n"})
    real_plan = Planner.plan

    def plan_then_edit(self, decls):
        plan = real_plan(self, decls)
        (tmp_path / "a/.claude/settings.local.json").write_text('{"mine": 1}\n')
        return plan

    monkeypatch.setattr(Planner, "plan", plan_then_edit)
    result = run("apply", "a", "--yes")
    assert result.code == 1
    assert result.err == (
        "llmconf: a/.claude/settings.local.json: changed on disk since the plan was made; nothing written to it "
        "(run the command again)\n"
    )
    assert json.loads((tmp_path / "a/.claude/settings.local.json").read_text()) == {"mine": 1}


def test_corrupt_state_file(tmp_path, run, isolated_home):
    write_tree(tmp_path, GOOD)
    state = isolated_home / ".local/state/llmconf/state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{not json")
    result = run("plan")
    assert result.code == 1
    assert result.err == (
        f"llmconf: {state}: state file is corrupt or from another version "
        "(move it aside; llmconf then re-learns what it owns on the next apply)\n"
    )


def test_env_that_is_not_an_object_is_never_overwritten(tmp_path, run):
    write_tree(tmp_path, {**GOOD, "a/.claude/settings.local.json": '{"env": ["A=1"]}\n'})
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "llmconf: a/.claude/settings.local.json: 'env' is not a JSON object (fix it by hand; llmconf will not overwrite it)"
    )
    assert_unchanged(before, tmp_path)


def test_profile_name_cannot_be_a_path(tmp_path, run):
    write_tree(tmp_path, {**GOOD, "worktrees.yaml": "worktrees:\n  a: ../gw\n", "gw.yaml": "models: {sonnet: s}\n"})
    result = run("plan")
    assert result.code == 1
    assert result.err == f"llmconf: worktrees.yaml:2: unknown profile '../gw' (profiles: {profiles('gw')})\n"


def test_settings_path_is_a_directory(tmp_path, run):
    (tmp_path / "a/.claude/settings.local.json").mkdir(parents=True)
    check(
        run, tmp_path, None,
        "llmconf: a/.claude/settings.local.json: is a directory, not a settings file (move it out of the way)",
    )


def test_unreadable_settings_file(tmp_path, run, monkeypatch):
    import os

    write_tree(tmp_path, {**GOOD, "a/.claude/settings.local.json": "{}\n"})
    real = os.open

    def os_open(path, *args, **kwargs):  # llmconf.fs reads a settings file through os.open
        if os.path.basename(path) == "settings.local.json":
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)  # root reads anything: simulate it
    check(
        run, tmp_path, None,
        "llmconf: a/.claude/settings.local.json: permission denied reading it (fix its permissions (chmod u+rw))",
    )


def test_unwritable_folder_is_found_before_anything_is_written(tmp_path, run, monkeypatch):
    from llmconf import fs

    real = os.access
    monkeypatch.setattr(fs.os, "access", lambda p, mode: False if str(p).endswith("/b") else real(p, mode))
    write_tree(tmp_path, GOOD)
    before = snapshot_tree(tmp_path)
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"llmconf: b/.claude/settings.local.json: cannot write in {tmp_path / 'b'} (permission denied) "
        "(fix the folder's permissions, then plan again)"
    )
    assert_unchanged(before, tmp_path)  # a was not written either


def test_template_cannot_escape_the_sandbox(tmp_path, run):
    check(
        run, tmp_path, None,
        "llmconf: profiles/gw.yaml:2: template error in env.X: access to attribute '__class__' of 'str' object is unsafe. "
        "(templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))",
        {"profiles/gw.yaml": "env:\n  X: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n"},
    )


def test_loose_secrets_file_is_a_warning(tmp_path, run, isolated_home):
    write_tree(tmp_path, {**GOOD, "profiles/gw.yaml": "base_url: http://x\nauth_token: \"{{ secret('k') }}\"\n"})
    secrets = isolated_home / "secrets.env"
    secrets.write_text('k="v"\n')
    os.chmod(secrets, 0o644)
    result = run("plan")
    assert result.code == 0
    assert result.err == f"llmconf: warning: {secrets} can be read by other users (mode 644); run: chmod 600 {secrets}\n"


def test_a_shared_claude_folder_is_one_target(tmp_path, run):
    """Found in review: two worktrees whose .claude is one folder (a symlink) flipped it forever."""
    write_tree(tmp_path, {**GOOD, "a/.claude/.keep": ""})
    (tmp_path / "b/.claude").symlink_to(tmp_path / "a/.claude")
    result = run("plan")
    assert result.code == 1
    assert result.err == (
        "llmconf: worktrees.yaml:3: worktree 'b' writes the same settings file as 'a' (through a symlink) (list it once)\n"
    )


def test_use_checks_the_profile_before_writing(tmp_path, run):
    write_tree(tmp_path, {**GOOD, "profiles/bad.yaml": "modles: {}\n"})
    result = run("use", "bad", "a", "--apply", "--yes")
    assert result.code == 1
    assert result.err == "llmconf: profiles/bad.yaml:1: unknown field 'modles' (did you mean 'models'?)\n"
    assert (tmp_path / "worktrees.yaml").read_text() == GOOD["worktrees.yaml"]


def test_init_quotes_a_folder_name_yaml_would_misread(tmp_path, run):
    write_tree(tmp_path, {"my repo #2/.keep": ""})
    assert run("init", "my repo #2").code == 0
    assert (tmp_path / "worktrees.yaml").read_text().splitlines()[-2:] == ["worktrees:", '  "my repo #2": anthropic']
    assert run("plan").code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--out", "."], ".: is a directory, not a regular file; nothing written (llmconf writes only regular files: remove it or name another path)"),
        (
            ["secret", "set", "x", "--file", "/proc/nope/s"],
            "/proc/nope/s: cannot be written: the folder /proc/nope does not exist (create that folder first; llmconf makes no folder there)",
        ),
    ],
)
def test_unwritable_outputs_are_errors_not_crashes(tmp_path, run, argv, message):
    write_tree(tmp_path, GOOD)
    result = run(*argv, stdin="v")
    assert (result.code, result.err) == (1, f"llmconf: {message}\n")


def test_a_file_that_is_not_a_complete_plan(tmp_path, run):
    write_tree(tmp_path, {**GOOD, "p.plan": '{"kind": "llmconf-saved-plan", "version": 1}'})
    result = run("apply", "p.plan")
    assert (result.code, result.err) == (1, "llmconf: p.plan: not a saved llmconf plan (make one with 'llmconf plan --out FILE')\n")


def test_a_template_error_after_reading_a_secret_shows_no_detail(tmp_path, run, store_secret):
    store_secret("k", "sk-abc")
    write_tree(tmp_path, {**GOOD, "profiles/gw.yaml": "env:\n  X: \"{{ vars[secret('k') | upper] }}\"\n"})
    result = run("plan")
    assert result.code == 1
    assert "SK-ABC" not in result.err and "sk-abc" not in result.err
    hidden = (
        "llmconf: profiles/gw.yaml:2: template error in env.X: UndefinedError (details hidden: this template reads a secret) "
        "(in 2 worktrees: a, b) (templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))"
    )
    assert result.err.splitlines() == [hidden]  # a and b, once


def test_a_colon_in_a_flow_mapping_value_loads_as_yaml_1_2_says(tmp_path, run):
    """The issue's own example: libyaml (YAML 1.1) rejects it; llmconf reads it as YAML 1.2 does."""
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: p\n",
            "profiles/p.yaml": "models: {haiku: mistralai/devstral-2512, sonnet: qwen/qwen3-coder:exacto}\n",
            "a/.keep": "",
        },
    )
    result = run("apply", "--yes")
    assert result.code == 0, result.err
    env = json.loads((tmp_path / "a/.claude/settings.local.json").read_text())["env"]
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "qwen/qwen3-coder:exacto"


def test_a_plan_with_an_error_never_reads_as_all_in_sync(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n  b: nope\n", "a/.keep": "", "b/.keep": ""})
    result = run("plan")
    assert result.code == 1
    assert result.out == "No changes; 1 worktree could not be planned (errors below).\n"
    assert result.err == f"llmconf: worktrees.yaml:3: unknown profile 'nope' (profiles: {profiles()})\n"


def test_status_of_a_worktree_that_failed_to_render_shows_unknowns_and_the_error(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: openrouter\n", "a/.keep": ""})
    result = run("status")
    assert result.code == 1
    row = result.out.splitlines()[1].split()
    assert row == ["a", "openrouter", "?", "?", "?", "?", "?", "-", "error", "-"]
    doc = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (doc["backend"], doc["state"], doc["effective"]) == ("?", "error", "-")
    assert doc["error"] == (
        f"{shipped_profiles_dir()}/openrouter-base.yaml:5: profile 'openrouter' needs secret 'openrouter', which is not set "
        "(run 'llmconf secret set openrouter', or export LLMCONF_SECRET_OPENROUTER)"
    )


def test_a_control_character_in_a_diagnostic_is_shown_escaped_on_one_line(tmp_path, run):
    """An error quotes what it was given (here a -C path): an escape sequence or a newline there
    never reaches the terminal as such."""
    result = run("-C", "\x1b[31mred\nx", "plan")
    assert (result.code, result.err) == (1, "llmconf: \\x1b[31mred\\x0ax/worktrees.yaml: file not found\n")
