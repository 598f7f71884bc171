"""llmconf import: adopt the settings files the guide's switch scripts left, on real files.

Each worktree's file is what a switch script leaves (its JSON template's env, the key from
the guide's key file in place of __OPENROUTER_API_KEY__) next to keys the user grew by hand.
After an import, plan shows no changes and apply writes nothing; the key is in the secret
store and in no YAML file and no output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from llmconf.secrets.store import SecretStore
from tests.conftest import SECRET, write_tree
from tests.helpers import Tree, assert_unchanged, changed_paths, snapshot_tree

OR = "https://openrouter.ai/api"
SLOTS = ("HAIKU", "SONNET", "OPUS")


def _template(haiku: str, sonnet: str, opus: str) -> dict[str, str]:
    return {
        "ANTHROPIC_AUTH_TOKEN": "__OPENROUTER_API_KEY__",
        "ANTHROPIC_API_KEY": "",
        "ANTHROPIC_BASE_URL": OR,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": haiku,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": sonnet,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": opus,
    }


#: The switch scripts' templates, as the guide gives them (wrong IDs included).
TEMPLATES: dict[str, dict[str, str]] = {
    "openrouter": _template("mistralai/devstral-2512", "qwen/qwen3-coder-480b-a35b", "anthropic/claude-opus-4"),
    "deepseek": _template(*["deepseek/deepseek-r1-0528"] * 3),
    "devstral": _template(*["mistralai/devstral-2512"] * 3),
    "claude": {},  # switch-claude.sh removes every env var
}

#: What the user grew in the same file: permissions, hooks, an env var of their own.
USER_KEYS = {
    "permissions": {"allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"], "deny": ["Read(./.env)"]},
    "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "make fmt"}]}]},
    "env": {"BASH_DEFAULT_TIMEOUT_MS": "120000"},
}


def switched(template: str, key: str = SECRET, **env: str) -> str:
    """The settings file a switch script leaves: the user's keys, the template's env over theirs."""
    tpl = {k: (key if v == "__OPENROUTER_API_KEY__" else v) for k, v in TEMPLATES[template].items()}
    doc = {**USER_KEYS, "env": {**USER_KEYS["env"], **tpl, **env}}
    return json.dumps(doc, indent=2) + "\n"


SETTINGS = ".claude/settings.local.json"
NEXT = "Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.\n"
CONFIG = "# team config\nvars: {team: forgerank}   # for templates\nworktrees:\n  ../main: anthropic   # main checkout\n"


LOCK = ".local/state/llmconf/lock"  # in the home folder: import takes apply's lock, which may leave it


def _everything(tmp_path: Path, home: Path) -> Tree:
    """The worktrees and the config (tmp/...), and the home folder with the secret store
    (home/...), but the lock and the folders made for it: all that import could write."""
    worktrees = snapshot_tree(tmp_path)
    home_tree = snapshot_tree(home, skip=lambda rel: f"{LOCK}/".startswith(f"{rel}/"))
    return {**{f"tmp/{p}": n for p, n in worktrees.items()}, **{f"home/{p}": n for p, n in home_tree.items()}}


def _assert_nothing_written(before: Tree, tmp_path: Path, home: Path) -> None:
    assert changed_paths(before, _everything(tmp_path, home)) == set()


def _imported(run, *args: str):
    """`llmconf -C team import ARGS`, which succeeds without a word on stderr."""
    result = run("-C", "team", "import", *args)
    assert (result.code, result.err) == (0, "")
    return result


def _refused(run, *args: str):
    """`llmconf -C team import ARGS`, which fails (exit 1) and prints nothing on stdout."""
    result = run("-C", "team", "import", *args)
    assert (result.code, result.out) == (1, "")
    return result


def _setup(tmp_path: Path, worktrees: dict[str, str], config: str = CONFIG, mode: int = 0o600) -> Path:
    """The config and the worktrees' settings files: private, as a careful script leaves them
    (a 0644 file holding a key gets its own test)."""
    write_tree(tmp_path, {"team/worktrees.yaml": config, "main/README.md": "main\n"})
    write_tree(tmp_path, {f"{name}/{SETTINGS}": text for name, text in worktrees.items()})
    for name in worktrees:
        os.chmod(tmp_path / name / SETTINGS, mode)
    return tmp_path / "team"


def _assert_in_sync(run, tmp_path: Path) -> list[str]:
    """plan says No changes (exit 0 with --detailed-exitcode) and apply writes no file."""
    before = snapshot_tree(tmp_path)
    plan = run("-C", "team", "plan", "--detailed-exitcode")
    assert (plan.code, plan.out) == (0, "No changes.\n"), plan.err
    apply = run("-C", "team", "apply", "--yes")
    assert (apply.code, apply.out) == (0, "No changes.\n"), apply.err
    assert_unchanged(before, tmp_path)
    return [plan.out, plan.err, apply.out, apply.err]


def _assert_secret_nowhere(tmp_path: Path, outputs: list[str], home: Path | None = None) -> None:
    for text in outputs:
        assert SECRET not in text and "sk-or-v1" not in text
    for root in [tmp_path, *([home] if home else [])]:
        for p in root.rglob("*.yaml"):
            assert SECRET not in p.read_text() and "sk-or-v1" not in p.read_text(), p


def test_switch_script_worktrees_are_declared_and_plan_is_clean(tmp_path, run, isolated_home):
    _setup(
        tmp_path,
        {
            "dev": switched("devstral"),  # the shipped devstral profile, exactly
            "direct": switched("claude"),  # Anthropic direct, permissions and hooks only
            "glm": switched("devstral", ANTHROPIC_DEFAULT_SONNET_MODEL="z-ai/glm-4.7"),  # one slot changed by hand
            "guide": switched("openrouter"),  # the guide's template: its IDs are in no shipped profile
            "guide2": switched("openrouter"),  # the same backend again: the same new profile
            "ds": switched("deepseek"),
        },
    )
    result = _imported(run, "dev", "direct", "glm", "guide", "guide2", "ds")
    store = isolated_home / "secrets.env"
    assert result.out == (
        "../dev: declared with profile 'devstral' and catalog_info: false (the file has no /model labels).\n"
        "../direct: declared with profile 'anthropic' (its settings are exactly that profile).\n"
        "../glm: declared with profile 'devstral' and its own models.sonnet (as the file holds it), "
        "and catalog_info: false (the file has no /model labels).\n"
        "../guide: declared with new profile 'qwen3-coder-480b-a35b' (profiles/qwen3-coder-480b-a35b.yaml).\n"
        "  close to existing profiles: devstral, openrouter, qwen3-coder; to switch to one: llmconf use PROFILE guide\n"
        "../guide2: declared with new profile 'qwen3-coder-480b-a35b' (the same backend as above).\n"
        "../ds: declared with new profile 'deepseek-r1-0528' (profiles/deepseek-r1-0528.yaml).\n"
        f"Secret 'openrouter': stored from dev/.claude/settings.local.json in {store} (0600).\n"
        "Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.\n"
    )
    # Comments and layout kept; one entry per worktree, an override only where the file differs.
    assert (tmp_path / "team/worktrees.yaml").read_text() == (
        "# team config\nvars: {team: forgerank}   # for templates\nworktrees:\n"
        "  ../main: anthropic   # main checkout\n"
        "  ../dev:\n    profile: devstral\n    catalog_info: false\n"
        "  ../direct: anthropic\n"
        "  ../glm:\n    profile: devstral\n    models: {sonnet: z-ai/glm-4.7}\n    catalog_info: false\n"
        "  ../guide: qwen3-coder-480b-a35b\n"
        "  ../guide2: qwen3-coder-480b-a35b\n"
        "  ../ds: deepseek-r1-0528\n"
    )
    # New profiles extend the gateway profile whose URL and key they share: the key is a
    # secret() reference, never the value.
    assert (tmp_path / "team/profiles/qwen3-coder-480b-a35b.yaml").read_text() == (
        "# Written by 'llmconf import' from guide/.claude/settings.local.json: the backend a switch script left there.\n"
        "extends: openrouter-base\n"
        "models:\n"
        "  haiku: mistralai/devstral-2512\n"
        "  sonnet: qwen/qwen3-coder-480b-a35b\n"
        "  opus: anthropic/claude-opus-4\n"
        "catalog_info: false\n"
    )
    assert (tmp_path / "team/profiles/deepseek-r1-0528.yaml").read_text().endswith(
        "extends: openrouter-base\nmodels:\n"
        "  haiku: deepseek/deepseek-r1-0528\n  sonnet: deepseek/deepseek-r1-0528\n  opus: deepseek/deepseek-r1-0528\n"
    )
    assert sorted(p.name for p in (tmp_path / "team/profiles").iterdir()) == [
        "deepseek-r1-0528.yaml",
        "qwen3-coder-480b-a35b.yaml",
    ]
    listed = run("secret", "list")
    assert listed.out == "openrouter\n"
    assert SecretStore().get("openrouter") == SECRET
    outputs = [result.out, result.err, listed.out, *_assert_in_sync(run, tmp_path)]
    _assert_secret_nowhere(tmp_path, outputs, isolated_home)
    # The user's own keys were never touched, and the declared profiles really drive the files.
    assert json.loads((tmp_path / "guide" / SETTINGS).read_text())["permissions"] == USER_KEYS["permissions"]
    switched_ = run("-C", "team", "use", "openrouter", "guide", "--apply", "--yes")
    assert switched_.code == 0, switched_.err
    env = json.loads((tmp_path / "guide" / SETTINGS).read_text())["env"]
    assert (env["ANTHROPIC_DEFAULT_SONNET_MODEL"], env["ANTHROPIC_AUTH_TOKEN"]) == ("qwen/qwen3-coder:exacto", SECRET)
    assert env["BASH_DEFAULT_TIMEOUT_MS"] == "120000"


def test_an_imported_file_that_others_can_read_is_made_0600_by_the_next_apply(tmp_path, run):
    """Trap 4 of issue 13: import says so, plan shows the mode change, apply makes it."""
    import stat

    _setup(tmp_path, {"dev": switched("devstral")}, mode=0o644)
    result = _imported(run, "dev")
    assert result.out.splitlines()[1:2] == ["  its file holds the key and others can read it (0644): plan will make it 0600."]
    assert result.out.splitlines()[-1] == (
        "Next: 'llmconf plan' shows no changes for them, except the file mode of ../dev ('llmconf apply' makes it 0600); "
        "switch a worktree with 'llmconf use PROFILE WORKTREE'."
    )
    settings = tmp_path / "dev" / SETTINGS
    before = settings.read_text()
    assert run("-C", "team", "plan").out == (
        "# dev: dev/.claude/settings.local.json (profile devstral) will be updated\n"
        "  ~ file mode 0644 -> 0600 (it holds a key)\n"
        "\n"
        "Plan: 0 to add, 0 to change, 0 to remove, 1 file mode to 0600 (in 1 file).\n"
    )
    assert run("-C", "team", "apply", "--yes").code == 0
    assert (stat.S_IMODE(settings.stat().st_mode), settings.read_text()) == (0o600, before)
    _assert_in_sync(run, tmp_path)


def test_the_current_folder_is_the_default(tmp_path, run):
    _setup(tmp_path, {"dev": switched("devstral")})
    result = run("-C", str(tmp_path / "team"), "import", cwd=tmp_path / "dev")
    assert result.code == 0, result.err
    assert "  ../dev:\n    profile: devstral\n    catalog_info: false\n" in (tmp_path / "team/worktrees.yaml").read_text()


def test_key_files_give_only_the_api_keys_a_declared_profile_reads(tmp_path, run, isolated_home):
    # ../or is declared on openrouter already and the store lacks its key: the guide's key
    # file supplies it. Nothing else in that folder is the store's business.
    _setup(tmp_path, {"direct": switched("claude")}, "worktrees:\n  ../or: openrouter\n")
    write_tree(
        isolated_home,
        {
            ".config/forgerank/.env.openrouter": f"OPENROUTER_API_KEY={SECRET}\n",
            ".config/forgerank/.env.misc": "GITHUB_TOKEN=ghp-x\nAWS_SECRET_ACCESS_KEY=aws-x\nDEEPSEEK_API_KEY=ds-x\n",
        },
    )
    write_tree(tmp_path, {"keys/zai.env": "# mine\nexport ZAI_API_KEY='zai-key-value'\nOTHER_TOKEN=1\n"})
    result = _imported(run, "direct", "--key-file", "keys/zai.env")
    assert result.out.splitlines()[1:3] == [
        f"Secret 'openrouter': stored from {isolated_home}/.config/forgerank/.env.openrouter in "
        f"{isolated_home}/secrets.env (0600).",
        "keys/zai.env: ZAI_API_KEY not stored: no declared worktree reads secret('zai').",
    ]
    assert run("secret", "list").out == "openrouter\n"
    assert SecretStore().get("openrouter") == SECRET
    _assert_secret_nowhere(tmp_path, [result.out, result.err], isolated_home)


def test_nothing_imported_stores_no_key(tmp_path, run, isolated_home):
    _setup(tmp_path, {"main": switched("claude")}, "worktrees:\n  ../main: openrouter\n")
    write_tree(isolated_home, {".config/forgerank/.env.openrouter": f"OPENROUTER_API_KEY={SECRET}\n"})
    write_tree(tmp_path, {"keys/or.env": "OPENROUTER_API_KEY=other-key\n"})
    result = _imported(run, "main", "--key-file", "keys/or.env")
    assert result.out == (
        "../main: already declared in worktrees.yaml (profile 'openrouter'); left as it is.\n"
        "keys/or.env: OPENROUTER_API_KEY not stored: no worktree is imported.\n"
    )
    assert not (isolated_home / "secrets.env").exists()


def test_a_key_file_never_replaces_a_stored_key(tmp_path, run, isolated_home, store_secret):
    store_secret("openrouter", "the-stored-key")
    _setup(tmp_path, {"direct": switched("claude")}, "worktrees:\n  ../or: openrouter\n")
    write_tree(isolated_home, {".config/forgerank/.env.openrouter": f"OPENROUTER_API_KEY={SECRET}\n"})
    result = run("-C", "team", "import", "direct")
    assert result.code == 0
    assert result.err == (
        f"llmconf: warning: {isolated_home}/.config/forgerank/.env.openrouter: its key for secret 'openrouter' "
        f"differs from the one already in {isolated_home}/secrets.env; kept that one "
        "(to replace it: llmconf secret set openrouter)\n"
    )
    assert result.out == (  # no "Secret 'openrouter': stored" line
        "../direct: declared with profile 'anthropic' (its settings are exactly that profile).\n" + NEXT
    )
    assert SecretStore().get("openrouter") == "the-stored-key"
    _assert_secret_nowhere(tmp_path, [result.out, result.err])
    assert "the-stored-key" not in result.out + result.err


def test_a_worktree_key_that_differs_from_the_store_is_refused(tmp_path, run, isolated_home, store_secret):
    store_secret("openrouter", "the-stored-key")
    config = _setup(tmp_path, {"dev": switched("devstral"), "direct": switched("claude")})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "direct", "dev")
    assert result.err == (
        "llmconf: dev/.claude/settings.local.json: its ANTHROPIC_AUTH_TOKEN differs from secret 'openrouter' "
        f"already in {isolated_home}/secrets.env; nothing changed (plan would replace the file's key) "
        "(if the file's key is the right one: 'llmconf secret rm openrouter' and import again)\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)
    assert not (config / "profiles").exists()
    assert "the-stored-key" not in result.err and SECRET not in result.err


def test_a_worktree_already_declared_is_skipped(tmp_path, run):
    config = "worktrees:\n  ../A: deepseek   # keep me\n"
    _setup(tmp_path, {"A": switched("devstral"), "B": switched("devstral")}, config)
    result = run("-C", "team", "import", "A", "B")
    assert result.code == 0, result.err
    assert result.out.splitlines()[:2] == [
        "../A: already declared in worktrees.yaml (profile 'deepseek'); left as it is.",
        "../B: declared with profile 'devstral' and catalog_info: false (the file has no /model labels).",
    ]
    assert (tmp_path / "team/worktrees.yaml").read_text() == (
        "worktrees:\n  ../A: deepseek   # keep me\n  ../B:\n    profile: devstral\n    catalog_info: false\n"
    )


def test_dry_run_changes_nothing(tmp_path, run, isolated_home):
    _setup(tmp_path, {"guide": switched("openrouter"), "glm": switched("devstral", ANTHROPIC_DEFAULT_OPUS_MODEL="z-ai/glm-4.7")})
    write_tree(isolated_home, {".config/forgerank/.env.zai": "ZAI_API_KEY=zai-key-value\n"})
    before = _everything(tmp_path, isolated_home)
    result = _imported(run, "guide", "glm", "--dry-run")
    assert result.out == (
        "../guide: would be declared with new profile 'qwen3-coder-480b-a35b' (profiles/qwen3-coder-480b-a35b.yaml).\n"
        "  close to existing profiles: devstral, openrouter, qwen3-coder; to switch to one: llmconf use PROFILE guide\n"
        "../glm: would be declared with profile 'devstral' and its own models.opus (as the file holds it), "
        "and catalog_info: false (the file has no /model labels).\n"
        f"Secret 'openrouter': would be stored from guide/.claude/settings.local.json in {isolated_home}/secrets.env (0600).\n"
        "Dry run: nothing changed.\n"  # .env.zai: no profile here reads secret('zai')
    )
    _assert_nothing_written(before, tmp_path, isolated_home)
    _assert_secret_nowhere(tmp_path, [result.out])


def test_bad_paths_are_refused_and_nothing_changes(tmp_path, run, isolated_home):
    _setup(tmp_path, {"dev": switched("devstral")})
    write_tree(tmp_path, {"empty/README.md": "no settings here\n", "afile": "x\n"})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "dev", "nowhere")
    assert result.err == "llmconf: nowhere: no such folder; nothing changed (name a worktree folder)\n"
    result = run("-C", "team", "import", "afile")
    assert result.err == "llmconf: afile: not a folder; nothing changed (name a worktree folder)\n"
    result = run("-C", "team", "import", "dev", "--key-file", "missing.env")
    assert result.err == "llmconf: missing.env: no such file; nothing changed (name a key file holding NAME_API_KEY=...)\n"
    _assert_nothing_written(before, tmp_path, isolated_home)


def test_invalid_json_is_refused_with_its_line(tmp_path, run, isolated_home):
    _setup(tmp_path, {"dev": switched("devstral"), "broken": '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "x",\n  }\n}\n'})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "dev", "broken")
    assert result.err == (
        "llmconf: broken/.claude/settings.local.json:4: invalid JSON: Expecting property name enclosed in double "
        "quotes (column 3) (JSON allows no comma after the last member: remove it; llmconf never overwrites a file it cannot parse)\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)


def test_every_problem_is_reported_at_once(tmp_path, run):
    _setup(tmp_path, {"broken": "[1,\n"})
    result = run("-C", "team", "import", "nowhere", "broken")
    assert result.code == 1
    assert result.err.splitlines() == [
        "llmconf: nowhere: no such folder; nothing changed (name a worktree folder)",
        "llmconf: broken/.claude/settings.local.json:2: invalid JSON: Expecting value (column 1) "
        "(fix it by hand; llmconf never overwrites a file it cannot parse)",
    ]


def test_a_key_llmconf_cannot_declare_as_it_is_is_refused(tmp_path, run, isolated_home):
    # The key in ANTHROPIC_API_KEY (x-api-key): llmconf always sends a gateway key as the
    # token with ANTHROPIC_API_KEY blank, so plan would change the file. Refused, unprinted.
    text = switched("devstral", ANTHROPIC_API_KEY=SECRET)
    doc = json.loads(text)
    del doc["env"]["ANTHROPIC_AUTH_TOKEN"]
    _setup(tmp_path, {"xkey": json.dumps(doc, indent=2)})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "xkey")
    assert result.err == (
        "llmconf: xkey/.claude/settings.local.json: cannot be declared so that plan leaves it as it is "
        "(plan would change env.ANTHROPIC_API_KEY); nothing changed (llmconf sends a gateway key as "
        "ANTHROPIC_AUTH_TOKEN with ANTHROPIC_API_KEY blank; move the key there by hand and import again, "
        "or leave this worktree out and use 'llmconf use')\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)


def _direct_with_overrides(tmp_path, run, doc) -> tuple[str, str]:
    """Import a folder "direct" whose file holds `doc`, which plan then finds in sync: the line
    import says of it, and what worktrees.yaml ends with."""
    _setup(tmp_path, {"direct": json.dumps(doc, indent=2)})
    result = run("-C", "team", "import", "direct")
    assert result.code == 0, result.err
    _assert_in_sync(run, tmp_path)
    entry = (tmp_path / "team/worktrees.yaml").read_text().split("  ../direct:\n", 1)[1]
    return result.out.splitlines()[0], entry


def test_no_gateway_is_anthropic_with_overrides(tmp_path, run):
    doc = {**USER_KEYS, "env": {**USER_KEYS["env"], "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4-5", "ANTHROPIC_MODEL": "opus"}}
    assert _direct_with_overrides(tmp_path, run, doc) == (
        "../direct: declared with profile 'anthropic' and its own models.opus, env.ANTHROPIC_MODEL (as the file holds it).",
        "    profile: anthropic\n    models: {opus: claude-opus-4-5}\n    env: {ANTHROPIC_MODEL: opus}\n",
    )


def test_keys_llmconf_wrote_before_are_declared_too(tmp_path, run, store_secret):
    # llmconf applied a profile with API_TIMEOUT_MS here, then the entry was removed: it still
    # owns that key, so a declaration without it would make plan remove it.
    store_secret()
    write_tree(
        tmp_path,
        {
            "team/worktrees.yaml": "worktrees:\n  ../A: slow\n",
            "team/profiles/slow.yaml": "extends: devstral\nenv: {API_TIMEOUT_MS: '600000'}\n",
            f"A/{SETTINGS}": json.dumps(USER_KEYS, indent=2),
        },
    )
    assert run("-C", "team", "apply", "--yes").code == 0
    write_tree(tmp_path, {"team/worktrees.yaml": "worktrees: {}\n"})
    (tmp_path / "team/profiles/slow.yaml").unlink()
    result = run("-C", "team", "import", "A")
    assert result.code == 0, result.err
    assert result.out == (  # no "Secret" line: the store already holds this very key
        "../A: declared with profile 'devstral' and its own env.API_TIMEOUT_MS (as the file holds it).\n" + NEXT
    )
    _assert_in_sync(run, tmp_path)


def test_a_write_that_fails_is_one_error_and_undone(tmp_path, run, isolated_home):
    # profiles/ cannot be created (a file has its name): nothing is reported as done.
    config = _setup(tmp_path, {"guide": switched("openrouter")})
    write_tree(config, {"profiles": "not a folder\n"})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "guide")
    assert result.err == (
        "llmconf: team/profiles/qwen3-coder-480b-a35b.yaml: cannot write it "
        f"(File exists: {config}/profiles); nothing changed\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)
    assert not (isolated_home / "secrets.env").exists()


def test_a_later_write_that_fails_undoes_the_earlier_ones(tmp_path, run, isolated_home, monkeypatch):
    from llmconf import fs

    config = _setup(tmp_path, {"guide": switched("openrouter")})
    before = _everything(tmp_path, isolated_home)
    real = fs.write_atomic

    def failing(path, data, *args, **kwargs):  # worktrees.yaml, the last write, fails
        if Path(path).name == "worktrees.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, data, *args, **kwargs)

    monkeypatch.setattr(fs, "write_atomic", failing)
    result = _refused(run, "guide")
    assert result.err == "llmconf: team/worktrees.yaml: cannot write it (Permission denied); nothing changed\n"
    # The new profile, and the profiles/ folder made for it, are deleted again and the secret
    # removed: the store is back to empty.
    assert not (config / "profiles/qwen3-coder-480b-a35b.yaml").exists()
    assert SecretStore().names() == []
    after = _everything(tmp_path, isolated_home)
    after.pop("home/secrets.env", None)
    assert changed_paths(before, after) == set()


def test_a_folder_without_settings_is_anthropic_direct(tmp_path, run):
    # The README's batch: the main checkout on Anthropic direct has no settings file at all.
    _setup(tmp_path, {"glm": switched("devstral", ANTHROPIC_DEFAULT_SONNET_MODEL="z-ai/glm-4.7")}, "worktrees:\n")
    result = _imported(run, "main", "glm")
    assert result.out.splitlines()[:2] == [
        "../main: declared with profile 'anthropic' (no .claude/settings.local.json there: Anthropic direct, nothing to adopt).",
        "../glm: declared with profile 'devstral' and its own models.sonnet (as the file holds it), "
        "and catalog_info: false (the file has no /model labels).",
    ]
    assert (tmp_path / "team/worktrees.yaml").read_text() == (
        "worktrees:\n  ../main: anthropic\n  ../glm:\n    profile: devstral\n    models: {sonnet: z-ai/glm-4.7}\n"
        "    catalog_info: false\n"
    )
    _assert_in_sync(run, tmp_path)
    assert not (tmp_path / "main/.claude").exists()


ZAI = {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic", "ANTHROPIC_AUTH_TOKEN": "zai-key-value", "API_TIMEOUT_MS": "3000000"}


def test_a_token_without_a_blank_api_key_is_imported_and_plan_adds_it(tmp_path, run, isolated_home):
    # As z.ai documents it: base URL and token, no ANTHROPIC_API_KEY.
    _setup(tmp_path, {"zai": json.dumps({**USER_KEYS, "env": ZAI}, indent=2)}, "worktrees:\n")
    result = _imported(run, "zai")
    assert result.out == (
        "../zai: declared with new profile 'zai' (profiles/zai.yaml).\n"
        '  its file has no ANTHROPIC_API_KEY: plan will add ANTHROPIC_API_KEY: "" (the one change there; '
        "the token is still what Claude Code sends).\n"
        f"Secret 'zai': stored from zai/.claude/settings.local.json in {isolated_home}/secrets.env (0600).\n"
        "Next: 'llmconf plan' shows no changes for them, except ANTHROPIC_API_KEY for ../zai ('llmconf apply' adds it); "
        "switch a worktree with 'llmconf use PROFILE WORKTREE'.\n"
    )
    assert (tmp_path / "team/profiles/zai.yaml").read_text() == (
        "# Written by 'llmconf import' from zai/.claude/settings.local.json: the backend a switch script left there.\n"
        "base_url: https://api.z.ai/api/anthropic\n"
        "auth_token: \"{{ secret('zai') }}\"\n"
    )
    plan = run("-C", "team", "plan", "--detailed-exitcode")
    assert (plan.code, plan.err) == (2, "")
    assert plan.out == (
        "# zai: zai/.claude/settings.local.json (profile zai) will be updated\n"
        '  + env.ANTHROPIC_API_KEY = ""\n'
        "\n"
        "Plan: 1 to add, 0 to change, 0 to remove (in 1 file).\n"
    )
    assert run("-C", "team", "apply", "--yes").code == 0
    env = json.loads((tmp_path / "zai" / SETTINGS).read_text())["env"]
    assert env == {**ZAI, "ANTHROPIC_API_KEY": ""}
    _assert_in_sync(run, tmp_path)


def test_a_local_gateway_gets_a_sane_name_and_the_schema_modeline(tmp_path, run, isolated_home):
    env = {"ANTHROPIC_BASE_URL": "http://[::1]:4000", "ANTHROPIC_AUTH_TOKEN": "local-key", "ANTHROPIC_API_KEY": ""}
    config = _setup(tmp_path, {"local": json.dumps({"env": env})}, "worktrees:\n")
    (config / ".llmconf/schema").mkdir(parents=True)
    result = _imported(run, "local")
    assert result.out.splitlines()[0] == "../local: declared with new profile 'gateway-4000' (profiles/gateway-4000.yaml)."
    assert (config / "profiles/gateway-4000.yaml").read_text() == (
        "# yaml-language-server: $schema=../.llmconf/schema/profile.schema.json\n"
        "# Written by 'llmconf import' from local/.claude/settings.local.json: the backend a switch script left there.\n"
        "base_url: \"http://[::1]:4000\"\n"
        "auth_token: \"{{ secret('gateway-4000') }}\"\n"
    )
    assert SecretStore().get("gateway-4000") == "local-key"
    _assert_in_sync(run, tmp_path)


def test_entries_are_appended_in_the_files_own_layout(tmp_path, run):
    # Four-space indent, quoted keys and values, and a key after worktrees: all kept as written.
    config = (
        "worktrees:\n"
        "    '../main': \"anthropic\"   # main checkout\n"
        "    ../old:\n"
        "        profile: 'devstral'\n"
        "\n"
        "# shared values\n"
        "vars:\n"
        "    team: 'forgerank'\n"
    )
    _setup(tmp_path, {"dev": switched("devstral"), "glm": switched("devstral", ANTHROPIC_DEFAULT_SONNET_MODEL="z-ai/glm-4.7")}, config)
    result = run("-C", "team", "import", "dev", "glm")
    assert result.code == 0, result.err
    assert (tmp_path / "team/worktrees.yaml").read_text() == (
        "worktrees:\n"
        "    '../main': \"anthropic\"   # main checkout\n"
        "    ../old:\n"
        "        profile: 'devstral'\n"
        "    ../dev:\n"
        "        profile: devstral\n"
        "        catalog_info: false\n"
        "    ../glm:\n"
        "        profile: devstral\n"
        "        models: {sonnet: z-ai/glm-4.7}\n"
        "        catalog_info: false\n"
        "\n"
        "# shared values\n"
        "vars:\n"
        "    team: 'forgerank'\n"
    )


def test_an_override_with_a_colon_is_written_so_every_yaml_parser_reads_it(tmp_path, run):
    """OpenRouter's variants (:exacto, :free) hold a ':' that libyaml rejects unquoted in {...}."""
    _setup(tmp_path, {"glm": switched("devstral", ANTHROPIC_DEFAULT_SONNET_MODEL="z-ai/glm-4.7:exacto")})
    result = run("-C", "team", "import", "glm")
    assert result.code == 0, result.err
    text = (tmp_path / "team/worktrees.yaml").read_text()
    assert text == CONFIG + '  ../glm:\n    profile: devstral\n    models: {sonnet: "z-ai/glm-4.7:exacto"}\n    catalog_info: false\n'
    from ruamel.yaml import YAML

    assert YAML(typ="safe").load(text)["worktrees"]["../glm"]["models"] == {"sonnet": "z-ai/glm-4.7:exacto"}
    _assert_in_sync(run, tmp_path)


def test_a_key_file_without_an_api_key_line_is_refused(tmp_path, run, isolated_home):
    _setup(tmp_path, {"dev": switched("devstral")})
    write_tree(tmp_path, {"keys/gh.env": "GITHUB_TOKEN=ghp-x\nEMPTY_API_KEY=\n"})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "dev", "--key-file", "keys/gh.env")
    assert result.err == "llmconf: keys/gh.env: holds no NAME_API_KEY=... line; nothing changed (name a key file)\n"
    _assert_nothing_written(before, tmp_path, isolated_home)


def test_two_worktrees_with_different_keys_for_one_secret_are_refused(tmp_path, run, isolated_home):
    _setup(tmp_path, {"a": switched("devstral"), "b": switched("devstral", key="sk-or-v1-another-key")})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "a", "b")
    assert result.err == (
        "llmconf: b/.claude/settings.local.json: its ANTHROPIC_AUTH_TOKEN differs from the one in "
        "a/.claude/settings.local.json, and both would be secret 'openrouter'; nothing changed "
        "(import them one at a time, or make the keys the same)\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)
    _assert_secret_nowhere(tmp_path, [result.err])
    assert "another-key" not in result.err


def test_a_worktree_key_wins_over_a_key_file(tmp_path, run, isolated_home):
    _setup(tmp_path, {"dev": switched("devstral")}, "worktrees:\n")
    write_tree(isolated_home, {".config/forgerank/.env.openrouter": "OPENROUTER_API_KEY=sk-or-v1-from-the-key-file\n"})
    result = run("-C", "team", "import", "dev")
    assert result.code == 0
    assert result.err == (
        f"llmconf: warning: {isolated_home}/.config/forgerank/.env.openrouter: its key for secret 'openrouter' "
        "differs from the one in dev/.claude/settings.local.json; kept that one\n"
    )
    assert result.out == (
        "../dev: declared with profile 'devstral' and catalog_info: false (the file has no /model labels).\n"
        f"Secret 'openrouter': stored from dev/.claude/settings.local.json in {isolated_home}/secrets.env (0600).\n"
        + NEXT
    )
    assert SecretStore().get("openrouter") == SECRET
    _assert_secret_nowhere(tmp_path, [result.out, result.err])
    assert "from-the-key-file" not in result.out + result.err


def test_a_worktree_key_that_differs_from_the_environment_is_refused(tmp_path, run, isolated_home, monkeypatch):
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "the-env-key")
    _setup(tmp_path, {"dev": switched("devstral")})
    before = _everything(tmp_path, isolated_home)
    result = _refused(run, "dev")
    assert result.err == (
        "llmconf: dev/.claude/settings.local.json: its ANTHROPIC_AUTH_TOKEN differs from secret 'openrouter' "
        "set in $LLMCONF_SECRET_OPENROUTER; nothing changed (plan would replace the file's key) "
        "(if the file's key is the right one: 'llmconf secret rm openrouter' and import again)\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)
    assert "the-env-key" not in result.err and SECRET not in result.err


def test_a_default_model_and_slot_label_in_the_env_are_declared_as_their_fields(tmp_path, run):
    env = {"ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-5", "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Sonnet here",
           "ANTHROPIC_DEFAULT_MODEL": "sonnet"}
    assert _direct_with_overrides(tmp_path, run, {"env": env}) == (
        "../direct: declared with profile 'anthropic' and its own models.sonnet, labels.sonnet, default (as the file holds it).",
        '    profile: anthropic\n    models: {sonnet: claude-sonnet-4-5}\n    labels: {sonnet: "Sonnet here"}\n    default: sonnet\n',
    )


def test_init_adopts_a_worktree_a_switch_script_switched(tmp_path, run, isolated_home):
    """`init ../main ../glm` from a new config folder, the README's way: the worktree the guide's
    script switched to OpenRouter is declared as that backend, never as `anthropic`, its key goes
    to the store, and the first plan changes nothing but the mode of the file holding the key."""
    write_tree(tmp_path, {"main/README.md": "main\n", f"glm/{SETTINGS}": switched("openrouter"), "team/.keep": ""})
    os.chmod(tmp_path / "glm" / SETTINGS, 0o600)
    result = run("-C", "team", "init", "main", "glm")
    assert (result.code, result.err) == (0, "")
    store = isolated_home / "secrets.env"
    assert result.out.splitlines()[2:] == [
        "../main: declared with profile 'anthropic' (no .claude/settings.local.json there: Anthropic direct, nothing to adopt).",
        "../glm: declared with new profile 'qwen3-coder-480b-a35b' (profiles/qwen3-coder-480b-a35b.yaml).",
        "  close to existing profiles: devstral, openrouter, qwen3-coder; to switch to one: llmconf use PROFILE glm",
        f"Secret 'openrouter': stored from glm/.claude/settings.local.json in {store} (0600).",
        "Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.",
    ]
    assert (tmp_path / "team/worktrees.yaml").read_text().splitlines()[-3:] == [
        "worktrees:",
        "  ../main: anthropic",
        "  ../glm: qwen3-coder-480b-a35b",
    ]
    assert SecretStore(store).get("openrouter") == SECRET
    outputs = _assert_in_sync(run, tmp_path)
    _assert_secret_nowhere(tmp_path, [result.out, *outputs], isolated_home)


def test_init_takes_back_every_file_when_a_worktree_cannot_be_adopted(tmp_path, run, isolated_home):
    write_tree(tmp_path, {f"glm/{SETTINGS}": switched("openrouter"), f"bad/{SETTINGS}": '{"env": {},\n}\n', "team/.keep": ""})
    before = _everything(tmp_path, isolated_home)
    result = run("-C", "team", "init", "glm", "bad")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "llmconf: bad/.claude/settings.local.json:2: invalid JSON: Expecting property name enclosed in double quotes "
        "(column 1) (JSON allows no comma after the last member: remove it; llmconf never overwrites a file it cannot parse)\n"
    )
    _assert_nothing_written(before, tmp_path, isolated_home)
