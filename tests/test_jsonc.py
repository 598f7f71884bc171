"""jsonc: JSON with comments and trailing commas (opencode.jsonc, Gemini CLI's and Qwen Code's
settings), read and edited key by key with every comment kept where the user put it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmconf.apply import jsonc
from llmconf.errors import LlmconfError
from llmconf.plan.model import Action, KeyChange

FILE = """\
// The team's opencode setup.
{
  "$schema": "https://opencode.ai/config.json",
  /* our own MCP server */
  "mcp": {"docs": {"type": "local", "command": ["docs-server"],},}, // trailing commas too
  "model": "mine/old", // what we use
  "provider": {
    "mine": {"options": {"baseURL": "http://mine/v1"}}, // keep me
  },
}
"""


def _set(key: tuple[str, ...], value: object, action: Action = Action.CHANGE) -> KeyChange:
    return KeyChange(key, action, None, value, False)


def test_blank_keeps_every_offset_and_reads_as_the_document():
    assert len(jsonc.blank(FILE)) == len(FILE)
    assert jsonc.loads(FILE) == {
        "$schema": "https://opencode.ai/config.json",
        "mcp": {"docs": {"type": "local", "command": ["docs-server"]}},
        "model": "mine/old",
        "provider": {"mine": {"options": {"baseURL": "http://mine/v1"}}},
    }
    assert jsonc.loads('{"url": "http://a//b", "c": "/* not a comment */"}') == {"url": "http://a//b", "c": "/* not a comment */"}


def test_a_changed_value_keeps_the_comment_after_it():
    out = jsonc.edit(FILE, (_set(("model",), "llmconf/s-1"),))
    assert out == FILE.replace('"mine/old", // what we use', '"llmconf/s-1", // what we use')


def test_an_added_object_goes_in_and_every_comment_stays():
    out = jsonc.edit(FILE, (_set(("provider", "llmconf", "options", "baseURL"), "http://gw/v1", Action.ADD), _set(("small_model",), "llmconf/h-1", Action.ADD)))
    assert out == FILE.replace(
        '    "mine": {"options": {"baseURL": "http://mine/v1"}}, // keep me\n  },\n}\n',
        '    "mine": {"options": {"baseURL": "http://mine/v1"}},\n    "llmconf": {\n      "options": {\n        "baseURL": "http://gw/v1"\n'
        '      }\n    }, // keep me\n  },\n  "small_model": "llmconf/h-1",\n}\n',
    )
    assert jsonc.loads(out)["provider"]["llmconf"] == {"options": {"baseURL": "http://gw/v1"}}


def test_a_removal_takes_the_comments_inside_what_it_removes_and_keeps_the_others():
    text = '{\n  "a": 1, // about a\n  "llm": {\n    // ours\n    "x": 1\n  },\n  "b": 2 /* about b */\n}\n'
    out = jsonc.edit(text, (_set(("llm", "x"), None, Action.REMOVE),))
    assert out == '{\n  "a": 1, // about a\n  "b": 2 /* about b */\n}\n'


def test_an_edit_that_would_lose_a_comment_is_refused(monkeypatch):
    # jsonedit re-serialises a file whose text edit it cannot make: the comments would go.
    from llmconf.apply import jsonedit

    monkeypatch.setattr(jsonedit, "edit", lambda text, changes: json.dumps(json.loads(text) | {"model": "x"}))
    with pytest.raises(LlmconfError, match="cannot make this change and keep the file's comments"):
        jsonc.edit(FILE, (_set(("model",), "x"),))


def test_a_new_file_is_plain_json():
    assert jsonc.edit(None, (_set(("model",), "m", Action.ADD),)) == '{\n  "model": "m"\n}\n'


_comment = st.sampled_from(["", " // note", " /* c */"])


@settings(max_examples=150, deadline=None)
@given(
    members=st.dictionaries(st.sampled_from(["a", "b", "model", "x"]), st.text(max_size=5), max_size=4),
    comments=st.lists(_comment, min_size=6, max_size=6),
    trailing=st.booleans(),
    value=st.text(max_size=8),
)
def test_any_commented_file_edits_to_the_intended_document_with_its_comments(members, comments, trailing, value):
    body = [f'  "{k}": {json.dumps(v)},{comments[i]}' for i, (k, v) in enumerate(members.items())]
    if body and not trailing:
        body[-1] = body[-1].replace(",", "", 1) if body[-1].startswith(f'  "{list(members)[-1]}": {json.dumps(list(members.values())[-1])},') else body[-1]
    text = "// head\n{" + comments[5] + "\n" + "\n".join(body) + "\n}\n"
    doc = jsonc.loads(text)
    action = Action.CHANGE if "model" in doc else Action.ADD
    out = jsonc.edit(text, (_set(("model",), value, action),))
    assert jsonc.loads(out) == {**doc, "model": value}
    kept = [c.strip() for c in comments if c] + ["// head"]
    assert sorted(jsonc._comments(out)) == sorted(jsonc._comments(text))
    assert all(c in out for c in kept if c in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{ // to do\n}\n", '{ // to do\n  "model": "m"\n}\n'),
        ("{ /* to do */ }\n", '{ /* to do */\n  "model": "m"\n}\n'),
        ("// a\n{}\n", '// a\n{\n  "model": "m"\n}\n'),
    ],
)
def test_an_empty_object_keeps_its_comment_when_a_key_goes_in(text, expected):
    assert jsonc.edit(text, (_set(("model",), "m", Action.ADD),)) == expected


def test_keys_going_into_an_object_that_holds_only_a_line_comment_stay_out_of_it():
    text = '{\n  "modelProviders": {\n  // mine later\n  }\n}\n'
    out = jsonc.edit(
        text,
        (
            _set(("modelProviders", "openai"), [{"id": "m"}], Action.ADD),
            _set(("model", "name"), "m", Action.ADD),
        ),
    )
    assert jsonc.loads(out) == {"modelProviders": {"openai": [{"id": "m"}]}, "model": {"name": "m"}}
    assert "  // mine later\n" in out
