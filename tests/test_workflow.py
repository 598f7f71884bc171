"""The guide's whole workflow, driven through the CLI on real files.

save key -> worktree A to openrouter, B stays direct -> status -> A to deepseek ->
A to devstral -> back to direct; unmanaged keys survive every step, a second apply
writes nothing, and the key never shows in any output.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from deepdiff import DeepDiff

from tests.conftest import SECRET, normalise, write_tree
from tests.helpers import assert_unchanged, snapshot_tree

GROWN = {
    "permissions": {"allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"], "deny": ["Read(./.env)"]},
    "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "make fmt"}]}]},
    "env": {"BASH_DEFAULT_TIMEOUT_MS": "120000"},
    "model": "opus",
}


def _unmanaged(doc: dict) -> dict:
    env = {k: v for k, v in doc.get("env", {}).items() if not k.startswith(("ANTHROPIC_", "CLAUDE_CODE_"))}
    return {**{k: v for k, v in doc.items() if k != "env"}, "env": env}


def test_guide_workflow(tmp_path, run, snapshot):
    a_text = json.dumps(GROWN, indent=4) + "\n"
    write_tree(
        tmp_path,
        {
            "team/worktrees.yaml": "worktrees:\n  ../A: anthropic   # main checkout\n  ../B: anthropic\n",
            "A/.claude/settings.local.json": a_text,
            "B/README.md": "b\n",
        },
    )
    settings_a = tmp_path / "A/.claude/settings.local.json"
    settings_b = tmp_path / "B/.claude/settings.local.json"
    outputs = []

    def llmconf(*argv, **kw):
        result = run("-C", "team", *argv, **kw)
        outputs.append(result.out + result.err)
        return result

    # Both start on Anthropic direct, and the hand-grown file is already in sync.
    assert llmconf("plan", "--detailed-exitcode").code == 0

    # Save the key (one trailing newline stripped, the rest verbatim).
    assert run("secret", "set", "openrouter", stdin=SECRET + "\n").code == 0

    # A -> openrouter; B stays direct.
    result = llmconf("use", "openrouter", "A", "--apply", "--yes")
    assert result.code == 0, result.err
    doc = json.loads(settings_a.read_text())
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://openrouter.ai/api"
    assert doc["env"]["ANTHROPIC_API_KEY"] == ""
    assert doc["env"]["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "qwen/qwen3-coder:exacto"
    assert DeepDiff(_unmanaged(GROWN), _unmanaged(doc)) == {}
    assert stat.S_IMODE(settings_a.stat().st_mode) == 0o600  # it holds a key now
    assert not settings_b.exists()

    status = llmconf("status")
    assert status.code == 0
    assert normalise(status.out, tmp_path) == snapshot(name="status-after-openrouter")

    # Idempotent: nothing to do, and a second apply leaves every file untouched.
    before = snapshot_tree(tmp_path)
    assert llmconf("plan", "--detailed-exitcode").code == 0
    assert llmconf("apply", "--yes").out == "No changes.\n"
    assert_unchanged(before, tmp_path)

    # A -> deepseek -> devstral: only the slot models change.
    for profile, model in (("deepseek", "deepseek/deepseek-v3.2"), ("devstral", "mistralai/devstral-2512")):
        result = llmconf("use", profile, "A", "--apply", "--yes")
        assert result.code == 0, result.err
        doc = json.loads(settings_a.read_text())
        assert [doc["env"][f"ANTHROPIC_DEFAULT_{s}_MODEL"] for s in ("HAIKU", "SONNET", "OPUS")] == [model] * 3
        assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET
        assert DeepDiff(_unmanaged(GROWN), _unmanaged(doc)) == {}

    # Back to direct: no backend key left, everything else exactly as the user wrote it.
    result = llmconf("use", "anthropic", "A", "--apply", "--yes")
    assert result.code == 0, result.err
    assert json.loads(settings_a.read_text()) == GROWN
    assert settings_a.read_text() == a_text  # layout too: 4-space indent, key order
    assert llmconf("plan", "--detailed-exitcode").code == 0

    # The key never appeared in any output, nor in the state file.
    assert all(SECRET not in text and "sk-or-v1" not in text for text in outputs)
    state = Path(os.environ["XDG_STATE_HOME"]) / "llmconf" / "state.json"
    assert state.exists() and SECRET not in state.read_text()
    # B was never touched.
    assert not settings_b.exists()


def test_worktrees_yaml_keeps_its_comments_through_use(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "# team config\nworktrees:\n  A: anthropic   # main checkout\n  B:\n    profile: anthropic  # keep\n",
            "A/x": "",
            "B/x": "",
        },
    )
    assert run("use", "devstral", "A", "B").code == 0
    assert (tmp_path / "worktrees.yaml").read_text() == (
        "# team config\nworktrees:\n  A: devstral   # main checkout\n  B:\n    profile: devstral  # keep\n"
    )
