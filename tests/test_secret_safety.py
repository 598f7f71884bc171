"""Keys stay out of git and out of settings files: tracked-file refusal and key_via: helper."""

from __future__ import annotations

import json
import os
import shlex
import subprocess

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import git, ignore_settings

HELPER_PROFILE = """\
base_url: http://127.0.0.1:9/api
auth_token: "{{ secret('openrouter') }}"
key_via: helper
models: {sonnet: s-1}
"""


@pytest.fixture
def tracked(tmp_path, store_secret):
    store_secret()
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  repo: openrouter\n", "repo/.claude/settings.local.json": "{}\n"})
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".claude/settings.local.json")
    return tmp_path


def test_secret_never_written_into_a_tracked_file(tracked, run):
    settings = tracked / "repo/.claude/settings.local.json"
    result = run("apply", "--yes")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "llmconf: repo/.claude/settings.local.json: git tracks this file; llmconf will not write a secret into it "
        "(git-ignore .claude/settings.local.json and 'git rm --cached' it, "
        "or set allow_tracked_secret: true on 'repo' in worktrees.yaml)"
    )
    assert settings.read_text() == "{}\n"


def test_tracked_file_allowed_when_the_entry_says_so(tracked, run):
    (tracked / "worktrees.yaml").write_text("worktrees:\n  repo:\n    profile: openrouter\n    allow_tracked_secret: true\n")
    assert run("apply", "--yes").code == 0
    assert json.loads((tracked / "repo/.claude/settings.local.json").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET


def test_untracked_and_ignored_file_in_a_repo_is_fine(tracked, run):
    git(tracked / "repo", "rm", "-q", "--cached", ".claude/settings.local.json")
    ignore_settings(tracked / "repo")
    assert run("apply", "--yes").code == 0


def test_key_via_helper_keeps_the_key_out_of_the_settings_file(tmp_path, run, store_secret, isolated_home):
    store_secret()
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: h\n", "profiles/h.yaml": HELPER_PROFILE, "wt/.keep": ""})
    plan = run("plan")
    assert run("apply", "--yes").code == 0
    settings = tmp_path / "wt/.claude/settings.local.json"
    text = settings.read_text()
    doc = json.loads(text)
    assert SECRET not in text and "sk-or-v1" not in text
    assert "ANTHROPIC_AUTH_TOKEN" not in doc["env"] and "ANTHROPIC_API_KEY" not in doc["env"]
    helper = doc["apiKeyHelper"]
    program, *args = shlex.split(helper)
    assert os.path.isabs(program) and os.access(program, os.X_OK)  # by absolute path
    assert args == ["secret", "get", "openrouter", "--file", f"{isolated_home}/secrets.env"]  # not the default store
    assert plan.out == (
        "# wt: wt/.claude/settings.local.json (profile h) will be created\n"
        '  + env.ANTHROPIC_BASE_URL             = "http://127.0.0.1:9/api"\n'
        f'  + apiKeyHelper                       = "{helper}"\n'
        '  + env.ANTHROPIC_DEFAULT_SONNET_MODEL = "s-1"\n'
        "\n"
        "Plan: 3 to add, 0 to change, 0 to remove (in 1 file).\n"
    )
    # Claude Code runs the helper with /bin/sh, in its own environment: not ours.
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(isolated_home)}
    out = subprocess.run(["/bin/sh", "-c", helper], env=clean_env, capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (0, SECRET)
    # Back to key_via: settings: the helper goes, the token comes.
    (tmp_path / "profiles/h.yaml").write_text(HELPER_PROFILE.replace("key_via: helper", "key_via: settings"))
    assert run("apply", "--yes").code == 0
    doc = json.loads(settings.read_text())
    assert "apiKeyHelper" not in doc and doc["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET


def test_key_via_helper_with_the_default_store_names_no_file(tmp_path, run, monkeypatch, isolated_home):
    monkeypatch.delenv("LLMCONF_SECRETS_FILE")
    assert run("secret", "set", "openrouter", stdin="k").code == 0
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: h\n", "profiles/h.yaml": HELPER_PROFILE, "wt/.keep": ""})
    assert run("apply", "--yes").code == 0
    helper = json.loads((tmp_path / "wt/.claude/settings.local.json").read_text())["apiKeyHelper"]
    program, *args = shlex.split(helper)
    assert (os.path.isabs(program), args) == (True, ["secret", "get", "openrouter"])
    out = subprocess.run(["/bin/sh", "-c", helper], env={"PATH": "/usr/bin:/bin", "HOME": str(isolated_home)}, capture_output=True, text=True)
    assert out.stdout == "k"


def test_key_via_helper_needs_a_plain_secret_reference(tmp_path, run, store_secret):
    store_secret()
    profile = HELPER_PROFILE.replace("\"{{ secret('openrouter') }}\"", "\"Bearer {{ secret('openrouter') }}\"")
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: h\n", "profiles/h.yaml": profile, "wt/.keep": ""})
    result = run("plan")
    assert result.code == 1
    assert result.err == (
        "llmconf: profiles/h.yaml:2: key_via: helper needs auth_token to be exactly one secret "
        "(write it as \"{{ secret('NAME') }}\")\n"
    )


def test_secret_get_refuses_a_terminal_and_missing_names(run, store_secret, monkeypatch, isolated_home):
    store_secret()
    from llmconf import console as ui

    class Tty:
        def isatty(self):
            return True

        def write(self, text):
            raise AssertionError("wrote to the terminal")

        def flush(self):
            pass

    result = run("secret", "get", "nope")
    assert (result.code, result.err) == (
        1,
        f"llmconf: {isolated_home}/secrets.env: no secret named 'nope' (run 'llmconf secret set nope')\n",
    )
    monkeypatch.setattr(ui.sys, "stdout", Tty())
    from llmconf import cli

    assert cli.main(["secret", "get", "openrouter"]) == 1
