"""Commands run inside a worktree find its config with no -C, even in a sibling folder (the
README's `llmconf init ../my-repo ../my-repo-glm` layout)."""

from __future__ import annotations

import json

from tests.conftest import write_tree

GW = "base_url: http://gw\nmodels: {sonnet: gw-sonnet}\n"


def layout(tmp_path):
    write_tree(
        tmp_path,
        {
            "llm-config/worktrees.yaml": "worktrees:\n  ../my-repo: anthropic\n  ../my-repo-glm: anthropic\n",
            "llm-config/profiles/gw.yaml": GW,
            "my-repo/sub/.keep": "",
            "my-repo-glm/.keep": "",
            "elsewhere/.keep": "",
        },
    )
    return tmp_path


def test_after_one_apply_every_command_works_from_inside_a_worktree(tmp_path, run):
    root = layout(tmp_path)
    first = run("status", cwd=root / "my-repo-glm")
    assert (first.code, first.err) == (1, f"llmconf: no worktrees.yaml in {root / 'my-repo-glm'} or any folder above it (run 'llmconf init' to start one, or pass -C DIR)\n")
    assert run("-C", str(root / "llm-config"), "apply", "--yes").code == 0
    # The guide's habit: go to the worktree, switch it.
    switched = run("use", "gw", "--apply", "--yes", cwd=root / "my-repo-glm")
    assert switched.code == 0, switched.err
    assert switched.out.splitlines()[0] == "../my-repo-glm: now uses profile 'gw'."  # its key in worktrees.yaml
    settings = json.loads((root / "my-repo-glm/.claude/settings.local.json").read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == "http://gw"
    rows = json.loads(run("status", "--json", cwd=root / "my-repo/sub").out)["worktrees"]
    assert [(r["worktree"], r["profile"], r["state"]) for r in rows] == [
        ("my-repo", "anthropic", "in-sync"),
        ("my-repo-glm", "gw", "in-sync"),
    ]
    assert run("use", "anthropic", "--apply", "--yes", cwd=root / "my-repo-glm").code == 0
    assert not (root / "my-repo-glm/.claude/settings.local.json").exists()


def test_a_folder_no_known_config_declares_names_the_known_configs(tmp_path, run):
    root = layout(tmp_path)
    assert run("-C", str(root / "llm-config"), "apply", "--yes").code == 0
    result = run("status", cwd=root / "elsewhere")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"llmconf: no worktrees.yaml in {root / 'elsewhere'} or any folder above it, and no config llmconf knows "
        f"declares it (configs llmconf knows: {root / 'llm-config'}; pass -C DIR or set LLMCONF_CONFIG)\n"
    )


def test_llmconf_config_names_the_config_like_c(tmp_path, run, monkeypatch):
    root = layout(tmp_path)
    monkeypatch.setenv("LLMCONF_CONFIG", str(root / "llm-config"))
    result = run("plan", "--detailed-exitcode", cwd=root / "elsewhere")
    assert (result.code, result.out) == (0, "No changes.\n")
    monkeypatch.setenv("LLMCONF_CONFIG", "../llm-config")  # relative to the current folder, as -C
    assert run("plan", cwd=root / "my-repo-glm").out == "No changes.\n"


def test_a_declined_use_apply_leaves_no_switch_behind(tmp_path, run):
    root = layout(tmp_path)
    cfg = root / "llm-config"
    assert run("-C", str(cfg), "apply", "--yes").code == 0
    before = (cfg / "worktrees.yaml").read_bytes()
    declined = run("-C", str(cfg), "use", "gw", "my-repo-glm", "--apply", stdin="no\n", tty=True, cwd=root)
    assert declined.code == 1
    assert declined.err.splitlines()[-1] == "llmconf: warning: worktrees.yaml put back as it was: the switch is undone with the apply"
    assert (cfg / "worktrees.yaml").read_bytes() == before
    # Without a terminal to ask on, the same.
    refused = run("-C", str(cfg), "use", "gw", "my-repo-glm", "--apply", cwd=root)
    assert refused.code == 1
    assert (cfg / "worktrees.yaml").read_bytes() == before
    assert run("-C", str(cfg), "apply", "--yes").out == "No changes.\n"  # nothing left to carry out
    assert not (root / "my-repo-glm/.claude/settings.local.json").exists()


def test_c_expands_a_tilde_like_llmconf_config(tmp_path, run, isolated_home):
    # `-C '~/llm-config'` (quoted, or from a script): ~ is the home folder, as in LLMCONF_CONFIG and
    # worktrees.yaml paths, never a folder named ~ under the current one.
    write_tree(
        isolated_home,
        {"llm-config/worktrees.yaml": "worktrees:\n  ../my-repo: gw\n", "llm-config/profiles/gw.yaml": GW, "my-repo/.keep": ""},
    )
    applied = run("-C", "~/llm-config", "apply", "--yes", cwd=tmp_path)
    assert applied.code == 0, applied.err
    settings = json.loads((isolated_home / "my-repo/.claude/settings.local.json").read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == "http://gw"
    assert run("-C", "~/llm-config", "plan", "--detailed-exitcode", cwd=tmp_path).code == 0
    schema = run("-C", "~/llm-config", "schema", cwd=tmp_path)
    assert schema.code == 0, schema.err
    assert (isolated_home / "llm-config/.llmconf/schema/worktrees.schema.json").is_file()
    assert not (tmp_path / "~").exists()
