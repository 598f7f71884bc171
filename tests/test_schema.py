"""llmconf schema and init's editor modelines: the schemas accept what llmconf accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from ruamel.yaml import YAML

from llmconf.config import models as m
from llmconf.config import schema
from llmconf.targets.claude_code import settings as target
from tests.conftest import write_tree

REPO = Path(__file__).resolve().parent.parent


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture
def schemas(tmp_path, run) -> dict[str, jsonschema.Draft7Validator]:
    """The schemas as the CLI writes them, each checked as a draft-07 schema."""
    result = run("schema", "--out", "out/schemas")
    assert (result.code, result.err) == (0, "")
    assert result.out == "Wrote out/schemas/profile.schema.json\nWrote out/schemas/worktrees.schema.json\n"
    found = {}
    for name in ("profile", "worktrees"):
        document = json.loads((tmp_path / "out" / "schemas" / f"{name}.schema.json").read_text())
        jsonschema.Draft7Validator.check_schema(document)
        found[name] = jsonschema.Draft7Validator(document)
    return found


def _errors(validator: jsonschema.Draft7Validator, data: Any) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.validator}" for e in validator.iter_errors(data))


def test_every_shipped_profile_and_example_validates(schemas):
    profiles = sorted([*(REPO / "profiles").glob("*.yaml"), *(REPO / "examples" / "profiles").glob("*.yaml")])
    assert len(profiles) >= 12  # the 11 shipped ones and the demo
    for path in profiles:
        assert _errors(schemas["profile"], _yaml(path) or {}) == [], path
    assert _errors(schemas["worktrees"], _yaml(REPO / "worktrees.yaml")) == []


@pytest.mark.parametrize(
    ("kind", "data", "errors"),
    [
        ("profile", {"modles": {}}, [": additionalProperties"]),
        ("profile", {"models": {"sonet": "x"}}, ["models: anyOf"]),
        ("profile", {"key_via": "file"}, ["key_via: anyOf"]),
        ("profile", {"env": {"ANTHROPIC_BASE_URL": "http://x"}}, ["env: anyOf"]),
        ("profile", {"env": {"1BAD": "x"}}, ["env: anyOf"]),
        ("profile", {"base_url": True}, ["base_url: anyOf"]),
        ("worktrees", {"worktrees": {"a": {"profile": "p", "modles": {}}}}, ["worktrees: anyOf"]),
        ("worktrees", {"worktrees": {"a": {"models": {}}}}, ["worktrees: anyOf"]),
        ("worktrees", {"worktrees": {"a": 5}}, ["worktrees: anyOf"]),
        ("worktrees", {"worktree": {}}, [": additionalProperties"]),
        ("worktrees", {"agents": ["gemini-cli"]}, ["agents: anyOf"]),
        ("worktrees", {"worktrees": {"a": {"profile": "p", "agents": ["aider"]}}}, ["worktrees: anyOf"]),
        ("profile", {"endpoints": {"opnai": "http://x"}}, ["endpoints: anyOf"]),
        ("worktrees", {"secrets": {"k": {"env": "X", "path": "y"}}}, ["secrets: anyOf"]),
    ],
)
def test_schema_rejects_what_llmconf_rejects(schemas, kind, data, errors):
    assert _errors(schemas[kind], data) == errors
    with pytest.raises(ValidationError):
        (m.Profile if kind == "profile" else m.WorktreesFile).model_validate(data)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("profile", {"env": {"API_TIMEOUT_MS": 600000, "RATIO": 0.5, "UNSET": None}}),  # numbers become strings
        ("profile", {"models": {"haiku": None, "opus": "anthropic/claude-opus-4.5"}, "base_url": None}),
        ("worktrees", {"worktrees": {"a": "anthropic", "b": {"profile": 7, "allow_tracked_secret": "yes"}}}),
        ("worktrees", {"worktrees": {"a": {"profile": "p", "allow_tracked_secret": 0}}, "vars": {"n": [1, {"x": None}]}}),
        ("worktrees", {"secrets": {"k": {"command": ["pass", "show", 3]}}, "profile_paths": ["x"], "worktrees": None}),
        ("worktrees", {"agents": ["opencode", "claude-code"], "worktrees": {"a": {"profile": "p", "agents": ["opencode"], "endpoints": {"openai": "http://x/v1"}}}}),
        ("profile", {"endpoints": {"anthropic": "http://x", "openai": "http://x/v1", "gemini": None}}),
    ],
)
def test_schema_accepts_what_llmconf_accepts(schemas, kind, data):
    (m.Profile if kind == "profile" else m.WorktreesFile).model_validate(data)
    assert _errors(schemas[kind], data) == []


def test_every_shorthand_field_takes_a_string(schemas):
    """Every field the `path: profile` validator covers (worktrees, and any added since)."""
    fields = m.WorktreesFile.__pydantic_decorators__.field_validators["_shorthand"].info.fields
    assert "worktrees" in fields
    for field in fields:
        data = {field: {"some/folder": "anthropic"}}
        m.WorktreesFile.model_validate(data)
        assert _errors(schemas["worktrees"], data) == [], field
        assert _errors(schemas["worktrees"], {field: {"some/folder": 5}}) == [f"{field}: anyOf"]


# --- the schema never rejects what llmconf accepts: random documents, both judges ------

_SCALAR = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
_WORDS = st.sampled_from(["a", "x", "API_TIMEOUT_MS", "ANTHROPIC_BASE_URL", "1x", "yes", "", "profile", *target.SLOTS, "sonet"])
_VALUE = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_WORDS, inner, max_size=3), max_leaves=6)


def _document(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    names = [*m.field_names(model), "modles"]
    nested = [*m.field_names(m.WorktreeEntry), *m.field_names(m.SecretSource)]
    field_value = _VALUE | st.dictionaries(_WORDS, _SCALAR | st.dictionaries(st.sampled_from([*nested, "x"]), _VALUE, max_size=4), max_size=3)
    return st.dictionaries(st.sampled_from(names), field_value | st.text(max_size=4), max_size=4)


@pytest.mark.parametrize(("kind", "model"), [("profile", m.Profile), ("worktrees", m.WorktreesFile)])
def test_schema_is_never_stricter_than_llmconf(schemas, kind, model):
    accepted = []

    @settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_document(model))
    def check(data: dict[str, Any]) -> None:
        try:
            model.model_validate(data)
        except ValidationError:
            return
        accepted.append(data)
        assert _errors(schemas[kind], data) == [], data

    check()
    assert len(accepted) > 10  # the property was exercised on documents llmconf takes


# --- generation is generic, and refuses what it cannot describe --------------------------


def test_a_before_validator_the_schema_cannot_describe_is_an_error():
    class Loose(BaseModel):
        model_config = ConfigDict(extra="forbid")
        items: dict[str, int] | None = None

        @field_validator("items", mode="before")
        @classmethod
        def _expand(cls, value: Any) -> Any:
            return value

    with pytest.raises(RuntimeError, match=r"Loose\._expand is a before validator whose input the schema cannot know"):
        Loose.model_json_schema(schema_generator=schema._generator())


def test_every_field_has_editor_help():
    for document in schema.schemas().values():
        models = [document, *document.get("definitions", {}).values()]
        for model in models:
            assert model.get("description"), model.get("title")
            for name, prop in model.get("properties", {}).items():
                assert prop.get("description"), f"{model.get('title')}.{name}: add help in llmconf.config.schema._HELP"


def test_slots_are_listed_for_completion():
    models = schema.schemas()["profile.schema.json"]["properties"]["models"]["anyOf"][0]
    assert list(models["properties"]) == list(target.SLOTS)
    assert models["additionalProperties"] is False


# --- where the schemas go -----------------------------------------------------------------


def test_schema_defaults_to_the_config_folder(tmp_path, run):
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees: {}\n", "cfg/sub/x": ""})
    result = run("schema", cwd=tmp_path / "cfg" / "sub")
    assert (result.code, result.err) == (0, "")
    assert sorted(p.name for p in (tmp_path / "cfg" / ".llmconf" / "schema").iterdir()) == [
        "profile.schema.json",
        "worktrees.schema.json",
    ]


def test_schema_without_a_config_says_what_to_do(tmp_path, run):
    result = run("schema")
    assert result.code == 1
    assert result.err == (
        f"llmconf: no worktrees.yaml in {tmp_path} or any folder above it "
        "(run it in a config folder, pass -C DIR, or write elsewhere with --out DIR)\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder", ["typo", "notcfg"])
def test_schema_with_dash_c_needs_a_config_folder(tmp_path, run, folder):
    """-C typo (missing) or -C notcfg (no worktrees.yaml) writes nothing anywhere."""
    write_tree(tmp_path, {"notcfg/x": ""})
    result = run("-C", folder, "schema")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"llmconf: {folder}/worktrees.yaml: file not found "
        "(run it in a config folder, pass -C DIR, or write elsewhere with --out DIR)\n"
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["notcfg", "notcfg/x"]


def test_schema_out_creates_its_folder_without_a_config(tmp_path, run):
    result = run("-C", "typo", "schema", "--out", "new/deep")
    assert (result.code, result.err) == (0, "")
    assert result.out == "Wrote new/deep/profile.schema.json\nWrote new/deep/worktrees.schema.json\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_a_schema_folder_that_cannot_be_made_is_an_error(tmp_path, run):
    """--out on a file, or init over one: one error line with the command's own hint, no traceback."""
    write_tree(tmp_path, {"afile": "x"})
    result = run("schema", "--out", "afile")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"llmconf: cannot create {tmp_path}/afile: File exists (pick another --out DIR)\n"
    result = run("-C", "afile", "init")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"llmconf: cannot create {tmp_path}/afile/.llmconf/schema: Not a directory (init another folder)\n"
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_init_points_every_file_at_its_schema(tmp_path, run, schemas):
    write_tree(tmp_path, {"cfg/repo/x": ""})
    assert run("-C", "cfg", "init", "cfg/repo").code == 0
    cfg = tmp_path / "cfg"
    files = [cfg / "worktrees.yaml", *sorted((cfg / "profiles").glob("*.yaml"))]
    assert len(files) == 12
    for path in files:
        first = path.read_text().splitlines()[0]
        kind = "worktrees" if path.name == "worktrees.yaml" else "profile"
        rel = ".llmconf/schema/worktrees.schema.json" if kind == "worktrees" else "../.llmconf/schema/profile.schema.json"
        assert first == f"# yaml-language-server: $schema={rel}", path
        written = json.loads((path.parent / rel).read_text())
        assert written == schemas[kind].schema  # the same schema 'llmconf schema' writes
        assert _errors(schemas[kind], _yaml(path) or {}) == [], path
    assert run("-C", "cfg", "validate").code == 0


def test_init_quotes_folder_names_yaml_would_misread(tmp_path, run):
    """A folder named null or yes is declared as that string, quoted as `llmconf use` quotes it."""
    write_tree(tmp_path, {"null/x": "", "yes/x": "", "my repo #2/x": ""})
    assert run("init", "null", "yes", "my repo #2").code == 0
    declared = [line for line in (tmp_path / "worktrees.yaml").read_text().splitlines() if line.endswith(": anthropic")]
    assert declared == ['  "null": anthropic', '  "yes": anthropic', '  "my repo #2": anthropic']
    result = run("validate")
    assert (result.code, result.err) == (0, "")
