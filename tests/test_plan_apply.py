"""plan and apply on real files: ownership, drift, modes, overrides, templates, exit codes."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import SECRET, normalise, write_tree
from tests.helpers import assert_unchanged, snapshot_tree

GATEWAY = """\
base_url: http://127.0.0.1:9/api
auth_token: "{{ env('GW_TOKEN', 'gw-token') }}"
models: {haiku: h-1, sonnet: s-1, opus: o-1}
"""


@pytest.fixture
def config(tmp_path):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  wt/a: gw\n  wt/b: gw\n",
            "profiles/gw.yaml": GATEWAY,
            "wt/a/.keep": "",
            "wt/b/.keep": "",
        },
    )
    return tmp_path


def settings(root, name):
    return root / "wt" / name / ".claude" / "settings.local.json"


def test_plan_text_and_json(config, run, snapshot):
    write_tree(
        config,
        {
            "wt/b/.claude/settings.local.json": json.dumps(
                {
                    "permissions": {"allow": ["Read"]},
                    "env": {"ANTHROPIC_DEFAULT_SONNET_MODEL": "old", "ANTHROPIC_MODEL": "stray", "KEEP": "1"},
                },
                indent=2,
            )
        },
    )
    text = run("plan")
    assert text.code == 0 and text.err == ""
    assert normalise(text.out, config) == snapshot(name="text")
    as_json = run("plan", "--json")
    doc = json.loads(as_json.out)
    assert doc["summary"] == {"add": 11, "change": 1, "remove": 1, "files": 2, "errors": 0}
    assert normalise(as_json.out, config) == snapshot(name="json")


def test_detailed_exitcode(config, run):
    assert run("plan", "--detailed-exitcode").code == 2
    assert run("apply", "--yes").code == 0
    assert run("plan", "--detailed-exitcode").code == 0
    (config / "profiles/gw.yaml").write_text(GATEWAY + "oops: [\n")
    assert run("plan", "--detailed-exitcode").code == 1


def test_second_apply_writes_nothing(config, run):
    assert run("apply", "--yes").code == 0
    before = snapshot_tree(config)
    result = run("apply", "--yes")
    assert result.out == "No changes.\n"
    assert_unchanged(before, config)


def test_apply_selected_worktree_by_name_and_path(config, run):
    assert run("apply", "a", "--yes").code == 0
    assert settings(config, "a").exists() and not settings(config, "b").exists()
    assert run("apply", "wt/b/", "--yes").code == 0
    assert settings(config, "b").exists()


def test_unknown_worktree_argument(config, run):
    result = run("plan", "c")
    assert result.code == 1
    assert result.err == (
        "llmconf: 'c' is not a worktree declared in worktrees.yaml (see 'llmconf status' for the declared worktrees)\n"
    )


def test_drift_is_shown_and_reverted(config, run):
    run("apply", "--yes")
    path = settings(config, "a")
    doc = json.loads(path.read_text())
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "hand-edit"
    path.write_text(json.dumps(doc, indent=2))
    plan = run("plan")
    assert '  ~ env.ANTHROPIC_DEFAULT_OPUS_MODEL = "hand-edit" -> "o-1"   # changed outside llmconf' in plan.out.splitlines()
    assert json.loads(run("status", "a", "--json").out)["worktrees"][0]["state"] == "drifted"
    assert run("apply", "--yes").code == 0
    assert json.loads(path.read_text())["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "o-1"
    assert json.loads(run("status", "a", "--json").out)["worktrees"][0]["state"] == "in-sync"


def test_key_no_longer_rendered_is_removed_but_foreign_keys_stay(config, run):
    (config / "profiles/gw.yaml").write_text(GATEWAY + "env: {EXTRA: one}\n")
    run("apply", "--yes")
    path = settings(config, "a")
    doc = json.loads(path.read_text())
    doc["env"]["MINE"] = "user"
    path.write_text(json.dumps(doc, indent=2))
    (config / "profiles/gw.yaml").write_text(GATEWAY)
    plan = run("plan", "a")
    assert plan.out.splitlines()[1:] == ['  - env.EXTRA = "one"', "", "Plan: 0 to add, 0 to change, 1 to remove (in 1 file)."]
    run("apply", "--yes")
    env = json.loads(path.read_text())["env"]
    assert "EXTRA" not in env and env["MINE"] == "user"


def test_created_file_deleted_when_empty_and_emptied_env_removed(config, run):
    write_tree(config, {"wt/b/.claude/settings.local.json": '{\n  "permissions": {}\n}\n'})
    run("apply", "--yes")
    (config / "worktrees.yaml").write_text("worktrees:\n  wt/a: anthropic\n  wt/b: anthropic\n")
    lines = run("plan").out.splitlines()
    assert [line for line in lines if line.startswith(("# a", "# b", "Plan: "))] == [
        "# a: wt/a/.claude/settings.local.json (profile anthropic) will be deleted: llmconf created it and it would now be empty",
        "# b: wt/b/.claude/settings.local.json (profile anthropic) will be updated",
        "Plan: 0 to add, 0 to change, 12 to remove (in 2 files).",
    ]
    run("apply", "--yes")
    assert not settings(config, "a").exists()
    assert settings(config, "b").read_text() == '{\n  "permissions": {}\n}\n'


def test_file_mode_kept_and_secret_files_private(config, run):
    write_tree(config, {"wt/b/.claude/settings.local.json": "{}\n", "profiles/plain.yaml": "models: {haiku: h}\n"})
    os.chmod(settings(config, "b"), 0o640)
    (config / "worktrees.yaml").write_text("worktrees:\n  wt/a: gw\n  wt/b: plain\n")
    run("apply", "--yes")
    assert stat.S_IMODE(settings(config, "b").stat().st_mode) == 0o640
    assert stat.S_IMODE(settings(config, "a").stat().st_mode) == 0o600


def test_symlinked_settings_written_through(config, run):
    real = config / "shared-settings.json"
    real.write_text('{"permissions": {"allow": ["Read"]}}\n')
    link = settings(config, "a")
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    assert run("apply", "a", "--yes").code == 0
    assert link.is_symlink()
    assert json.loads(real.read_text())["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "h-1"


def test_per_worktree_override_only_affects_that_worktree(config, run):
    (config / "worktrees.yaml").write_text(
        "worktrees:\n  wt/a: gw\n  wt/b:\n    profile: gw\n    models: {sonnet: z-ai/glm-4.7}\n    env: {X: y}\n"
    )
    run("apply", "--yes")
    a, b = (json.loads(settings(config, n).read_text())["env"] for n in "ab")
    assert a["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "s-1" and "X" not in a
    assert b["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "z-ai/glm-4.7" and b["X"] == "y"
    assert b["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "h-1"


def test_extends_deep_merges_and_null_unsets(config, run):
    write_tree(
        config,
        {
            "profiles/child.yaml": "extends: gw\nmodels: {opus: o-2}\nsubagent: sub-1\ndefault: opus\n",
            "profiles/direct.yaml": "extends: gw\nbase_url: null\nauth_token: null\n",
            "worktrees.yaml": "worktrees:\n  wt/a: child\n  wt/b: direct\n",
        },
    )
    run("apply", "--yes")
    a = json.loads(settings(config, "a").read_text())
    # No claude here: the newest known Claude Code's rules, which read the default from the env.
    assert (a.get("model"), a["env"]["ANTHROPIC_DEFAULT_MODEL"]) == (None, "opus")
    assert a["env"]["CLAUDE_CODE_SUBAGENT_MODEL"] == "sub-1"
    assert [a["env"][f"ANTHROPIC_DEFAULT_{s}_MODEL"] for s in ("HAIKU", "SONNET", "OPUS")] == ["h-1", "s-1", "o-2"]
    b = json.loads(settings(config, "b").read_text())
    # No base_url: Anthropic direct, no gateway keys; the slots still render.
    assert b == {"env": {"ANTHROPIC_DEFAULT_HAIKU_MODEL": "h-1", "ANTHROPIC_DEFAULT_SONNET_MODEL": "s-1", "ANTHROPIC_DEFAULT_OPUS_MODEL": "o-1"}}


def test_template_context(config, run, monkeypatch):
    monkeypatch.setenv("GW_TOKEN", "from-env")
    write_tree(
        config,
        {
            "profiles/t.yaml": (
                "extends: gw\n"
                "env:\n"
                "  WT: '{{ worktree.name }}'\n"
                "  WT_PATH: '{{ worktree.path }}'\n"
                "  PROFILE: '{{ profile.name }}'\n"
                "  TEAM: '{{ vars.team | upper }}'\n"
            ),
            "worktrees.yaml": "vars: {team: forge}\nworktrees:\n  wt/a: t\n",
        },
    )
    run("apply", "--yes")
    env = json.loads(settings(config, "a").read_text())["env"]
    assert (env["WT"], env["WT_PATH"], env["PROFILE"], env["TEAM"]) == ("a", str(config / "wt" / "a"), "t", "FORGE")
    assert env["ANTHROPIC_AUTH_TOKEN"] == "from-env"


def test_secret_rendered_verbatim_and_never_shown(config, run, store_secret):
    store_secret("gw")
    (config / "profiles/gw.yaml").write_text(GATEWAY.replace("env('GW_TOKEN', 'gw-token')", "secret('gw')"))
    plan = run("plan")
    assert "  + env.ANTHROPIC_AUTH_TOKEN           = (sensitive)" in plan.out.splitlines()
    as_json = run("plan", "--json")
    applied = run("apply", "--yes")
    status = run("status", "--json")
    for result in (plan, as_json, applied, status):
        assert SECRET not in result.out + result.err
    assert json.loads(settings(config, "a").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET


def test_secret_from_environment_override(config, run, monkeypatch):
    monkeypatch.setenv("LLMCONF_SECRET_OPEN_ROUTER", "from-env-override")
    (config / "profiles/gw.yaml").write_text(GATEWAY.replace("env('GW_TOKEN', 'gw-token')", "secret('open-router')"))
    assert run("apply", "a", "--yes").code == 0
    assert json.loads(settings(config, "a").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == "from-env-override"


def test_apply_asks_for_confirmation(config, run):
    refused = run("apply")
    assert refused.code == 1
    assert refused.err == "llmconf: refusing to apply without confirmation: stdin is not a terminal (pass --yes)\n"
    assert refused.out.splitlines()[-1] == "Plan: 12 to add, 0 to change, 0 to remove (in 2 files)."
    assert not settings(config, "a").exists()
    asked = refused.out + "Do you want to apply these changes?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: \n"
    declined = run("apply", stdin="no\n", tty=True)
    assert (declined.code, declined.out) == (1, asked + "Apply cancelled; nothing written.\n")
    assert not settings(config, "a").exists()
    accepted = run("apply", stdin="yes\n", tty=True)
    assert accepted.code == 0 and settings(config, "a").exists()
    assert accepted.out == asked + "Apply complete: 12 added, 0 changed, 0 removed (in 2 files).\n"


def test_status_json_and_missing_folder(config, run):
    (config / "worktrees.yaml").write_text("worktrees:\n  wt/a: gw\n  wt/gone: anthropic\n")
    result = run("status", "--json")
    assert result.code == 1
    rows = {r["worktree"]: r for r in json.loads(result.out)["worktrees"]}
    assert rows["a"]["state"] == "missing"
    assert rows["a"]["sonnet"] == "s-1"
    assert rows["gone"]["state"] == "no such folder"
    assert result.err == "llmconf: worktrees.yaml:3: worktree folder wt/gone does not exist (create it, or remove the entry)\n"


def test_config_found_upward_and_with_dash_c(config, run):
    assert run("plan", cwd=config / "wt" / "a").code == 0
    assert run("-C", str(config), "plan", cwd=config.parent).code == 0
    assert run("plan", "--no-color", "-C", str(config), cwd=config.parent).code == 0


def test_colour_only_when_asked(config, run, monkeypatch):
    plain = run("plan").out
    assert "\x1b[" not in plain  # not a terminal
    from llmconf import console as ui

    monkeypatch.setattr(ui, "wants_color", lambda stdout, disabled: not disabled)
    green = "".join(f"\x1b[32m{line}\x1b[0m\n" if line.startswith("  + ") else f"{line}\n" for line in plain.splitlines())
    assert run("plan").out == green  # each added key, and nothing else
    assert run("plan", "--no-color").out == plain


def test_only_secret_looking_names_are_redacted(config, run):
    (config / "profiles/gw.yaml").write_text(GATEWAY + "env: {CLAUDE_CODE_MAX_OUTPUT_TOKENS: '32000', MY_SERVICE_API_KEY: abc}\n")
    lines = run("plan", "a").out.splitlines()
    assert '  + env.CLAUDE_CODE_MAX_OUTPUT_TOKENS  = "32000"' in lines
    assert "  + env.MY_SERVICE_API_KEY             = (sensitive)" in lines


def test_no_color_environment_variable(config, run, monkeypatch):
    from llmconf import console as ui

    monkeypatch.setattr(ui.sys.stdout.__class__, "isatty", lambda self: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert ui.wants_color(ui.sys.stdout, disabled=False) is False
    monkeypatch.delenv("NO_COLOR")
    assert ui.wants_color(ui.sys.stdout, disabled=False) is True
    assert "\x1b[" not in run("plan").out


def test_home_relative_worktree_path(tmp_path, run, isolated_home):
    write_tree(isolated_home, {"code/wt/.keep": ""})
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  ~/code/wt: gw\n", "profiles/gw.yaml": GATEWAY})
    result = run("apply", "--yes")
    assert result.code == 0, result.err
    assert json.loads((isolated_home / "code/wt/.claude/settings.local.json").read_text())["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "o-1"
    assert run("status").out.splitlines()[1].split()[:2] == ["wt", "gw"]


def test_rendered_settings_of_every_shipped_profile(every_shipped_profile, snapshot):
    """What each shipped profile writes, exactly; the key itself is redacted from the snapshot."""
    rendered = {n: t and t.replace("KEY-PLACEHOLDER", "<secret>") for n, t in every_shipped_profile.items()}
    assert rendered == snapshot

def test_templates_without_worktree_render_once_per_profile(config, run, monkeypatch):
    """The memo must not leak one worktree's output into another's."""
    from llmconf import render

    calls = []
    real = render._simple
    monkeypatch.setattr(render, "_simple", lambda source, *a: calls.append(source) or real(source, *a))
    (config / "profiles/gw.yaml").write_text(GATEWAY + "env: {WT: '{{ worktree.name }}'}\n")
    assert run("apply", "--yes").code == 0
    envs = [json.loads(settings(config, n).read_text())["env"] for n in "ab"]
    assert [e["WT"] for e in envs] == ["a", "b"]
    assert [e["ANTHROPIC_AUTH_TOKEN"] for e in envs] == ["gw-token", "gw-token"]
    assert calls.count("{{ env('GW_TOKEN', 'gw-token') }}") == 1
    assert calls.count("{{ worktree.name }}") == 2
