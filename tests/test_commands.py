"""use, init, validate, --help and --version, driven as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from llmconf import __version__
from llmconf.config.load import shipped_profiles_dir
from tests.conftest import write_tree

REPO = Path(__file__).resolve().parents[1]


def test_use_defaults_to_the_worktree_holding_cwd(tmp_path, run):
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n  ../a/nested: anthropic\n", "a/nested/src/x": ""})
    result = run("-C", str(tmp_path / "cfg"), "use", "devstral", cwd=tmp_path / "a" / "nested" / "src")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "../a/nested: now uses profile 'devstral'."
    assert (tmp_path / "cfg/worktrees.yaml").read_text() == "worktrees:\n  ../a: anthropic\n  ../a/nested: devstral\n"


def test_use_outside_any_worktree(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n", "a/x": "", "elsewhere/x": ""})
    result = run("-C", str(tmp_path), "use", "devstral", cwd=tmp_path / "elsewhere")
    assert result.code == 1
    assert result.err == (
        "llmconf: the current folder is not inside any declared worktree (name the worktree: llmconf use PROFILE WORKTREE)\n"
    )


def test_use_adds_an_undeclared_folder(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "# mine\nworktrees:\n  a: anthropic  # first\n", "a/x": "", "b/x": ""})
    assert run("use", "devstral", "b").code == 0
    text = (tmp_path / "worktrees.yaml").read_text()
    assert text == "# mine\nworktrees:\n  a: anthropic  # first\n  b: devstral\n"


def test_use_unknown_profile_changes_nothing(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: anthropic\n", "a/x": ""})
    result = run("use", "deepsek", "a")
    assert (result.code, result.err) == (1, "llmconf: unknown profile 'deepsek' (did you mean 'deepseek'?)\n")
    assert (tmp_path / "worktrees.yaml").read_text() == "worktrees:\n  a: anthropic\n"


def test_use_warns_about_overrides_that_stay(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a:\n    profile: devstral\n    models: {sonnet: z-ai/glm-4.7}\n", "a/x": ""})
    result = run("use", "anthropic", "a")
    assert result.code == 0
    assert result.err == "llmconf: warning: a keeps its own overrides in worktrees.yaml: models.sonnet (--reset drops them)\n"


def test_init_then_plan(tmp_path, run):
    write_tree(tmp_path, {"repo/x": ""})
    result = run("init", "repo")
    assert result.code == 0, result.err
    shipped = sorted(p.name for p in shipped_profiles_dir().glob("*.yaml"))
    assert sorted(p.name for p in (tmp_path / "profiles").glob("*.yaml")) == shipped
    assert (tmp_path / "worktrees.yaml").read_text().splitlines()[-2:] == ["worktrees:", "  repo: anthropic"]
    assert run("plan", "--detailed-exitcode").code == 0
    assert run("use", "openrouter", "repo").code == 0
    plan = run("plan")
    assert plan.code == 1  # the key is not stored yet: the error says how to store it
    assert plan.err == (
        "llmconf: profiles/openrouter-base.yaml:6: profile 'openrouter' needs secret 'openrouter', which is not set "
        "(run 'llmconf secret set openrouter', or export LLMCONF_SECRET_OPENROUTER)\n"
    )


def test_init_refuses_to_overwrite(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n"})
    result = run("init")
    assert result.code == 1
    assert result.err == "llmconf: worktrees.yaml: worktrees.yaml already exists here; nothing written (edit it, or init another folder)\n"
    assert (tmp_path / "worktrees.yaml").read_text() == "worktrees: {}\n"
    assert not (tmp_path / "profiles").exists()


def test_validate_reports_every_problem(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: good\n  b: nope\n  gone: good\n",
            "profiles/good.yaml": "base_url: http://x\nauth_token: \"{{ secret('k') }}\"\n",
            "profiles/bad.yaml": "modles: {}\n",
            "profiles/worse.yaml": "models: {sonet: x}\n",
            "a/x": "",
            "b/x": "",
        },
    )
    result = run("validate")
    assert result.code == 1
    assert result.err.splitlines() == [
        "llmconf: warning: secret 'k' is not set on this machine (run 'llmconf secret set k', or export LLMCONF_SECRET_K)",
        "llmconf: profiles/bad.yaml:1: unknown field 'modles' (did you mean 'models'?)",
        "llmconf: profiles/worse.yaml:1: unknown model slot 'sonet' (did you mean 'sonnet'?)",
        "llmconf: worktrees.yaml:3: unknown profile 'nope' (profiles: "
        + ", ".join(sorted({p.stem for p in shipped_profiles_dir().glob('*.yaml')} | {"bad", "good", "worse"}))
        + ")",
        "llmconf: worktrees.yaml:4: worktree folder gone does not exist (create it, or remove the entry)",
        "llmconf: 4 problems found",
    ]


def test_validate_ok_on_the_example_config(run):
    result = run("-C", str(REPO), "validate")
    assert result.code == 0, result.err
    profiles = len(list(shipped_profiles_dir().glob("*.yaml"))) + len(list((REPO / "examples/profiles").glob("*.yaml")))
    assert result.out == f"Valid: {profiles} profiles, 3 worktrees.\n"


def test_shipped_profiles_use_correct_ids(every_shipped_profile):
    """The guide's wrong IDs (R1 for V3.2, a non-existent Qwen slug) never ship."""
    models = {
        json.loads(text)["env"][f"ANTHROPIC_DEFAULT_{s}_MODEL"]
        for n, text in every_shipped_profile.items()
        if n not in ("anthropic", "openrouter-base")
        for s in ("HAIKU", "SONNET", "OPUS")
    }
    assert models == {
        "mistralai/devstral-2512",
        "qwen/qwen3-coder:exacto",
        "anthropic/claude-opus-4.5",
        "deepseek/deepseek-v3.2",
        "minimax/minimax-m2.1",
        "z-ai/glm-4.7",
        "openai/gpt-5.2-codex",
    }
    assert every_shipped_profile["anthropic"] is None


def test_help_and_version_as_a_process():
    version = subprocess.run([sys.executable, "-m", "llmconf", "--version"], capture_output=True, text=True)
    assert (version.returncode, version.stdout) == (0, f"llmconf {__version__}\n")
    helped = subprocess.run([sys.executable, "-m", "llmconf", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0
    lines = helped.stdout.splitlines()
    listed = {line.split()[0] for line in lines if line.startswith("    ") and not line.startswith("     ")}
    assert {"plan", "apply", "status", "validate", "use", "init", "secret"} <= listed  # every command: test_completion.COMMANDS
    assert "  llmconf use openrouter ../wt-a    switch a worktree's profile in worktrees.yaml" in lines


def test_help_and_version_import_nothing_heavy():
    """Start-up is what a user feels: --help and --version must not load the heavy libraries."""
    code = (
        "import sys\n"
        "from llmconf import cli\n"
        "for argv in (['--help'], ['--version'], ['plan', '--help']):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('pydantic', 'jinja2', 'ruamel.yaml', 'deepdiff')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr == "[]\n"


def test_readme_and_ci_share_the_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert f"\n{command}\n" in readme


def test_every_yaml_example_in_the_readme_loads_and_validates(tmp_path):
    """A newcomer pastes these: each must parse, and validate as the file it shows."""
    import re

    from llmconf.config import load
    from llmconf.config import models as model

    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert len(blocks) >= 6
    for i, block in enumerate(blocks):
        path = tmp_path / f"block{i}.yaml"
        path.write_text(block)
        data = load.read_yaml(path) or {}
        if block.startswith("# .pre-commit-config.yaml"):
            assert data["repos"][0]["hooks"] == [{"id": "llmconf-validate"}]
        elif "models" in data and "worktrees" not in data:
            load.validate(model.Profile, data, path)
        else:
            load.validate(model.WorktreesFile, data, path)


def test_the_pre_commit_hook_runs_what_it_says(run, tmp_path):
    """.pre-commit-hooks.yaml gates a profile repo: its entry passes on a clean config, fails on a warning."""
    from ruamel.yaml import YAML

    (hook,) = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["language"], hook["pass_filenames"]) == ("llmconf-validate", "python", False)
    program, *argv = hook["entry"].split()
    assert program == "llmconf"
    assert run("-C", str(REPO), *argv).code == 0
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a:\n    profile: openrouter\n    models: {opus: anthropic/claude-opus-4}\n", "a/.keep": ""})
    assert run("-C", str(tmp_path), *argv).code == 1  # a legacy model: a warning, so strict fails
