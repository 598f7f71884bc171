"""jsonedit.edit: change only the keys llmconf owns, keep the rest of the file as it was.

Examples assert the whole output text; the properties generate settings files in every
layout json.dumps can produce and check that the edit means what the plan says, touches
nothing it does not own, and keeps the text of what it does not own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from llmconf.apply.jsonedit import edit
from llmconf.errors import LlmconfError
from llmconf.plan import model as plan
from llmconf.plan.model import Action, KeyChange
from llmconf.targets.claude_code import settings as target


def _changes(desired: dict[tuple[str, ...], str], doc: dict[str, Any] | None) -> tuple[KeyChange, ...]:
    changes, _ = plan.diff(desired, doc, owned={}, fingerprint=lambda v: "x", created=False)
    return changes


def _edit_to(text: str | None, desired: dict[tuple[str, ...], str]) -> str:
    doc = json.loads(text) if text is not None else None
    return edit(text, _changes(desired, doc))


BASE_URL = ("env", target.BASE_URL)
TOKEN = ("env", target.AUTH_TOKEN)
MODEL = ("model",)

GROWN = """\
{
  "permissions": {
    "allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"],
    "deny": []
  },
  "env": {
    "BASH_DEFAULT_TIMEOUT_MS": "120000",
    "ANTHROPIC_BASE_URL": "https://openrouter.ai/api"
  },
  "model": "opus"
}
"""


# --- examples -------------------------------------------------------------------------


def test_change_a_value_in_env():
    desired = {BASE_URL: "https://api.deepseek.com/anthropic", MODEL: "opus"}
    assert _edit_to(GROWN, desired) == GROWN.replace("https://openrouter.ai/api", "https://api.deepseek.com/anthropic")


def test_add_a_key_goes_last_in_env_with_the_siblings_indentation():
    desired = {BASE_URL: "https://openrouter.ai/api", TOKEN: "sk-1", MODEL: "opus"}
    assert _edit_to(GROWN, desired) == """\
{
  "permissions": {
    "allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"],
    "deny": []
  },
  "env": {
    "BASH_DEFAULT_TIMEOUT_MS": "120000",
    "ANTHROPIC_BASE_URL": "https://openrouter.ai/api",
    "ANTHROPIC_AUTH_TOKEN": "sk-1"
  },
  "model": "opus"
}
"""


def test_add_env_to_a_file_without_one():
    text = '{\n  "permissions": {\n    "allow": ["a", "b"]\n  }\n}\n'
    desired = {BASE_URL: "https://openrouter.ai/api", TOKEN: "sk-1"}
    assert _edit_to(text, desired) == """\
{
  "permissions": {
    "allow": ["a", "b"]
  },
  "env": {
    "ANTHROPIC_BASE_URL": "https://openrouter.ai/api",
    "ANTHROPIC_AUTH_TOKEN": "sk-1"
  }
}
"""


def test_add_env_to_an_empty_env():
    text = '{\n  "env": {},\n  "model": "opus"\n}\n'
    desired = {BASE_URL: "u", MODEL: "opus"}
    assert _edit_to(text, desired) == '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "u"\n  },\n  "model": "opus"\n}\n'


def test_add_env_to_an_empty_document():
    assert _edit_to("{}\n", {BASE_URL: "u"}) == '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "u"\n  }\n}\n'


def test_remove_a_middle_key():
    text = '{\n  "env": {\n    "A": "1",\n    "ANTHROPIC_MODEL": "x",\n    "B": "2"\n  }\n}\n'
    assert _edit_to(text, {}) == '{\n  "env": {\n    "A": "1",\n    "B": "2"\n  }\n}\n'


def test_remove_the_first_key():
    text = '{\n  "env": {\n    "ANTHROPIC_MODEL": "x",\n    "A": "1"\n  }\n}\n'
    assert _edit_to(text, {}) == '{\n  "env": {\n    "A": "1"\n  }\n}\n'


def test_remove_the_last_key():
    text = '{\n  "env": {\n    "A": "1",\n    "ANTHROPIC_MODEL": "x"\n  },\n  "model": "opus"\n}\n'
    assert _edit_to(text, {MODEL: "opus"}) == '{\n  "env": {\n    "A": "1"\n  },\n  "model": "opus"\n}\n'


def test_removing_the_only_key_removes_env():
    text = '{\n  "permissions": {\n    "allow": ["a"]\n  },\n  "env": {\n    "ANTHROPIC_MODEL": "x"\n  },\n  "model": "opus"\n}\n'
    expected = '{\n  "permissions": {\n    "allow": ["a"]\n  },\n  "model": "opus"\n}\n'
    assert _edit_to(text, {MODEL: "opus"}) == expected


def test_removing_every_key_of_the_last_member_env_removes_it():
    text = '{\n  "model": "opus",\n  "env": {\n    "ANTHROPIC_BASE_URL": "u",\n    "ANTHROPIC_MODEL": "x"\n  }\n}\n'
    assert _edit_to(text, {MODEL: "opus"}) == '{\n  "model": "opus"\n}\n'


def test_removing_everything_leaves_an_empty_object():
    text = '{\n  "env": {\n    "ANTHROPIC_MODEL": "x"\n  }\n}\n'
    assert _edit_to(text, {}) == "{}\n"


def test_an_env_that_was_already_empty_is_kept():
    # Only a removal that empties env takes it away; a change elsewhere leaves it be.
    text = '{\n  "env": {},\n  "model": "opus"\n}\n'
    assert _edit_to(text, {MODEL: "sonnet"}) == '{\n  "env": {},\n  "model": "sonnet"\n}\n'


def test_four_space_indentation_is_kept():
    text = '{\n    "env": {\n        "A": "1"\n    },\n    "permissions": {\n        "allow": ["a"]\n    }\n}\n'
    expected = (
        '{\n    "env": {\n        "A": "1",\n        "ANTHROPIC_BASE_URL": "u"\n    },\n'
        '    "permissions": {\n        "allow": ["a"]\n    },\n    "model": "m"\n}\n'
    )
    assert _edit_to(text, {BASE_URL: "u", MODEL: "m"}) == expected


def test_four_space_indentation_is_kept_for_a_new_env():
    text = '{\n    "permissions": {\n        "allow": ["a"]\n    }\n}\n'
    expected = (
        '{\n    "permissions": {\n        "allow": ["a"]\n    },\n'
        '    "env": {\n        "ANTHROPIC_BASE_URL": "u"\n    }\n}\n'
    )
    assert _edit_to(text, {BASE_URL: "u"}) == expected


def test_tab_indentation_is_kept():
    text = '{\n\t"permissions": {\n\t\t"allow": ["a"]\n\t},\n\t"env": {\n\t\t"ANTHROPIC_MODEL": "x"\n\t}\n}\n'
    expected = (
        '{\n\t"permissions": {\n\t\t"allow": ["a"]\n\t},\n'
        '\t"env": {\n\t\t"ANTHROPIC_BASE_URL": "u"\n\t},\n\t"model": "m"\n}\n'
    )
    assert _edit_to(text, {BASE_URL: "u", MODEL: "m"}) == expected


def test_tab_indentation_is_kept_for_a_new_env():
    text = '{\n\t"permissions": {\n\t\t"allow": ["a"]\n\t}\n}\n'
    expected = '{\n\t"permissions": {\n\t\t"allow": ["a"]\n\t},\n\t"env": {\n\t\t"ANTHROPIC_BASE_URL": "u"\n\t}\n}\n'
    assert _edit_to(text, {BASE_URL: "u"}) == expected


def test_compact_one_line_file_change():
    assert _edit_to('{"env":{"A":"1","ANTHROPIC_MODEL":"x"}}', {("env", "A"): "2"}) == '{"env":{"A":"2"}}'


def test_compact_one_line_file_remove_the_only_key():
    assert _edit_to('{"model":"m","env":{"ANTHROPIC_MODEL":"x"}}', {MODEL: "m"}) == '{"model":"m"}'


def test_one_line_file_with_spaces_add():
    text = '{"env": {"A": "1"}, "model": "m"}'
    assert _edit_to(text, {BASE_URL: "u"}) == '{"env": {"A": "1", "ANTHROPIC_BASE_URL": "u"}, "model": "m"}'


def test_compact_one_line_file_add_keeps_its_separators():
    assert (
        _edit_to('{"env":{"A":"1"}}', {("env", "A"): "1", BASE_URL: "u"})
        == '{"env":{"A":"1","ANTHROPIC_BASE_URL":"u"}}'
    )


def test_one_line_file_stays_one_line_when_env_is_added():
    text = '{"permissions": {"allow": ["a"]}}\n'
    assert _edit_to(text, {BASE_URL: "u"}) == '{"permissions": {"allow": ["a"]}, "env": {"ANTHROPIC_BASE_URL": "u"}}\n'


def test_crlf_line_endings_are_kept():
    text = '{\r\n  "env": {\r\n    "A": "1"\r\n  }\r\n}\r\n'
    expected = '{\r\n  "env": {\r\n    "A": "1",\r\n    "ANTHROPIC_BASE_URL": "u"\r\n  }\r\n}\r\n'
    assert _edit_to(text, {("env", "A"): "1", BASE_URL: "u"}) == expected


def test_no_trailing_newline_stays_without_one():
    text = '{\n  "env": {\n    "ANTHROPIC_MODEL": "x"\n  },\n  "model": "opus"\n}'
    assert _edit_to(text, {("env", "ANTHROPIC_MODEL"): "y", MODEL: "opus"}) == text.replace('"x"', '"y"')


def test_new_file_is_two_space_json_with_a_trailing_newline():
    desired = {BASE_URL: "https://openrouter.ai/api", TOKEN: "sk-1", MODEL: "opus"}
    assert _edit_to(None, desired) == """\
{
  "env": {
    "ANTHROPIC_BASE_URL": "https://openrouter.ai/api",
    "ANTHROPIC_AUTH_TOKEN": "sk-1"
  },
  "model": "opus"
}
"""


def test_model_added_at_the_end():
    text = '{\n  "env": {\n    "A": "1"\n  }\n}\n'
    assert _edit_to(text, {MODEL: "sonnet"}) == '{\n  "env": {\n    "A": "1"\n  },\n  "model": "sonnet"\n}\n'


def test_model_changed_in_place():
    text = '{\n  "model": "opus",\n  "env": {\n    "A": "1"\n  }\n}\n'
    assert _edit_to(text, {MODEL: "sonnet"}) == text.replace('"opus"', '"sonnet"')


def test_model_that_is_not_a_string_is_replaced():
    text = '{\n  "model": {"name": "opus"},\n  "env": {}\n}\n'
    assert _edit_to(text, {MODEL: "opus"}) == '{\n  "model": "opus",\n  "env": {}\n}\n'


def test_model_is_left_alone_when_not_desired():
    # "model" is not a backend key: llmconf only owns it when a profile sets it.
    text = '{\n  "model": "opus",\n  "env": {\n    "ANTHROPIC_MODEL": "x"\n  }\n}\n'
    assert _edit_to(text, {}) == '{\n  "model": "opus"\n}\n'


def test_model_removed():
    text = '{\n  "env": {\n    "A": "1"\n  },\n  "model": "opus"\n}\n'
    changes = (KeyChange(MODEL, Action.REMOVE, "opus", None, sensitive=False),)
    assert edit(text, changes) == '{\n  "env": {\n    "A": "1"\n  }\n}\n'


def test_unicode_is_preserved_and_written_unescaped():
    text = '{\n  "env": {\n    "GREETING": "héllo \\u00e9 ✓"\n  },\n  "model": "opus"\n}\n'
    expected = (
        '{\n  "env": {\n    "GREETING": "héllo \\u00e9 ✓",\n    "ANTHROPIC_BASE_URL": "https://ü.example/✓"\n'
        '  },\n  "model": "modèle-😀"\n}\n'
    )
    assert _edit_to(text, {BASE_URL: "https://ü.example/✓", MODEL: "modèle-😀"}) == expected


def test_duplicate_keys_are_refused_rather_than_dropped():
    # json.loads keeps the last "env"; removing it would uncover the first, and re-serialising
    # would drop the first "env" the user wrote (issue 18): refused, nothing lost.
    text = '{\n    "model": "m",\n    "env": {"A": "1"},\n    "env": {"ANTHROPIC_MODEL": "2"}\n}'
    with pytest.raises(LlmconfError) as e:
        _edit_to(text, {})
    assert e.value.message == (
        "has the key 'env' twice in one object, and this change cannot be made without dropping one; nothing written"
    )


def test_no_changes_returns_the_text_unchanged():
    assert edit(GROWN, ()) == GROWN


# --- properties -----------------------------------------------------------------------

_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_TOP_NAMES = st.text(max_size=12).filter(lambda k: k not in ("env", "model"))
_ENV_NAMES = st.text(min_size=1, max_size=12).filter(lambda k: k not in target.BACKEND_VARS)
_NEW_ENV_NAMES = st.sampled_from(["BASH_DEFAULT_TIMEOUT_MS", "DISABLE_TELEMETRY", "ÜMLAUT_VAR"]) | _ENV_NAMES
_VALUES = st.text(max_size=16)

_STYLES = st.sampled_from(
    [
        (None, (", ", ": ")),
        (None, (",", ":")),
        (2, (",", ": ")),
        (2, (", ", ": ")),
        (2, (",", ":")),
        (4, (",", ": ")),
        ("\t", (",", ": ")),
        ("\t", (",", ":")),
    ]
)


@st.composite
def _documents(draw) -> dict[str, Any]:
    """A settings document: unowned members, maybe an env (owned and unowned vars), maybe a model."""
    members = list(draw(st.dictionaries(_TOP_NAMES, _JSON, max_size=4)).items())
    if draw(st.booleans()):
        env = draw(st.dictionaries(_ENV_NAMES, _JSON, max_size=4))
        owned = draw(st.dictionaries(st.sampled_from(target.BACKEND_VARS), _VALUES | _JSON, max_size=4))
        env_items = draw(st.permutations([*env.items(), *owned.items()]))
        members.append(("env", dict(env_items)))
    if draw(st.booleans()):
        members.append(("model", draw(_VALUES | _JSON)))
    return dict(draw(st.permutations(members)))


@st.composite
def _desired(draw, doc: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """What a profile renders: some backend vars, maybe new or existing env vars, maybe a model."""
    names = draw(st.lists(st.sampled_from(target.BACKEND_VARS), unique=True, max_size=5))
    names += draw(st.lists(_NEW_ENV_NAMES, max_size=2))
    existing = [k for k in doc.get("env", {}) if k not in target.BACKEND_VARS]
    if existing:
        names += draw(st.lists(st.sampled_from(existing), max_size=2))
    desired: dict[tuple[str, ...], str] = {("env", n): draw(_VALUES) for n in names}
    if draw(st.booleans()):
        desired[MODEL] = draw(_VALUES)
    return desired


@st.composite
def _cases(draw) -> tuple[str, dict[str, Any], dict[tuple[str, ...], str], tuple[Any, ...]]:
    doc = draw(_documents())
    style = draw(_STYLES)
    ensure_ascii = draw(st.booleans())
    text = json.dumps(doc, indent=style[0], separators=style[1], ensure_ascii=ensure_ascii)
    text += draw(st.sampled_from(["\n", ""]))
    desired = draw(_desired(doc))
    return text, doc, desired, (style, ensure_ascii)


def _unowned(doc: dict[str, Any], desired: dict[tuple[str, ...], str]) -> dict[str, Any]:
    owned = {*target.BACKEND_KEYS, *desired}
    top = {k: v for k, v in doc.items() if k != "env" and (k,) not in owned}
    env = {k: v for k, v in doc.get("env", {}).items() if ("env", k) not in owned}
    return {"top": top, "env": env}


def _member_text(key: str, value: Any, style: tuple[Any, tuple[str, str]], ensure_ascii: bool) -> str:
    """How json.dumps wrote one member of the top-level object, without its indentation."""
    indent, separators = style
    return json.dumps({key: value}, indent=indent, separators=separators, ensure_ascii=ensure_ascii)[1:-1].strip()


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(_cases())
def test_edit_means_what_the_plan_says(case):
    text, doc, desired, _ = case
    changes = _changes(desired, doc)
    out = json.loads(edit(text, changes))
    expected = plan.apply_changes(doc, changes)
    assert out == expected
    # Key order too: a new key goes last, an existing one stays where it was.
    assert json.dumps(out) == json.dumps(expected)


@PROPERTY
@given(_cases())
def test_edit_leaves_every_unowned_key_alone(case):
    text, doc, desired, _ = case
    after = json.loads(edit(text, _changes(desired, doc)))
    assert DeepDiff(_unowned(doc, desired), _unowned(after, desired)) == {}


@PROPERTY
@given(_cases())
def test_edit_then_plan_is_empty(case):
    text, doc, desired, _ = case
    after = json.loads(edit(text, _changes(desired, doc)))
    assert _changes(desired, after) == ()


def _in_sync(doc: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """The desired state a document already holds: its string-valued backend vars and model."""
    env = doc.get("env", {})
    desired = {k: env[k[1]] for k in target.BACKEND_KEYS if isinstance(env.get(k[1]), str)}
    if isinstance(doc.get("model"), str):
        desired[MODEL] = doc["model"]
    return desired


@PROPERTY
@given(_cases())
def test_plan_of_a_document_against_itself_is_empty(case):
    text, doc, _, _ = case
    changes, action = plan.diff(_in_sync(doc), doc, owned={}, fingerprint=lambda v: "x", created=False)
    # A backend var that is not a string cannot be what a profile rendered: it goes.
    not_strings = [
        k for k in target.BACKEND_KEYS if k[1] in doc.get("env", {}) and not isinstance(doc["env"][k[1]], str)
    ]
    assert [(c.key, c.action) for c in changes] == [(k, Action.REMOVE) for k in not_strings]
    if not changes:
        assert action is plan.FileAction.NONE
        assert edit(text, changes) == text


@PROPERTY
@given(_cases())
def test_edit_keeps_the_text_of_unowned_members_and_the_trailing_newline(case):
    text, doc, desired, (style, ensure_ascii) = case
    out = edit(text, _changes(desired, doc))
    for key, value in _unowned(doc, desired)["top"].items():
        member = _member_text(key, value, style, ensure_ascii)
        assert member in text  # the test's own premise
        assert member in out
    assert out.endswith("\n") == text.endswith("\n")


_GAPS = st.sampled_from(["", " ", "  ", "\n", "\n  ", "\n\t\t", "\r\n    ", " \n"])


def _loose(draw, value: Any) -> str:
    """JSON text with hand-typed whitespace: any amount, anywhere a gap is allowed."""
    if isinstance(value, dict):
        members = [
            f"{draw(_GAPS)}{json.dumps(k)}{draw(_GAPS)}:{draw(_GAPS)}{_loose(draw, v)}" for k, v in value.items()
        ]
        return "{" + f"{draw(_GAPS)},".join(members) + draw(_GAPS) + "}"
    if isinstance(value, list):
        return "[" + ",".join(draw(_GAPS) + _loose(draw, v) + draw(_GAPS) for v in value) + draw(_GAPS) + "]"
    return json.dumps(value, ensure_ascii=False)


@st.composite
def _loose_cases(draw) -> tuple[str, dict[str, Any], dict[tuple[str, ...], str], dict[str, str]]:
    doc = draw(_documents())
    texts = {k: f"{json.dumps(k)}{draw(_GAPS)}:{draw(_GAPS)}{_loose(draw, v)}" for k, v in doc.items()}
    text = draw(_GAPS) + "{" + ",".join(draw(_GAPS) + t + draw(_GAPS) for t in texts.values()) + "}" + draw(_GAPS)
    return text, doc, draw(_desired(doc)), texts


@PROPERTY
@given(_loose_cases())
def test_edit_in_a_hand_typed_layout(case):
    text, doc, desired, member_texts = case
    assert json.loads(text) == doc  # the test's own premise
    changes = _changes(desired, doc)
    out = edit(text, changes)
    after = json.loads(out)
    assert after == plan.apply_changes(doc, changes)
    assert DeepDiff(_unowned(doc, desired), _unowned(after, desired)) == {}
    for key in _unowned(doc, desired)["top"]:
        assert member_texts[key] in out


@PROPERTY
@given(_documents())
def test_edit_keeps_permissions_written_with_indent_2_verbatim(doc):
    doc = {"permissions": {"allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"], "deny": []}, **doc}
    text = json.dumps(doc, indent=2) + "\n"
    desired = {BASE_URL: "https://openrouter.ai/api", TOKEN: "sk-1", MODEL: "opus"}
    out = edit(text, _changes(desired, doc))
    permissions = '"permissions": ' + json.dumps(doc["permissions"], indent=2).replace("\n", "\n  ")
    assert permissions in out


# --- one element of an array (plan.model.element) --------------------------------------

ELEMENT = ("providers", "list", plan.element("name", "ours"))
OURS = {"id": "a.b/c", "name": "ours", "url": "http://x"}
ARRAY_FILE = """\
{
  "providers": {
    "list": [
      {"id": "theirs", "name": "Theirs"},
      {"id": "more", "name": "More"}
    ]
  }
}
"""


def _element_changes(desired: dict[tuple[str, ...], Any], doc: dict[str, Any] | None, owned: dict[str, str]) -> tuple[KeyChange, ...]:
    spec = plan.Keys((ELEMENT,), plan.dotted, looks_secret=lambda key: False)
    changes, _ = plan.diff(desired, doc, owned=owned, fingerprint=lambda v: "x", created=False, spec=spec)
    return changes


def test_an_element_goes_last_in_its_array_with_the_siblings_separator():
    out = edit(ARRAY_FILE, _element_changes({ELEMENT: OURS}, json.loads(ARRAY_FILE), {}))
    assert out == ARRAY_FILE.replace(
        '"More"}\n', '"More"},\n      {\n        "id": "a.b/c",\n        "name": "ours",\n        "url": "http://x"\n      }\n'
    )
    assert plan.get_key(json.loads(out), ELEMENT) == OURS


def test_an_element_is_replaced_and_removed_in_place_and_the_others_keep_their_text():
    text = ARRAY_FILE.replace('{"id": "theirs", "name": "Theirs"}', '{"id": "old", "name": "ours"}')
    owned = {"providers.list.[name=ours]": "x"}
    replaced = edit(text, _element_changes({ELEMENT: OURS}, json.loads(text), owned))
    assert replaced == text.replace('{"id": "old", "name": "ours"}', '{\n        "id": "a.b/c",\n        "name": "ours",\n        "url": "http://x"\n      }')
    assert edit(replaced, _element_changes({}, json.loads(replaced), owned)) == '{\n  "providers": {\n    "list": [\n      {"id": "more", "name": "More"}\n    ]\n  }\n}\n'


def test_removing_the_last_element_drops_the_array_and_the_objects_it_emptied():
    text = '{"a": 1, "providers": {"list": [{"name": "ours"}]}}'
    owned = {"providers.list.[name=ours]": "x"}
    assert edit(text, _element_changes({}, json.loads(text), owned)) == '{"a": 1}'
    assert edit('{"a": 1}', _element_changes({ELEMENT: OURS}, {"a": 1}, {})) == (
        '{"a": 1, "providers": {"list": [{"id": "a.b/c", "name": "ours", "url": "http://x"}]}}'
    )


def test_an_element_selector_takes_the_first_match_and_a_non_array_is_refused():
    doc = {"providers": {"list": ["text", {"name": "ours", "n": 1}, {"name": "ours", "n": 2}]}}
    assert plan.get_key(doc, ELEMENT) == {"name": "ours", "n": 1}
    with pytest.raises(LlmconfError, match="'list' is not a JSON array"):
        edit('{"providers": {"list": {}}}', _element_changes({ELEMENT: OURS}, {"providers": {"list": {}}}, {}))
