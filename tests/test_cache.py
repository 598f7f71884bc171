"""The config cache: a repeat run skips YAML and pydantic, and any edit is seen at once."""

from __future__ import annotations

import json
import os

from tests.conftest import write_tree
from tests.helpers import heavy_imports as probe


def test_repeat_plan_loads_no_yaml_or_pydantic(tmp_path):
    write_tree(
        tmp_path,
        {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "base_url: http://x\nauth_token: \"{{ secret('k') }}\"\n", "a/.keep": ""},
    )
    os.environ["LLMCONF_SECRET_K"] = "v"
    try:
        first, _ = probe(tmp_path, "plan")
        assert first == "['pydantic', 'ruamel.yaml'] 0"  # secret() needs no Jinja: the fast path
        second, out = probe(tmp_path, "plan")
        # YAML and validation come from the cache.
        assert second == "[] 0", out.stdout
        # An edit anywhere among the inputs is a miss, and its error shows.
        (tmp_path / "profiles/p.yaml").write_text("modles: {}\n")
        _, out = probe(tmp_path, "plan")
        assert out.stderr.splitlines() == [
            f"llmconf: {tmp_path}/profiles/p.yaml:1: unknown field 'modles' (did you mean 'models'?)",
            "['pydantic', 'ruamel.yaml'] 1",
        ]
    finally:
        del os.environ["LLMCONF_SECRET_K"]


def test_new_profile_file_is_a_miss(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: devstral\n", "a/.keep": ""})
    run("-C", str(tmp_path), "validate")
    run("plan")
    # A local profile now shadows the shipped one of the same name.
    write_tree(tmp_path, {"profiles/devstral.yaml": "base_url: http://local\nmodels: {haiku: local-h}\n"})
    plan = run("plan")
    assert (plan.code, plan.err) == (0, "")
    assert plan.out.splitlines() == [
        "# a: a/.claude/settings.local.json (profile devstral) will be created",
        '  + env.ANTHROPIC_BASE_URL            = "http://local"',
        '  + env.ANTHROPIC_DEFAULT_HAIKU_MODEL = "local-h"',
        "",
        "Plan: 2 to add, 0 to change, 0 to remove (in 1 file).",
    ]


def test_literal_tokens_are_never_cached(tmp_path, run, isolated_home):
    write_tree(
        tmp_path,
        {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "base_url: http://x\nauth_token: sk-literal-123\n", "a/.keep": ""},
    )
    assert run("plan").code == 0
    folder = isolated_home / ".cache/llmconf"
    assert "sk-literal-123" not in "".join(p.read_text() for p in folder.glob("config-*.json"))
    (tmp_path / "profiles/p.yaml").write_text("base_url: http://x\nauth_token: \"{{ env('T', 'd') }}\"\n")
    assert run("plan").code == 0
    assert [json.loads(p.read_text())["config_dir"] for p in folder.glob("config-*.json")] == [str(tmp_path)]


def haiku_plan(model: str) -> str:
    return (
        "# a: a/.claude/settings.local.json (profile p) will be created\n"
        f'  + env.ANTHROPIC_DEFAULT_HAIKU_MODEL = "{model}"\n'
        "\n"
        "Plan: 1 to add, 0 to change, 0 to remove (in 1 file).\n"
    )


def test_an_edit_during_a_run_is_never_cached_as_the_old_config(tmp_path, run, monkeypatch):
    """Found in review: the digest was taken after the profiles had been read."""
    from llmconf.plan.planner import Planner

    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "models: {haiku: old/model}\n", "a/.keep": ""})
    real_plan = Planner.plan

    def edit_mid_run(self, decls):
        self.session.profiles.resolve("p", self.session.config.worktrees[0].profile)  # read: old/model
        (tmp_path / "profiles/p.yaml").write_text("models: {haiku: new/model}\n")
        return real_plan(self, decls)

    monkeypatch.setattr(Planner, "plan", edit_mid_run)
    assert run("plan").out == haiku_plan("old/model")
    monkeypatch.setattr(Planner, "plan", real_plan)
    assert run("plan").out == haiku_plan("new/model")  # a miss: the cache was keyed on the old bytes


def test_home_is_part_of_the_key(tmp_path, run, monkeypatch):
    """Found in review: ~ is expanded into the cache."""
    for home in ("h1", "h2"):
        write_tree(tmp_path, {f"{home}/repo/.keep": ""})
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ~/repo: devstral\n"})
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "k")
    for home in ("h1", "h2"):
        monkeypatch.setenv("HOME", str(tmp_path / home))
        assert run("-C", str(tmp_path / "cfg"), "apply", "--yes").code == 0
        assert (tmp_path / home / "repo/.claude/settings.local.json").exists(), home


def test_use_then_use_back_is_never_hidden_by_the_cache(tmp_path, run):
    """`use b --apply`, then `use a`: the plan must show the switch back (it once said
    'No changes.', the new config saved under the old config's cache key)."""
    write_tree(
        tmp_path,
        {
            "cfg/worktrees.yaml": "worktrees:\n  ../wt: a\n",
            "cfg/profiles/a.yaml": "base_url: http://a\nmodels: {sonnet: a-model}\n",
            "cfg/profiles/b.yaml": "base_url: http://b\nmodels: {sonnet: b-model}\n",
            "wt/.keep": "",
        },
    )
    cfg = str(tmp_path / "cfg")
    assert run("-C", cfg, "apply", "--yes").code == 0
    assert run("-C", cfg, "use", "b", "wt", "--apply", "--yes").code == 0
    assert run("-C", cfg, "use", "a", "wt").code == 0
    plan = run("-C", cfg, "plan", "--detailed-exitcode")
    assert plan.code == 2
    assert '  ~ env.ANTHROPIC_DEFAULT_SONNET_MODEL = "b-model" -> "a-model"' in plan.out.splitlines()


def test_status_after_a_plan_loads_no_yaml_or_pydantic_and_names_the_same_origins(tmp_path, isolated_home, monkeypatch):
    # A local profile extending a shipped one: its origins table needs the files and the parents.
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "placeholder")
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: child\n  b: devstral\n",
            "profiles/child.yaml": "extends: devstral\nmodels: {haiku: local-h}\n",
            "a/.keep": "",
            "b/.keep": "",
        },
    )
    cold, out = probe(tmp_path, "status")
    assert cold == "['pydantic', 'ruamel.yaml'] 0", out.stderr
    origins = out.stdout.split("\n\n")[-1]
    assert [line.split()[:2] + line.split()[3:] for line in origins.splitlines()] == [
        ["PROFILE", "SOURCE", "EXTENDS"],
        ["child", "local", "devstral"],
        ["devstral", "shipped", "openrouter-base"],
        ["openrouter-base", "shipped", "-"],
    ]
    probe(tmp_path, "plan")  # saves the cache, with where each profile came from
    warm, out = probe(tmp_path, "status")
    assert warm == "[] 0", out.stderr
    assert out.stdout.split("\n\n")[-1] == origins
    # An edit is a miss: the parent named now is the new one.
    (tmp_path / "profiles/child.yaml").write_text("extends: deepseek\nmodels: {haiku: local-h}\n")
    probe(tmp_path, "plan")
    _, out = probe(tmp_path, "status")
    assert [line.split()[0] for line in out.stdout.split("\n\n")[-1].splitlines()] == [
        "PROFILE",
        "child",
        "deepseek",
        "devstral",
        "openrouter-base",
    ]
    assert out.stdout.split("\n\n")[-1].splitlines()[1].split()[-1] == "deepseek"


def test_a_repeated_lint_warning_keeps_its_line_without_yaml(tmp_path, isolated_home):
    profile = "base_url: https://openrouter.ai/api\n# the sonnet slot, on line 3\nmodels: {sonnet: deepseek/deepseek-v3.2}\n"
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": profile, "a/.keep": ""})
    runs = [probe(tmp_path, "plan") for _ in range(3)]
    warnings = [[line for line in out.stderr.splitlines() if "LC104" in line] for _, out in runs]
    assert warnings[0] and warnings[0][0].startswith(f"llmconf: warning: {tmp_path}/profiles/p.yaml:3: LC104 models.sonnet")
    assert warnings[1] == warnings[2] == warnings[0]
    assert [last for last, _ in runs] == ["['pydantic', 'ruamel.yaml'] 0", "[] 0", "[] 0"]
    # The line is remembered by the file's bytes: an edit that moves it is found again.
    (tmp_path / "profiles/p.yaml").write_text("# moved\n" + profile)
    probe(tmp_path, "plan")
    _, out = probe(tmp_path, "plan")
    assert f"{tmp_path}/profiles/p.yaml:4: LC104" in out.stderr


def test_use_apply_saves_the_switched_config_so_the_next_plan_reads_no_yaml(tmp_path, isolated_home):
    write_tree(
        tmp_path,
        {
            # ../third uses b already, so the cache holds b resolved: use needs no profile file.
            "cfg/worktrees.yaml": "# the fleet\nworktrees:\n  ../wt: a  # first a\n  ../other:\n    profile: a\n    env: {X: '1'}\n  ../third: b\n",
            "cfg/profiles/a.yaml": "base_url: http://a\nmodels: {sonnet: a-model}\n",
            "cfg/profiles/b.yaml": "base_url: http://b\nmodels: {sonnet: b-model}\n",
            "wt/.keep": "",
            "other/.keep": "",
            "third/.keep": "",
        },
    )
    cfg = tmp_path / "cfg"
    assert probe(cfg, "apply", "--yes")[0] == "['pydantic', 'ruamel.yaml'] 0"
    probe(cfg, "plan")
    last, out = probe(cfg, "use", "b", str(tmp_path / "wt"), str(tmp_path / "other"), "--apply", "--yes")
    assert last == "[] 0", out.stderr  # a plain edit that keeps comments; no second, cold read
    assert (cfg / "worktrees.yaml").read_text() == (
        "# the fleet\nworktrees:\n  ../wt: b  # first a\n  ../other:\n    profile: b\n    env: {X: '1'}\n  ../third: b\n"
    )
    for folder in ("wt", "other"):
        assert json.loads((tmp_path / folder / ".claude/settings.local.json").read_text())["env"]["ANTHROPIC_BASE_URL"] == "http://b"
    assert json.loads((tmp_path / "other/.claude/settings.local.json").read_text())["env"]["X"] == "1"
    last, out = probe(cfg, "plan", "--detailed-exitcode")
    assert (last, out.stdout) == ("[] 0", "No changes.\n")
    # The cache now holds the switched config: the same as reading the file cold.
    hot = probe(cfg, "status", "--json")[1].stdout
    for entry in (isolated_home / ".cache/llmconf").glob("config-*.json"):
        entry.unlink()
    assert probe(cfg, "status", "--json")[1].stdout == hot
