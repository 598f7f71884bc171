"""The Jinja-free fast path gives exactly what Jinja gives, or steps aside."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from llmconf import render

NAMES = ["worktree.name", "worktree.path", "profile.name", "vars.team", "vars.n", "vars.flag", "vars.items", "vars.nested.x", "vars.missing", "nope"]
CONTEXT = {
    "worktree": {"name": "wt-1", "path": "/w/wt-1"},
    "profile": {"name": "p"},
    "vars": {"team": "forge", "n": 7, "flag": True, "items": "shadowed", "nested": {"x": "deep"}},
}
literal = st.text(alphabet=st.sampled_from(list("ab-=, /{}%#'\"")), max_size=6)
expr = st.one_of(
    st.sampled_from(NAMES).map(lambda n: "{{ " + n + " }}"),
    st.sampled_from(NAMES).map(lambda n: "{{" + n + "}}"),
    st.sampled_from(["{{ secret('k') }}", '{{ secret("k") }}', "{{ env('E') }}", "{{ env('E', 'd') }}", "{{ env('UNSET', 'd') }}"]),
    st.sampled_from(["{{ vars.team | upper }}", "{{- vars.team }}", "{% if 1 %}x{% endif %}", "{{ 'a' ~ 'b' }}", "{# c #}"]),
)


def both(text):
    def secret(name):
        return "S:" + name

    def env(name, default=None):
        value = os.environ.get(name, default)
        if value is None:
            raise LookupError(name)
        return value

    fast = render._simple(text, CONTEXT, secret, env)
    try:
        slow = render._template(text).render({**CONTEXT, "secret": secret, "env": env})
    except Exception as e:  # noqa: BLE001 - any Jinja error: the fast path must have stepped aside
        slow = e
    return fast, slow


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(literal, expr), max_size=4), literal)
def test_fast_path_matches_jinja_or_steps_aside(pieces, tail):
    os.environ["E"] = "env-value"
    text = "".join(a + b for a, b in pieces) + tail
    fast, slow = both(text)
    if fast is not None:
        assert fast == slow, text


def test_the_common_shapes_take_the_fast_path():
    os.environ["E"] = "env-value"
    for text in ["team={{ vars.team }},worktree={{ worktree.name }}", "{{ secret('k') }}", "{{ env('E', 'd') }}"]:
        fast, slow = both(text)
        assert fast is not None and fast == slow
    assert render._uses_worktree("x{{ worktree.path }}") and not render._uses_worktree("{{ secret('k') }}")
