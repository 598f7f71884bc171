"""Issue 18, secrets: a key never shows, whatever holds it (a URL's path, a model field, an env
value), whether it is rendered now or only read back from disk, with or without the state
record; import moves keys out of YAML; the config cache never keeps one; a store that is not
UTF-8 is a located error."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.helpers import assert_unchanged, snapshot_tree

HEX = "0123456789abcdef" * 4
#: A realistic OpenRouter key, and a secret with no key shape (protected only by tracking).
KEY = "sk-or-v1-" + HEX
PLAIN = "hunter2-plain-pass"
URL = f"https://gw.example/k/{KEY}/api"

#: Every secret() the profile reads lands in a different kind of field.
EVERYWHERE = """\
base_url: "https://gw.example/k/{{ secret('gw') }}/api"
auth_token: "{{ secret('gw') }}"
models:
  sonnet: "m-{{ secret('pw') }}"
  haiku: "{{ secret('gw') }}"
subagent: "s-{{ secret('pw') }}"
env:
  MY_VAR: "x-{{ secret('pw') }}"
  OTHER: "{{ secret('gw') }}/tail"
"""

VIEWS = [("plan",), ("plan", "--json"), ("status",), ("status", "--json"), ("doctor",), ("doctor", "--json")]


def forms(secret: str) -> list[str]:
    """The secret and what is derived from it: other cases, and slices a view could cut."""
    out = [secret, secret.lower(), secret.upper()]
    if len(secret) > 20:
        out += [secret[9:29], secret[-16:], secret[20:40]]
    else:
        out += [secret[3:]]
    return out


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        for form in forms(secret):
            assert form not in text, f"{form!r} leaked"


def files_under(*roots: Path) -> str:
    """Every file's text under these folders (what a leak could land in). Backups are left
    out: they keep a file's earlier bytes for rollback, keys included, by design (0600)."""
    out = []
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else ():
            if path.is_file() and "backups" not in path.parts:
                out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def state_and_cache(home: Path) -> list[Path]:
    return [home / ".local" / "state", home / ".cache"]


@pytest.fixture
def stored(run):
    assert run("secret", "set", "gw", stdin=KEY + "\n").code == 0
    assert run("secret", "set", "pw", stdin=PLAIN + "\n").code == 0


@pytest.fixture
def everywhere(tmp_path, stored):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "profiles/p.yaml": EVERYWHERE, "wt/.keep": ""})
    return tmp_path


# --- 1. what status and doctor read from disk ---------------------------------------------


@pytest.mark.parametrize("applied", [False, True], ids=["before-apply", "applied"])
@pytest.mark.parametrize("argv", VIEWS, ids=" ".join)
def test_secret_in_any_field_is_never_shown(everywhere, run, isolated_home, argv, applied):
    if applied:
        assert run("apply", "--yes").code == 0
    r = run(*argv)
    assert r.code == 0, r.err
    assert_clean(r.out + r.err, KEY, PLAIN)
    assert_clean(files_under(*state_and_cache(isolated_home)), KEY, PLAIN)


def test_status_and_doctor_hide_what_the_file_holds_where_the_profile_reads_a_secret(everywhere, run):
    assert run("apply", "--yes").code == 0
    status = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (status["backend"], status["sonnet"], status["haiku"], status["subagent"]) == ("(sensitive)",) * 4
    effective = status["effective_values"]
    assert (effective["backend"], effective["sonnet"], effective["haiku"], effective["subagent"]) == ("(sensitive)",) * 4
    assert status["effective"] == "as declared"
    doctor = json.loads(run("doctor", "--json").out)["worktrees"][0]["effective"]
    assert doctor["base_url"] == "(sensitive)"
    assert (doctor["models"]["sonnet"], doctor["models"]["haiku"], doctor["subagent"]) == ("(sensitive)",) * 3
    assert run("doctor").out.splitlines()[0] == "# wt (profile p): (sensitive)"


@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(".claude/settings.json", id="user-settings"),
        pytest.param("WT/.claude/settings.json", id="project-settings"),
    ],
)
@pytest.mark.parametrize(
    "var,value,shown",
    [
        ("ANTHROPIC_BASE_URL", URL, "https://gw.example/k/(sensitive)/api"),
        ("ANTHROPIC_BASE_URL", f"https://gw.example/api?key={KEY}", "https://gw.example/api?key=(sensitive)"),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", f"acme/{KEY}", "acme/(sensitive)"),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", "ghp_" + "aB3" * 10, "(sensitive)"),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", "AIza" + "Xy9" * 10, "(sensitive)"),
    ],
    ids=["url-path", "url-query", "model", "github", "google"],
)
def test_a_key_shaped_value_in_another_layer_is_scrubbed(tmp_path, run, isolated_home, layer, var, value, shown):
    """A layer llmconf does not write (user or project settings) with a key in a value: doctor
    names the override, and status and doctor show the value with the key scrubbed."""
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: anthropic\n", "wt/.keep": ""})
    root = isolated_home if layer.startswith(".claude") else tmp_path
    write_tree(root, {layer.replace("WT", "wt"): json.dumps({"env": {var: value}})})
    assert run("apply", "--yes").code == 0
    for argv in VIEWS:
        r = run(*argv)
        assert_clean(r.out + r.err, value[-40:], KEY)
    doctor = json.loads(run("doctor", "--json").out)["worktrees"][0]
    got = doctor["effective"]["base_url"] if var == "ANTHROPIC_BASE_URL" else doctor["effective"]["models"]["sonnet"]
    assert got == shown
    if var == "ANTHROPIC_BASE_URL":
        messages = [f["message"] for f in doctor["findings"]]
        assert any(f'set ANTHROPIC_BASE_URL="{shown}";' in m for m in messages), messages


def test_a_recorded_secret_stays_hidden_after_the_profile_stops_reading_it(everywhere, run):
    """Applied from secrets, then the profile changed to plain values (not applied yet): the
    file still holds the old values, and the state record says they were secrets."""
    assert run("apply", "--yes").code == 0
    (everywhere / "profiles/p.yaml").write_text("base_url: https://gw.example/api\nmodels: {sonnet: plain-model}\n")
    for argv in VIEWS:
        r = run(*argv)
        assert_clean(r.out + r.err, KEY, PLAIN)
    row = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (row["sonnet"], row["effective_values"]["sonnet"]) == ("plain-model", "(sensitive)")


# --- 2. removals and changes without the state record -------------------------------------


def _lines(text: str) -> list[str]:
    """A plan's change lines, with the padding that aligns them squeezed to one space."""
    return [" ".join(line.split()) for line in text.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("how", ["state-deleted", "hand-written"])
def test_removed_key_shaped_values_hidden_without_a_state_record(everywhere, run, isolated_home, how):
    if how == "state-deleted":
        assert run("apply", "--yes").code == 0
        shutil.rmtree(isolated_home / ".local" / "state" / "llmconf")
    else:  # a file a switch script wrote: no record at all
        doc = {"env": {"ANTHROPIC_BASE_URL": URL, "ANTHROPIC_AUTH_TOKEN": KEY, "ANTHROPIC_DEFAULT_HAIKU_MODEL": KEY}}
        write_tree(everywhere, {"wt/.claude/settings.local.json": json.dumps(doc)})
    (everywhere / "worktrees.yaml").write_text("worktrees:\n  wt: anthropic\n")
    r = run("plan")
    assert r.code == 0, r.err
    assert "- env.ANTHROPIC_BASE_URL = (sensitive)" in _lines(r.out)
    assert "- env.ANTHROPIC_DEFAULT_HAIKU_MODEL = (sensitive)" in _lines(r.out)
    assert_clean(r.out + r.err, KEY)
    changes = json.loads(run("plan", "--json").out)["worktrees"][0]["changes"]
    by_key = {c["key"]: c for c in changes}
    assert by_key["env.ANTHROPIC_BASE_URL"] == {
        "key": "env.ANTHROPIC_BASE_URL", "action": "remove", "before": None, "after": None, "sensitive": True, "drift": False,
    }
    out = everywhere / "saved.plan"
    assert run("plan", "--out", str(out)).code == 0
    assert_clean(out.read_text(), KEY)
    for argv in VIEWS[2:]:
        r = run(*argv)
        assert_clean(r.out + r.err, KEY)


def test_changed_key_shaped_value_hidden_on_both_sides(everywhere, run, isolated_home):
    assert run("apply", "--yes").code == 0
    shutil.rmtree(isolated_home / ".local" / "state" / "llmconf")
    (everywhere / "profiles/p.yaml").write_text(
        "base_url: https://other.example/api\nauth_token: \"{{ secret('pw') }}\"\nmodels: {haiku: plain-model}\n"
    )
    r = run("plan")
    assert "~ env.ANTHROPIC_BASE_URL = (sensitive) -> (sensitive)" in _lines(r.out)
    assert "~ env.ANTHROPIC_DEFAULT_HAIKU_MODEL = (sensitive) -> (sensitive)" in _lines(r.out)
    assert_clean(r.out + r.err, KEY)
    assert_clean(run("plan", "--json").out, KEY)


def test_a_model_id_is_not_taken_for_a_key(tmp_path, run):
    """Long model IDs (dashes between short runs) still show: only key shapes are hidden."""
    model = "qwen/qwen3-coder-480b-a35b-instruct-2507"
    write_tree(
        tmp_path,
        {"worktrees.yaml": "worktrees:\n  wt: anthropic\n", "wt/.claude/settings.local.json": json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://x.example", "ANTHROPIC_DEFAULT_SONNET_MODEL": model}})},
    )
    r = run("plan")
    assert f'- env.ANTHROPIC_DEFAULT_SONNET_MODEL = "{model}"' in _lines(r.out)
    assert '- env.ANTHROPIC_BASE_URL = "https://x.example"' in _lines(r.out)


# --- 4. the config cache ------------------------------------------------------------------

TOKEN_PROFILE = "base_url: https://gw.example/api\nauth_token: \"{{ vars.tok }}\"\nmodels: {sonnet: m}\n"


def _cache_files(home: Path) -> list[Path]:
    return sorted((home / ".cache").rglob("config-*.json"))  # the config cache (not the catalog's)


@pytest.mark.parametrize(
    "files,secret",
    [
        # A literal token kept under vars: and rendered into auth_token (key-shaped or not).
        ({"worktrees.yaml": f"vars:\n  tok: {KEY}\nworktrees:\n  wt: q\n", "profiles/q.yaml": TOKEN_PROFILE}, KEY),
        ({"worktrees.yaml": f"vars:\n  tok: {PLAIN}\nworktrees:\n  wt: q\n", "profiles/q.yaml": TOKEN_PROFILE}, PLAIN),
        # A var nested in a mapping, read by an env credential.
        (
            {
                "worktrees.yaml": f"vars:\n  gw: {{tok: {PLAIN}}}\nworktrees:\n  wt: q\n",
                "profiles/q.yaml": "base_url: https://gw.example/api\nenv: {GW_API_KEY: \"{{ vars.gw.tok }}\"}\n",
            },
            PLAIN,
        ),
        # A key-shaped literal anywhere: in base_url's path, a model, an env value, an override.
        ({"worktrees.yaml": "worktrees:\n  wt: q\n", "profiles/q.yaml": f"base_url: {URL}\n"}, KEY),
        ({"worktrees.yaml": "worktrees:\n  wt: q\n", "profiles/q.yaml": f"base_url: https://gw.example\nmodels: {{sonnet: {KEY}}}\n"}, KEY),
        ({"worktrees.yaml": "worktrees:\n  wt: q\n", "profiles/q.yaml": f"base_url: https://gw.example\nenv: {{X: {KEY}}}\n"}, KEY),
        ({"worktrees.yaml": f"worktrees:\n  wt: {{profile: q, base_url: '{URL}'}}\n", "profiles/q.yaml": "base_url: https://gw.example\n"}, KEY),
        ({"worktrees.yaml": f"vars:\n  unused: {KEY}\nworktrees:\n  wt: q\n", "profiles/q.yaml": "base_url: https://gw.example\n"}, KEY),
    ],
    ids=["vars-key", "vars-plain", "vars-nested-env", "url-path", "model", "env-value", "override", "unused-var"],
)
def test_config_with_a_literal_key_is_never_cached(tmp_path, run, isolated_home, files, secret):
    write_tree(tmp_path, {**files, "wt/.keep": ""})
    for argv in VIEWS:
        r = run(*argv)
        assert_clean(r.out + r.err, secret)
    assert _cache_files(isolated_home) == []
    assert_clean(files_under(*state_and_cache(isolated_home)), secret)
    r = run("apply", "--yes")
    assert r.code == 0, r.err
    assert_clean(files_under(*state_and_cache(isolated_home)), secret)


def test_config_that_reads_its_token_from_the_store_is_still_cached(everywhere, run, isolated_home):
    assert run("plan").code == 0
    assert len(_cache_files(isolated_home)) == 1
    assert_clean(files_under(*state_and_cache(isolated_home)), KEY, PLAIN)


# --- 5. a store, or a secret's source, that is not UTF-8 ----------------------------------


def _bad_store(isolated_home: Path, line: bytes) -> Path:
    store = isolated_home / "secrets.env"
    store.write_bytes(b'# llmconf secrets\npw="' + PLAIN.encode() + b'"\n' + line + b"\n")
    os.chmod(store, 0o600)
    return store


BAD_LINES = {
    "value": b'gw="sk-or-v1-\xff\xfe' + HEX.encode() + b'"',
    "name": b'g\xffw="' + KEY.encode() + b'"',
    "escaped-surrogate": b'gw="sk-or-v1-\\udcff' + HEX.encode() + b'"',
    "latin1-comment": b"# caf\xe9 " + KEY.encode(),
}


@pytest.mark.parametrize("bad", BAD_LINES, ids=list(BAD_LINES))
@pytest.mark.parametrize("argv", [("plan",), ("plan", "--json"), ("status",), ("doctor",), ("apply", "--yes"), ("secret", "list"), ("secret", "get", "gw")])
def test_store_that_is_not_utf8_is_a_located_error(everywhere, run, isolated_home, bad, argv):
    store = _bad_store(isolated_home, BAD_LINES[bad])
    settings = everywhere / "wt/.claude/settings.local.json"
    before = snapshot_tree(everywhere)
    r = run(*argv)
    assert r.code == 1, r.err
    line = f"{store}:3: secret line is not valid UTF-8 (not shown) (delete that line by hand, then store the key again: llmconf secret set NAME)"
    if argv[0] == "secret":
        assert r.err == f"llmconf: {line}\n"
    elif argv[0] == "doctor":  # a finding of the worktree, on stdout
        assert f"  error: profiles/p.yaml: {line}" in r.out.splitlines()
    else:
        assert f"llmconf: profiles/p.yaml:1: {line}" in r.err.splitlines()
    assert "Traceback" not in r.err and "internal error" not in r.err
    assert_clean(r.out + r.err, KEY)
    assert "\ufffd" not in r.err and "\\x" not in r.err and "udcff" not in r.err
    assert not settings.exists()
    assert_unchanged(before, everywhere)


@pytest.mark.parametrize("argv", [("plan",), ("status", "--json"), ("doctor",), ("apply", "--yes")])
def test_secret_override_from_the_environment_that_is_not_utf8(everywhere, run, monkeypatch, argv):
    monkeypatch.setenv("LLMCONF_SECRET_GW", os.fsdecode(b"sk-or-v1-\xff" + HEX.encode()))
    before = snapshot_tree(everywhere)
    r = run(*argv)
    assert r.code == 1
    message = "$LLMCONF_SECRET_GW is not valid UTF-8 (not shown) (set LLMCONF_SECRET_GW to the key as text)"
    if argv[0] == "doctor":
        assert f"  error: profiles/p.yaml: {message}" in r.out.splitlines()
    else:
        assert f"llmconf: profiles/p.yaml:1: {message}" in r.err.splitlines()
    assert_clean(r.out + r.err, KEY)
    assert_unchanged(before, everywhere)


def test_secret_source_env_that_is_not_utf8(tmp_path, run, monkeypatch):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "secrets:\n  gw: {env: GW_KEY}\nworktrees:\n  wt: q\n",
            "profiles/q.yaml": "base_url: https://gw.example/api\nauth_token: \"{{ secret('gw') }}\"\n",
            "wt/.keep": "",
        },
    )
    monkeypatch.setenv("GW_KEY", os.fsdecode(b"sk-or-v1-\xfe" + HEX.encode()))
    r = run("apply", "--yes")
    assert (r.code, r.err) == (
        1,
        "llmconf: profiles/q.yaml:2: secret 'gw' comes from $GW_KEY, which is not valid UTF-8 (not shown) (set GW_KEY to the key as text)\n"
        "llmconf: nothing written: fix the errors above, or name the other worktrees\n",
    )
    assert not (tmp_path / "wt/.claude").exists()


@pytest.mark.parametrize("value", [b"\xff\xfe", b"sk-or-v1-\xc3" + HEX.encode(), b"\xed\xa0\x80abc"])
def test_secret_set_refuses_a_value_that_is_not_utf8(tmp_path, isolated_home, value):
    """Through a real process: stdin's bytes as Python reads them (surrogates, or strictly)."""
    import subprocess
    import sys

    for encoding in ("utf-8:surrogateescape", "utf-8:strict"):
        env = {**os.environ, "PYTHONIOENCODING": encoding}
        out = subprocess.run(
            [sys.executable, "-m", "llmconf", "secret", "set", "gw"], input=value, capture_output=True, env=env, timeout=20, cwd=tmp_path
        )
        assert (out.returncode, out.stdout, out.stderr) == (
            1,
            b"",
            b"llmconf: the value for secret 'gw' is not valid UTF-8 (not shown); nothing stored (store the key as UTF-8 text)\n",
        )
        assert not (isolated_home / "secrets.env").exists()


# --- 3. import: a key inside a value goes to the store, never into YAML --------------------

ANT = "sk-ant-api03-" + "Zq9" * 12

IMPORTS = {
    # The guide's gateway with the key in base_url's path too (the same key as the token).
    "url-path-is-token": {"ANTHROPIC_BASE_URL": URL, "ANTHROPIC_AUTH_TOKEN": KEY, "ANTHROPIC_API_KEY": "", "ANTHROPIC_DEFAULT_SONNET_MODEL": "acme/m1"},
    # Another key in the query, none as token.
    "url-query": {"ANTHROPIC_BASE_URL": f"https://gw.example/api?key={ANT}&k2={KEY}"},
    # Keys in model fields, one beside template syntax that must stay literal.
    "models": {
        "ANTHROPIC_BASE_URL": "https://gw.example/api",
        "ANTHROPIC_AUTH_TOKEN": KEY,
        "ANTHROPIC_API_KEY": "",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": f"acme/{ANT}",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "{{x}}-" + ANT,
        "CLAUDE_CODE_SUBAGENT_MODEL": f"{KEY}",
    },
    # No gateway: anthropic with an override (worktrees.yaml) that holds a key.
    "override": {"ANTHROPIC_DEFAULT_SONNET_MODEL": f"m/{ANT}"},
}


@pytest.mark.parametrize("env", IMPORTS.values(), ids=list(IMPORTS))
def test_import_moves_every_key_inside_a_value_to_the_store(tmp_path, run, isolated_home, env):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n", "wt/.claude/settings.local.json": json.dumps({"env": env}, indent=2) + "\n"})
    settings = tmp_path / "wt/.claude/settings.local.json"
    original = settings.read_bytes()
    dry = run("import", "wt", "--dry-run")
    assert dry.code == 0, dry.err
    assert not (tmp_path / "profiles").exists() and not (isolated_home / "secrets.env").exists()
    r = run("import", "wt")
    assert r.code == 0, r.err
    assert_clean(dry.out + dry.err + r.out + r.err, KEY, ANT)
    yaml = files_under(tmp_path / "profiles") + (tmp_path / "worktrees.yaml").read_text()
    assert_clean(yaml, KEY, ANT)
    assert "secret('" in yaml
    # The keys went to the store, each under a secret the YAML reads.
    stored = (isolated_home / "secrets.env").read_text()
    for key in {KEY, ANT}:
        if key in json.dumps(env):
            assert f'="{key}"' in stored
    # import's promise: plan changes no key (only the file's mode, where it was readable).
    plan = json.loads(run("plan", "--json").out)
    assert [w["changes"] for w in plan["worktrees"]] == [[]]
    assert run("apply", "--yes").code == 0
    assert settings.read_bytes() == original
    for argv in VIEWS:
        out = run(*argv)
        assert_clean(out.out + out.err, KEY, ANT)
    assert_clean(files_under(*state_and_cache(isolated_home)), KEY, ANT)


def test_import_refuses_a_key_that_differs_from_the_stored_secret_of_that_name(tmp_path, run, isolated_home):
    write_tree(
        tmp_path,
        {"worktrees.yaml": "worktrees: {}\n", "wt/.claude/settings.local.json": json.dumps({"env": IMPORTS["url-query"]})},
    )
    assert run("secret", "set", "gwexample-key", stdin="another-value\n").code == 0
    before = snapshot_tree(tmp_path)
    r = run("import", "wt")
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        "llmconf: wt/.claude/settings.local.json: its key inside a value differs from secret 'gwexample-key' already in "
        f"{isolated_home}/secrets.env; nothing changed (plan would replace the file's key) "
        "(if the file's key is the right one: 'llmconf secret rm gwexample-key' and import again)\n"
    )
    assert_unchanged(before, tmp_path)


GATEWAY_FILE = {"env": {"ANTHROPIC_BASE_URL": "https://openrouter.ai/api", "ANTHROPIC_AUTH_TOKEN": "{{x}}"}}


@pytest.mark.parametrize(
    "data,line",
    [
        (b"OPENROUTER_API_KEY=sk-or-v1-\xff\xfe" + HEX.encode() + b"\n", 1),
        (b"# keys\nexport OPENROUTER_API_KEY='" + KEY.encode() + b"'\nZAI_API_KEY=\xc3(" + HEX.encode() + b"\n", 3),
    ],
    ids=["first-line", "third-line"],
)
def test_import_key_file_that_is_not_utf8_is_a_located_error(tmp_path, run, isolated_home, data, line):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n", "wt/.claude/settings.local.json": json.dumps(GATEWAY_FILE)})
    (tmp_path / "keys.env").write_bytes(data)
    before = snapshot_tree(tmp_path)
    r = run("import", "wt", "--key-file", "keys.env")
    assert (r.code, r.out, r.err) == (
        1, "", f"llmconf: keys.env:{line}: not valid UTF-8 (not shown); nothing changed (save the key file as UTF-8 text)\n"
    )
    assert_unchanged(before, tmp_path)
    assert not (isolated_home / "secrets.env").exists()
    # The guide's default key folder: a file there that is not UTF-8 is passed over, as before.
    write_tree(isolated_home, {".config/forgerank/.env.openrouter": ""})
    (isolated_home / ".config/forgerank/.env.openrouter").write_bytes(data)
    r = run("import", "wt", "--dry-run")
    assert r.code == 0, r.err
    assert_clean(r.out + r.err, KEY, HEX)


def test_import_token_spelling_bytes_that_are_not_utf8_is_refused(tmp_path, run, isolated_home):
    """A JSON escape (\\udcff) can spell what no UTF-8 file holds: refused, nothing written."""
    doc = '{"env": {"ANTHROPIC_BASE_URL": "https://openrouter.ai/api", "ANTHROPIC_AUTH_TOKEN": "sk-or-v1-\\udcff' + HEX + '"}}'
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n", "wt/.claude/settings.local.json": doc})
    before = snapshot_tree(tmp_path)
    r = run("import", "wt")
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        "llmconf: the value for secret 'openrouter' is not valid UTF-8 (not shown); nothing stored; nothing changed "
        "(store the key as UTF-8 text)\n"
    )
    assert_unchanged(before, tmp_path)
    assert not (isolated_home / "secrets.env").exists()


def test_doctor_hides_recorded_secrets_while_the_profile_cannot_render(everywhere, run, isolated_home):
    """The store lost the secrets: the worktree is an error, and doctor still shows the file's
    values, those the state record says were secrets hidden."""
    assert run("apply", "--yes").code == 0
    (isolated_home / "secrets.env").unlink()
    for argv in VIEWS[2:]:
        r = run(*argv)
        assert r.code == 1
        assert_clean(r.out + r.err, KEY, PLAIN)
    doctor = json.loads(run("doctor", "--json").out)["worktrees"][0]["effective"]
    assert (doctor["base_url"], doctor["models"]["sonnet"], doctor["subagent"]) == ("(sensitive)",) * 3


@pytest.mark.parametrize("argv", [("cost",), ("cost", "--json"), ("cost", "lit"), ("cost", "--baseline", "lit")])
def test_cost_scrubs_a_key_in_a_profiles_literal_model(tmp_path, run, argv):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n", "profiles/lit.yaml": f"base_url: https://gw.example\nmodels: {{opus: acme/{KEY}}}\n"})
    r = run(*argv)
    assert_clean(r.out + r.err, KEY)
    assert "acme/(sensitive)" in r.out + r.err


@pytest.mark.parametrize(
    "profile",
    [f"base_url: {URL}\n", f"base_url: https://gw.example\nmodels: {{sonnet: acme/{KEY}}}\n", f"base_url: https://gw.example\nenv: {{X: 'a {KEY}'}}\n"],
    ids=["url-path", "model", "env-value"],
)
def test_a_literal_key_is_written_0600_and_never_into_a_tracked_file(tmp_path, run, profile):
    from tests.helpers import git

    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: lit\n  repo: lit\n", "profiles/lit.yaml": profile, "wt/.keep": ""})
    write_tree(tmp_path, {"repo/.claude/settings.local.json": "{}\n"})
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".claude/settings.local.json")
    r = run("apply", "--yes")
    assert r.code == 1
    assert r.err.splitlines()[0] == (
        "llmconf: repo/.claude/settings.local.json: git tracks this file; llmconf will not write a secret into it "
        "(git-ignore .claude/settings.local.json and 'git rm --cached' it, "
        "or set allow_tracked_secret: true on 'repo' in worktrees.yaml)"
    )
    assert (tmp_path / "repo/.claude/settings.local.json").read_text() == "{}\n"
    (tmp_path / "worktrees.yaml").write_text("worktrees:\n  wt: lit\n")
    assert run("apply", "--yes").code == 0
    assert os.stat(tmp_path / "wt/.claude/settings.local.json").st_mode & 0o777 == 0o600


def test_rollback_plan_hides_a_key_shaped_value_it_puts_back(tmp_path, run, isolated_home):
    """A hand-written file (no record of its keys): apply removes its URL, rollback's plan
    puts it back, and neither shows the key in it."""
    doc = {"env": {"ANTHROPIC_BASE_URL": URL, "ANTHROPIC_DEFAULT_SONNET_MODEL": f"acme/{KEY}", "KEEP": "1"}}
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: anthropic\n", "wt/.claude/settings.local.json": json.dumps(doc)})
    applied = run("apply", "--yes")
    assert applied.code == 0
    r = run("rollback")
    assert r.code == 1
    assert "+ env.ANTHROPIC_BASE_URL = (sensitive)" in _lines(r.out)
    assert "+ env.ANTHROPIC_DEFAULT_SONNET_MODEL = (sensitive)" in _lines(r.out)
    assert_clean(applied.out + applied.err + r.out + r.err, KEY)
    assert run("rollback", "--yes").code == 0
    assert json.loads((tmp_path / "wt/.claude/settings.local.json").read_text()) == doc


@pytest.mark.parametrize("var", ["ANTHROPIC_BASE_URL", "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_MODEL"])
def test_a_key_exported_in_the_shell_is_scrubbed(tmp_path, run, monkeypatch, var):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: anthropic\n", "wt/.keep": ""})
    monkeypatch.setenv(var, URL)
    assert run("apply", "--yes").code == 0
    for argv in VIEWS:
        r = run(*argv)
        assert_clean(r.out + r.err, KEY)
    messages = [f["message"] for f in json.loads(run("doctor", "--json").out)["worktrees"][0]["findings"]]
    assert f'the shell environment set {var}="https://gw.example/k/(sensitive)/api"; the profile leaves it unset, so Claude Code uses it' in messages


def test_import_of_a_gateway_whose_host_is_a_key(tmp_path, run, isolated_home):
    url = f"https://{HEX}.gw.example/api"
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {}\n", "wt/.claude/settings.local.json": json.dumps({"env": {"ANTHROPIC_BASE_URL": url}})})
    r = run("import", "wt")
    assert r.code == 0, r.err
    assert_clean(r.out + r.err + files_under(tmp_path / "profiles") + (tmp_path / "worktrees.yaml").read_text(), HEX)
    assert [p.name for p in (tmp_path / "profiles").iterdir()] == ["gwexample.yaml"]
    assert json.loads(run("plan", "--json").out)["worktrees"][0]["changes"] == []


def test_a_recorded_key_now_declared_as_the_same_plain_value_reads_as_declared(tmp_path, run, stored):
    """The record hides what differs from the profile; the profile's own plain value is no secret."""
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "wt/.keep": ""})
    write_tree(tmp_path, {"profiles/p.yaml": "base_url: https://gw.example\nmodels: {sonnet: \"m-{{ secret('pw') }}\"}\n"})
    assert run("apply", "--yes").code == 0
    write_tree(tmp_path, {"profiles/p.yaml": "base_url: https://gw.example\nmodels: {sonnet: m-other}\n"})
    row = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (row["sonnet"], row["effective_values"]["sonnet"], row["effective"]) == ("m-other", "(sensitive)", "differs: llmconf doctor")
    write_tree(tmp_path, {"profiles/p.yaml": f"base_url: https://gw.example\nmodels: {{sonnet: m-{PLAIN}}}\n"})
    row = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (row["sonnet"], row["effective_values"]["sonnet"], row["effective"]) == (f"m-{PLAIN}",) * 2 + ("as declared",)
