"""`use` on a declared worktree edits worktrees.yaml as plain text where the file's layout lets
llmconf prove the edit safe, with no YAML library; anywhere else ruamel does it, as before.
Either way the result is the same bytes."""

from __future__ import annotations

import random

from ruamel.yaml import YAML

from llmconf.config import yamledit
from tests.conftest import write_tree
from tests.helpers import heavy_imports as probe


def _slow(text: str, key: str, profile: str) -> str:
    """set_profile as it was: ruamel alone."""
    saved = yamledit._plain_set_profile
    yamledit._plain_set_profile = lambda *a: None  # type: ignore[assignment]
    try:
        return yamledit.set_profile(text, key, profile)
    finally:
        yamledit._plain_set_profile = saved


def _load(text: str):
    return YAML(typ="safe", pure=True).load(text)


PROFILES = {"profiles/p.yaml": "base_url: http://p\n", "profiles/q.yaml": "base_url: http://q\nmodels: {haiku: h}\n"}


def test_use_switches_a_declared_worktree_without_loading_yaml(tmp_path):
    text = (
        "# team fleet\n"
        "vars: {team: x}   # shared\n"
        "worktrees:\n"
        "  a: p   # the first\n"
        "  'b':\n"
        "    profile: \"p\"  # quoted\n"
        "    models: {sonnet: \"z-ai/glm-4.7\", opus: 'x'}\n"
        "\n"
        "  c: anthropic\n"
    )
    write_tree(tmp_path, {"worktrees.yaml": text, **PROFILES, "a/x": "", "b/x": "", "c/x": ""})
    assert probe(tmp_path, "plan")[0] == "['pydantic', 'ruamel.yaml'] 0"  # the first read fills the cache
    line, out = probe(tmp_path, "use", "anthropic", "b")
    assert line == "[] 0", out.stderr
    assert (tmp_path / "worktrees.yaml").read_text() == text.replace('profile: "p"', "profile: anthropic")
    probe(tmp_path, "plan")  # the edited file, cached
    line, out = probe(tmp_path, "use", "anthropic", "a", "--apply", "--yes")
    assert line == "[] 0", out.stderr
    assert (tmp_path / "worktrees.yaml").read_text() == (
        text.replace('profile: "p"', "profile: anthropic").replace("a: p ", "a: anthropic ")
    )


def test_use_outside_the_subset_goes_through_ruamel(tmp_path):
    text = "vars:\n  notes: |\n    a: p\nworktrees:\n  a: p\n  c: anthropic\n"
    write_tree(tmp_path, {"worktrees.yaml": text, **PROFILES, "a/x": "", "c/x": ""})
    probe(tmp_path, "plan")
    line, out = probe(tmp_path, "use", "anthropic", "a")
    assert line == "['ruamel.yaml'] 0", out.stderr
    assert (tmp_path / "worktrees.yaml").read_text() == text.replace("\n  a: p\n", "\n  a: anthropic\n")


# Lines in and out of the subset; the fuzz below stacks them into documents.
_TOP_IN = [
    "# a comment",
    "",
    "vars: {team: x, n: '1'}",
    "defaults:\n  team: x  # c\n  url: https://a.b/c?d=e\n\n  deep:\n      k: v",
    "strict: true",
    "agents: [claude-code, opencode]",
    "repos:\n  ../r: {profile: devstral}",
    "extra: {a: \"b}\", c: 'd#e', d: [x, {y: z}]}   # x",
]
_TOP_OUT = [
    "notes:\n  note: |\n    a: devstral\n    b: x",
    "folded: >-\n  folded\n  text",
    "seq:\n  - claude-code",
    "x: &anc devstral",
    "y: *anc",
    "wrapped: {a: b,\n  c: d}",
    "tabbed:\n\tteam: x",
    "%YAML 1.2\n---",
    "q1: 'it''s'",
    'q2: "a\\"b"',
    "multi: a\n  b",
    "bad: a#b",
]
_ENTRY_IN = [
    "  {k}: devstral",
    "  {k}: 'devstral'   # q",
    '  "{k}": "devstral"',
    "  {k}:\n    profile: devstral\n    models: {{sonnet: z-ai/glm-4.7}}",
    "  {k}:\n    models: {{sonnet: m}}\n    profile: devstral  # p",
    "  {k}:\n      profile: devstral",
    "  {k}: {{profile: devstral}}",
    "  {k}:\n    profile:\n    models: {{}}",
    "  # between\n  {k}: devstral",
    "  {k}:\n    env:\n      A: b\n    profile: devstral",
]
_ENTRY_OUT = [
    "  {k}:\n    profile: devstral\n      models: x",
    "  {k}: devstral\n    more",
    "  {k}: !!str devstral",
    "  {k}: &p devstral",
    "  {k}: devstral#x",
    "  {k}: devstral\n  {k}: other",
    "  {k}:\n    profile: devstral\n   models: x",
]
_KEYS = ["a", "../wt-a", "./b c", "on", "1", "~x/y", "_z", "'q'"]


def test_plain_edit_means_what_ruamel_reads_and_writes_the_same_bytes():
    rng = random.Random(14)
    plain = fallback = 0
    for _ in range(1200):
        inside = rng.random() < 0.7
        tops = _TOP_IN + ([] if inside else _TOP_OUT)
        kinds = _ENTRY_IN + ([] if inside else _ENTRY_OUT)
        keys = rng.sample(_KEYS, rng.randint(1, 3))
        around = rng.sample(tops, rng.randint(0, 4))
        cut = rng.randint(0, len(around))
        entries = [rng.choice(kinds).format(k=k) for k in keys]
        text = "\n".join([*around[:cut], "worktrees:", *entries, *around[cut:]]) + "\n"
        if rng.random() < 0.1:
            text = text.replace("\n", "\r\n")
        try:
            old = _load(text)
        except Exception:
            old = None
        key = rng.choice(keys).strip("'")
        new = yamledit._plain_set_profile(text, key, "anthropic")
        if new is None:
            fallback += 1
            continue
        plain += 1
        assert old is not None, text  # only a document that parses is in the subset
        want = old["worktrees"][key]
        if isinstance(want, dict):
            want = {**want, "profile": "anthropic"}
        else:
            want = "anthropic"
        assert _load(new) == {**old, "worktrees": {**old["worktrees"], key: want}}, text
        assert new == _slow(text, key, "anthropic"), text
    assert plain > 300 and fallback > 300  # both sides of the line are exercised


def test_outside_the_subset():
    for text in (
        "worktrees:\n  a: devstral\n    continued\n",  # a plain scalar over two lines
        "worktrees:\n  a: &x devstral\nb: *x\n",  # an anchor on the value
        "worktrees:\n  a: devstral\n  a: other\n",  # a duplicate key
        "worktrees:\n  on: devstral\n",  # a key YAML 1.1 reads as true
        "worktrees:\n  a: [devstral,\n    x]\n",  # a flow list over two lines
        "\ufeffworktrees:\n  a: devstral\n",
        "worktrees:\n\ta: devstral\n",
        "---\nworktrees:\n  a: devstral\n",
        "worktrees:\n  a: devstral\x0c  b: x\n",  # a form feed: a line break to str.splitlines, not to YAML
        "worktrees:\n  a: devstral\u2028  b: x\n",
    ):
        assert yamledit._subset_tree(text) is None or yamledit._plain_set_profile(text, "a", "anthropic") is None, text
    assert yamledit._plain_set_profile("worktrees:\n  a: devstral\n", "a", "yes") is None  # a name YAML 1.1 reads as true
    assert yamledit._plain_set_profile("worktrees:\n  a: devstral\n", "b", "anthropic") is None  # new: the general path
