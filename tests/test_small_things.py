"""Smaller things (issue 13, trap 12), each as a user meets it: a tab in YAML, a JSONC habit in a
settings file, a mistyped secret name, and the .claude/ folder llmconf leaves empty."""

from __future__ import annotations

import pytest

from tests.conftest import write_tree
from tests.helpers import snapshot_tree


@pytest.mark.parametrize(
    ("text", "line"),
    [("worktrees:\n\ta: anthropic\n", 2), ("worktrees:\n  a:\n\tprofile: anthropic\n", 3), ("worktrees:\n \t a: anthropic\n", 2)],
)
def test_a_tab_in_yaml_indentation_is_named_as_a_tab(tmp_path, run, text, line):
    write_tree(tmp_path, {"worktrees.yaml": text, "a/.keep": ""})
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        f"llmconf: worktrees.yaml:{line}: invalid YAML: a tab in the indentation (YAML indents with spaces only) "
        "(replace the tab with spaces)\n",
    )


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        ('{"env": {"A": "1",}}', "1: invalid JSON: Expecting property name enclosed in double quotes (column 19)", "JSON allows no comma after the last member: remove it"),
        ('{"a": [1, 2,]}', "1: invalid JSON: Expecting value (column 13)", "JSON allows no comma after the last member: remove it"),
        ('{"a": 1,\n}', "2: invalid JSON: Expecting property name enclosed in double quotes (column 1)", "JSON allows no comma after the last member: remove it"),
        ("// my settings\n{}", "1: invalid JSON: Expecting value (column 1)", "JSON has no comments: remove it"),
        ('{"env": {}, /* old */ "a": 1}', "1: invalid JSON: Expecting property name enclosed in double quotes (column 13)", "JSON has no comments: remove it"),
        ('{"a": tru}', "1: invalid JSON: Expecting value (column 7)", "fix it by hand"),
    ],
)
def test_a_trailing_comma_or_a_comment_in_a_settings_file_is_named(tmp_path, run, text, where, hint):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n", "a/.claude/settings.local.json": text})
    before = snapshot_tree(tmp_path)
    for argv in (("plan",), ("apply", "--yes")):
        result = run(*argv)
        assert result.code == 1
        assert result.err.splitlines()[0] == (
            f"llmconf: a/.claude/settings.local.json:{where} ({hint}; llmconf never overwrites a file it cannot parse)"
        )
    assert snapshot_tree(tmp_path) == before


def test_a_mistyped_secret_name_gets_the_stored_name(tmp_path, run, store_secret):
    store_secret("openrouter", "sk-or-v1-stored")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: p\n",
            "profiles/p.yaml": "base_url: http://127.0.0.1:9/api\nauth_token: \"{{ secret('openroutr') }}\"\n",
            "a/.keep": "",
        },
    )
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        "llmconf: profiles/p.yaml:2: profile 'p' needs secret 'openroutr', which is not set (did you mean 'openrouter'? "
        "If not: run 'llmconf secret set openroutr', or export LLMCONF_SECRET_OPENROUTR)\n",
    )
    assert "sk-or-v1-stored" not in result.out + result.err


def test_the_claude_folder_llmconf_leaves_empty_goes_with_its_file(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n  b: p\n", "profiles/p.yaml": "models: {sonnet: m/s}\n"})
    write_tree(tmp_path, {"a/.keep": "", "b/.claude/settings.json": "{}\n"})  # b's .claude holds the project's file too
    assert run("apply", "--yes").code == 0
    assert (tmp_path / "a/.claude/settings.local.json").exists()
    (tmp_path / "worktrees.yaml").write_text("worktrees:\n  a: anthropic\n  b: anthropic\n")
    result = run("apply", "--yes")
    assert result.code == 0, result.err
    assert not (tmp_path / "a/.claude").exists()  # llmconf made it, and it is empty now
    assert sorted(p.name for p in (tmp_path / "b/.claude").iterdir()) == ["settings.json"]


def test_plan_refuses_what_apply_would_refuse_in_a_file_with_a_duplicate_key(tmp_path, run):
    """Found by test_fuzz_cli: plan said 0 while apply refused to drop a duplicate key."""
    text = '{"env": {"ANTHROPIC_BASE_URL": "http://a", "ANTHROPIC_BASE_URL": "http://b", "KEEP": "1"}}\n'
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n  b: anthropic\n", "a/.claude/settings.local.json": text, "b/.keep": ""})
    before = snapshot_tree(tmp_path)
    refusal = (
        "llmconf: a/.claude/settings.local.json: has the key 'ANTHROPIC_BASE_URL' twice in one object, and this change "
        "cannot be made without dropping one; nothing written (merge the duplicates by hand (Claude Code reads only "
        "the last), then run again)"
    )
    plan = run("plan")
    assert (plan.code, plan.err.splitlines()) == (1, [refusal])
    applied = run("apply", "--yes")
    assert (applied.code, applied.err.splitlines()[0]) == (1, refusal)
    assert snapshot_tree(tmp_path) == before


def test_a_damaged_store_fails_every_read_alike_never_half_read(tmp_path, run, isolated_home):
    """The store is read whole or not at all: once a line failed, no later read in the run may
    see the lines before it (a `set` would write that half back)."""
    store = isolated_home / "secrets.env"
    store.write_text('gw="sk-before-the-bad-line"\nthis line is not NAME="value"\n')
    store.chmod(0o600)
    profile = "base_url: http://127.0.0.1:9/api\nauth_token: \"{{ secret('gw') }}\"\n"
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n  b: p\n", "profiles/p.yaml": profile, "a/.keep": "", "b/.keep": ""})
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        f"llmconf: profiles/p.yaml:2: {store}:2: malformed secret line (in 2 worktrees: a, b) "
        "(expected NAME=\"value\"; fix or 'llmconf secret rm' it)\n",
    )
    assert "sk-before" not in result.out + result.err


def test_a_lint_warning_never_quotes_a_key_pasted_as_a_literal(tmp_path, run):
    key = "sk-or-v1-" + "0123456789abcdef" * 4
    profile = f"base_url: https://openrouter.ai/api\nmodels: {{haiku: 'vendor/{key}', sonnet: qwen/qwen3-codr, opus: z-ai/glm-4.7}}\n"
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": profile, "a/.keep": ""})
    for argv in (("plan",), ("validate",)):
        result = run(*argv)
        assert key not in result.out + result.err and key[9:25] not in result.out + result.err
        assert "LC101 models.sonnet: unknown model ID 'qwen/qwen3-codr'" in result.err  # the plain one is still linted
