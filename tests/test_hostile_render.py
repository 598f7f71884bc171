"""Hostile templates: a value read by secret() or env() stays masked wherever it goes, a name
never comes from one, and a template bomb fails fast with a located error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_tree

#: Mixed case and no hex or English runs: any form of it (lower, upper, a slice) is findable.
KEY = "QzXwJvKqZpYwXjQvKzWq"
TOKEN = "ghp_JqZxWvKjQzXwVkJqZxWvKjQzXwVkJqZx"  # a GitHub token in the environment


def forms(value: str) -> set[str]:
    """Every way a template can quote part of a value: each run of 6+ characters, in any case."""
    runs = {value[i:j] for i in range(len(value)) for j in range(i + 6, len(value) + 1)}
    return {f(run) for run in runs for f in (str, str.lower, str.upper)}


KEY_FORMS, TOKEN_FORMS = forms(KEY), forms(TOKEN)


def leaks(text: str) -> list[str]:
    return sorted(f for f in KEY_FORMS | TOKEN_FORMS if f in text)


def test_forms_catch_a_derived_value():
    assert leaks(f"x {KEY.lower()[3:12]} y") and leaks(TOKEN.upper()[:7]) and not leaks("QzXwJ ghp_J qzxwj")


@pytest.fixture
def keyed(monkeypatch, store_secret):
    store_secret("k", KEY)
    monkeypatch.setenv("TOK", TOKEN)


#: How a template can take a secret or an environment variable, whole or in part.
SOURCES = [
    "secret('k')",
    "env('TOK')",
    "secret('k')|lower",
    "env('TOK')[1:]",
    "(secret('k') ~ 'x')|upper",
    "env('TOK', 'd')|replace('ghp_', '')",
]

#: Where it can go: a profile with @X@ for the source.
FIELDS = {
    "base_url": 'base_url: "https://gw.example/k/{{ @X@ }}/api"\nmodels: {sonnet: a/b}\n',
    "models.sonnet": 'base_url: https://gw.example/api\nmodels:\n  sonnet: "m/{{ @X@ }}"\n',
    "env.FOO": 'base_url: https://gw.example/api\nmodels: {sonnet: a/b}\nenv:\n  FOO: "v={{ @X@ }}"\n',
    "auth_token": 'base_url: https://gw.example/api\nauth_token: "{{ @X@ }}"\nmodels: {sonnet: a/b}\n',
    "labels.sonnet": 'base_url: https://gw.example/api\nmodels: {sonnet: a/b}\nlabels:\n  sonnet: "L {{ @X@ }}"\npicker: true\n',
}

#: The settings keys each field renders to.
KEYS = {
    "base_url": ["env.ANTHROPIC_BASE_URL"],
    "models.sonnet": ["env.ANTHROPIC_DEFAULT_SONNET_MODEL"],
    "env.FOO": ["env.FOO"],
    "auth_token": ["env.ANTHROPIC_AUTH_TOKEN"],
    "labels.sonnet": ["env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME", "modelPicker"],
}

COMMANDS = [("plan",), ("plan", "--json"), ("validate",), ("validate", "--strict"), ("status",), ("status", "--json"), ("doctor",), ("doctor", "--json")]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("field", FIELDS)
def test_a_value_from_a_secret_or_the_environment_is_never_shown(tmp_path, run, keyed, field, source):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "profiles/p.yaml": FIELDS[field].replace("@X@", source), "wt/.keep": ""})
    for argv in COMMANDS:
        r = run(*argv)
        assert r.code in (0, 1) and "Traceback" not in r.err, (argv, r.err)
        assert leaks(r.out + r.err) == [], argv
    r = run("plan", "--json")
    changes = {c["key"]: c for wt in json.loads(r.out)["worktrees"] for c in wt["changes"]}
    assert {k: (changes[k]["after"], changes[k]["sensitive"]) for k in KEYS[field]} == dict.fromkeys(KEYS[field], (None, True))
    assert run("plan", "--out", "saved.plan").code == 0
    saved = (tmp_path / "saved.plan").read_text()
    assert leaks(saved) == []
    names = sorted(json.loads(saved)["inputs"])
    assert [n for n in names if n.startswith(("secret:", "env:"))] == (["env:TOK"] if "env(" in source else ["secret:k"])
    # apply writes the value itself (it is what the settings file is for), and says nothing of it
    r = run("apply", "--yes")
    assert r.code == 0 and leaks(r.out + r.err) == []
    written = "".join(p.read_text() for p in tmp_path.rglob("*.json")) + "".join(
        p.read_text() for p in Path(os.environ["XDG_STATE_HOME"]).rglob("*.json")
    )
    assert leaks(written)  # the value did reach a settings file


def test_env_values_count_as_secrets_for_a_git_tracked_file(tmp_path, run, keyed):
    """A token read by env() is refused in a file git tracks, like one read by secret()."""
    from tests.helpers import git

    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  repo: p\n",
            "profiles/p.yaml": "env:\n  GH: \"{{ env('TOK') }}\"\n",
            "repo/.claude/settings.local.json": "{}\n",
        },
    )
    git(tmp_path / "repo", "init", "-q")
    git(tmp_path / "repo", "add", ".claude/settings.local.json")
    settings = tmp_path / "repo/.claude/settings.local.json"
    before = (settings.read_bytes(), settings.stat().st_ino, settings.stat().st_mtime_ns)
    r = run("apply", "--yes")
    assert r.code == 1
    assert r.err.splitlines()[0] == (
        "llmconf: repo/.claude/settings.local.json: git tracks this file; llmconf will not write a secret into it "
        "(git-ignore .claude/settings.local.json and 'git rm --cached' it, "
        "or set allow_tracked_secret: true on 'repo' in worktrees.yaml)"
    )
    assert (settings.read_bytes(), settings.stat().st_ino, settings.stat().st_mtime_ns) == before
    assert leaks(r.out + r.err) == []


#: A name passed to secret() or env() that is (or could be) computed from a value one read:
#: (template, the message after 'llmconf: profiles/p.yaml:2: ').
COMPUTED_NAMES = [
    ("{{ secret(secret('k') ~ 'y') }}", "secret() takes a name written in the template, not one computed from another secret() or env() (name it literally: secret('NAME'))"),
    ("{{ env(secret('k')|lower) }}", "env() takes a name written in the template, not one computed from another secret() or env() (name it literally: env('NAME'))"),
    ("{{ secret(secret('k')[1:]) }}", "secret() takes a name written in the template, not one computed from another secret() or env() (name it literally: secret('NAME'))"),
    ("{{ env(env('TOK')) }}", "env() takes a name written in the template, not one computed from another secret() or env() (name it literally: env('NAME'))"),
    ("{% set s = secret('k') %}{{ env(s) }}", "env() takes a name written in the template, not one computed from another secret() or env() (name it literally: env('NAME'))"),
    ("{{ secret(name=secret('k')|upper) }}", "secret() takes a name written in the template, not one computed from another secret() or env() (name it literally: secret('NAME'))"),
    ("{{ secret(*[secret('k')]) }}", "secret() takes a name written in the template, not one computed from another secret() or env() (name it literally: secret('NAME'))"),
    ("{{ env(vars[secret('k')]) }}", "env() takes a name written in the template, not one computed from another secret() or env() (name it literally: env('NAME'))"),
    ("{% set f = secret %}{{ f(f('k')) }}", "secret can only be called: secret('NAME') (name it literally)"),
    ("{{ ([env]|first)(secret('k')) }}", "env can only be called: env('NAME') (name it literally)"),
    ("{% set vars = {'a': secret('k')} %}{{ env(vars.a) }}", "a template cannot set 'vars': llmconf gives it (use another name)"),
    ("{% for worktree in [{'name': secret('k')}] %}{{ env(worktree.name) }}{% endfor %}", "a template cannot set 'worktree': llmconf gives it (use another name)"),
    ("{% macro m(profile) %}{{ secret(profile.name) }}{% endmacro %}{{ m({'name': secret('k')}) }}", "a template cannot set 'profile': llmconf gives it (use another name)"),
    ("{% with env = secret %}{{ env('k') }}{% endwith %}", "a template cannot set 'env': llmconf gives it (use another name)"),
]


@pytest.mark.parametrize(("template", "message"), COMPUTED_NAMES)
def test_a_name_computed_from_a_secret_is_refused_and_never_quoted(tmp_path, run, keyed, template, message):
    quoted = template.replace('"', '\\"')
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "profiles/p.yaml": f'base_url: https://gw.example/api\nauth_token: "{quoted}"\n', "wt/.keep": ""})
    line = f"llmconf: profiles/p.yaml:2: {message}"
    r = run("plan")
    assert (r.code, r.out, r.err.splitlines()) == (1, "No changes; 1 worktree could not be planned (errors below).\n", [line])
    r = run("validate")
    assert (r.code, r.err.splitlines()) == (1, [line, "llmconf: 1 problem found"])
    r = run("plan", "--out", "saved.plan")
    assert r.code == 1 and line in r.err.splitlines() and not (tmp_path / "saved.plan").exists()
    r = run("apply", "--yes")
    assert r.code == 1 and line in r.err.splitlines() and not (tmp_path / "wt/.claude").exists()


def test_names_written_in_the_template_still_work(tmp_path, run, keyed, monkeypatch):
    monkeypatch.setenv("TOK_WT", "t-wt")
    monkeypatch.setenv("LLMCONF_SECRET_K_P", "s-p")
    profile = (
        "base_url: https://gw.example/api\n"
        "models: {sonnet: a/b}\n"
        "env:\n"
        "  A: \"{{ env('TOK_' ~ worktree.name|upper) }}\"\n"
        "  B: \"{{ secret(vars.key ~ '_' ~ profile.name) }}\"\n"
        "  C: \"{{ env(name='UNSET_X', default='d') }}\"\n"
    )
    write_tree(tmp_path, {"worktrees.yaml": "vars: {key: k}\nworktrees:\n  wt: p\n", "profiles/p.yaml": profile, "wt/.keep": ""})
    r = run("apply", "--yes")
    assert r.code == 0, r.err
    env = json.loads((tmp_path / "wt/.claude/settings.local.json").read_text())["env"]
    assert (env["A"], env["B"], env["C"]) == ("t-wt", "s-p", "d")
    assert run("plan", "--out", "saved.plan").code == 0
    inputs = sorted(n for n in json.loads((tmp_path / "saved.plan").read_text())["inputs"] if n.startswith(("env:", "secret:")))
    assert inputs == ["env:TOK_WT", "env:UNSET_X", "secret:k_p"]


#: Templates that would run until killed, or fill memory: (template, the message after the location).
LIMIT = "(templates are for short values: write the value out, or compute it before llmconf runs)"
STEPS = f"template runs too long (over 10,000 loop steps and calls) {LIMIT}"
BIG = f"template builds a value over 65,536 characters {LIMIT}"
ALL = f"template builds over 8,388,608 characters in all {LIMIT}"
NUMBER = f"template passes a number over 65,536 to a function {LIMIT}"
BOMBS = [
    ("{% for a in range(60000) %}{% for b in range(60000) %}{% endfor %}{% endfor %}x", STEPS),
    ("{% for a in 'abcdefghij' %}{% for b in 'abcdefghij' %}{% for c in 'abcdefghij' %}{% for d in 'abcdefghij' %}{% for e in 'abcdefghij' %}.{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}", STEPS),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}x", STEPS),
    ("{% set l = range(10000)|list %}{% for i in range(9000) %}{{ l|length }}{% endfor %}", STEPS),
    ("{% set s = 'a' * 65000 %}{% for i in range(9999) %}{{ s.count('b') }}{{ s.replace('a', 'b')|length }}{% endfor %}", ALL),
    ("{{ 'a' * 10 ** 9 }}", BIG),
    ("{{ ['a'] * 100000000 }}", BIG),
    ("{{ '%999999999s' % 'a' }}", BIG),
    ("{{ ('%s' * 60000) % (('a' * 60000,) * 60000) }}", BIG),
    ("{{ '{:>999999999}'.format('a') }}", BIG),
    ("{{ ('{0:{1}}' * 6000).format('a', 60000) }}", BIG),
    ("{{ ('%*s' * 6000) % ((60000, 'a') * 6000) }}", BIG),
    ("{{ range(9000)|map('string')|map('center', 60000)|list|length }}", ALL),
    ("{{ ('a' * 60000)|replace('', 'bbbbbbbbbb') }}", BIG),
    ("{{ ('a' * 60000).replace('a', 'bbbbbbbbbb') }}", BIG),
    ("{{ ('a' * 60000)|list|join('bbbbbbbbbb') }}", BIG),
    ("{{ ('b' * 60000).join(('a' * 30000)|list) }}", BIG),
    ("{{ ('b' * 60000).join(range(5000)|map('string')) }}", BIG),
    ("{{ ('b' * 60000).encode().join(['a'.encode(), 'b'.encode(), 'c'.encode()]) }}", BIG),
    ("{% set l = [] %}{% for i in range(9000) %}{{ l.extend(range(60000)) }}{% endfor %}{{ l|length }}", BIG),
    ("{% set d = {} %}{% for i in range(9000) %}{{ d.update({i: 'a' * 60000}) }}{% endfor %}{{ d|length }}", BIG),
    ("{{ ('a\\n' * 30000)|indent(60000) }}", BIG),
    ("{{ ('\\t' * 60000).expandtabs(60000) }}", BIG),
    ("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}", BIG),
    ("{% set ns = namespace(s=['ab']) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}", BIG),
    ("{{ [[['a' * 60000] * 2] * 2]|string }}", BIG),
    ("{{ 'ab'|center(1000000000) }}", NUMBER),
    ("{{ 'ab'.ljust(10 ** 9) }}", NUMBER),
    ("{{ range(10 ** 6)|list|length }}", NUMBER),
    ("{{ lipsum(n=10 ** 6) }}", NUMBER),
    ("{{ lipsum() }}", "template error in models.sonnet: 'lipsum' is undefined (templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))"),
    ("{{ 2 ** 100000000 }}", f"template builds a number over 4,096 bits {LIMIT}"),
    ("{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}", f"template builds a number over 4,096 bits {LIMIT}"),
    ("{% set x %}{% for i in range(9000) %}{{ 'a' * 60000 }}{% endfor %}{% endset %}{{ x|length }}", f"template writes over 1,048,576 characters {LIMIT}"),
    ("{% for i in range(9000) %}{{ 'a' * 60 }}{% endfor %}", f"template output is over 65,536 characters {LIMIT}"),
    ("{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}", f"a template cannot use a recursive loop {LIMIT}"),
]


def test_template_bombs_fail_fast_located_and_write_nothing(tmp_path, isolated_home):
    """One plan over a worktree per bomb: each fails on its own line, and nothing hangs."""
    names = [f"b{i:02}" for i in range(len(BOMBS))]
    files = {"worktrees.yaml": "worktrees:\n" + "".join(f"  {n}: {n}\n" for n in names)}
    for n, (template, _) in zip(names, BOMBS):
        quoted = template.replace("\\", "\\\\").replace('"', '\\"')
        files[f"profiles/{n}.yaml"] = f'base_url: https://gw.example/api\nmodels:\n  sonnet: "{quoted}"\n'
        files[f"{n}/.claude/settings.local.json"] = '{"env": {"KEEP": "1"}}\n'
    write_tree(tmp_path, files)
    settings = [tmp_path / n / ".claude/settings.local.json" for n in names]
    before = [(p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in settings]
    for argv in (["plan"], ["apply", "--yes"]):
        # A hang guard, not a timing: every bomb together must end long before it.
        r = subprocess.run(
            [sys.executable, "-m", "llmconf", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=os.environ
        )
        expected = [f"llmconf: profiles/{n}.yaml:3: {message}" for n, (_, message) in zip(names, BOMBS)]
        assert r.returncode == 1, r.stderr
        assert [line for line in r.stderr.splitlines() if line.startswith("llmconf: profiles/")] == expected
        assert "Traceback" not in r.stderr
    assert [(p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in settings] == before


#: Templates well inside the bounds: they render exactly as before.
ORDINARY = [
    ("{% for s in ['a', 'b', 'c'] %}{{ s }}{% if not loop.last %}-{% endif %}{% endfor %}", "a-b-c"),
    ("{{ 'ab' * 3 }}|{{ '%s/%s' % ('x', 'y') }}|{{ '{}:{}'.format(1, 2) }}", "ababab|x/y|1:2"),
    ("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m('a') }}{{ m(worktree.name) }}", "<a><wt>"),
    ("{{ vars.team|default('t') }}-{{ worktree.name|upper }}-{{ range(3)|join(',') }}", "t-WT-0,1,2"),
    ("{% set ns = namespace(s='') %}{% for i in range(1000) %}{% set ns.s = ns.s ~ 'x' %}{% endfor %}{{ ns.s|length }}", "1000"),
    ("{{ ('a' * 1000)|replace('a', 'bb')|length }} {{ 2 ** 64 }}", "2000 18446744073709551616"),
    ("{{ (['ab'] * 10000)|join(', ')|length }}", "39998"),
]


@pytest.mark.parametrize(("template", "expected"), ORDINARY)
def test_ordinary_templates_render_as_before(tmp_path, run, template, expected):
    quoted = template.replace('"', '\\"')
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "profiles/p.yaml": f'env:\n  X: "{quoted}"\n', "wt/.keep": ""})
    r = run("apply", "--yes")
    assert r.code == 0, r.err
    assert json.loads((tmp_path / "wt/.claude/settings.local.json").read_text())["env"]["X"] == expected


def test_a_lint_warning_never_quotes_a_model_from_a_secret_or_the_environment(tmp_path, run, keyed):
    profile = (
        "base_url: https://gw.example/api\n"
        "models: {haiku: \"{{ secret('k') }}\", sonnet: \"m/{{ env('TOK')|lower }}\", opus: plain/model}\n"
        'env: {CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1"}\n'
    )
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "profiles/p.yaml": profile, "wt/.keep": ""})
    warning = (
        "profiles/p.yaml:3: LC205 env.CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY lists only gateway models whose ID contains "
        "'claude' or 'anthropic': /model will not offer (sensitive), (sensitive), plain/model "
        "(drop it, and list the models you want in /model as picker rows)"
    )
    r = run("validate")
    assert (r.code, r.err.splitlines()) == (0, [f"llmconf: warning: {warning}"])
    r = run("validate", "--strict")
    assert (r.code, r.err.splitlines()) == (1, [f"llmconf: {warning}", "llmconf: 1 problem found"])
    r = run("plan")
    assert r.code == 0 and f"llmconf: warning: {warning}" in r.err.splitlines() and leaks(r.out + r.err) == []


@pytest.mark.parametrize("key", [KEY + "0123456789abcdef", "sk-or-v1-" + KEY, TOKEN])
def test_import_refusing_an_unquotable_value_does_not_quote_a_key_in_it(tmp_path, run, key):
    settings = tmp_path / "dev/.claude/settings.local.json"
    doc = {"env": {"ANTHROPIC_BASE_URL": f"https://g/{{% endraw %}}{{{{/{key}/api", "ANTHROPIC_DEFAULT_SONNET_MODEL": "a/b"}}
    write_tree(tmp_path, {"team/worktrees.yaml": "worktrees: {}\n", "dev/.claude/settings.local.json": json.dumps(doc)})
    before = {p: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in (settings, tmp_path / "team/worktrees.yaml")}
    r = run("-C", "team", "import", "dev")
    assert (r.code, r.out, r.err) == (
        1,
        "",
        # import moves the key to the store (a secret() in its place): the piece it cannot quote
        # is the text before it, so the refusal quotes no part of the key.
        "llmconf: dev/.claude/settings.local.json: a value holds template syntax that cannot be quoted: "
        "'https://g/{% endraw %}{{/'\n",
    )
    assert {p: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in before} == before
    assert not (tmp_path / "team/profiles").exists()
