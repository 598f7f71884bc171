"""The model keys a profile compiles to follow the Claude Code that will run: a key that
version ignores is not written, and plan says which field a newer one would take (the
versions each key arrived in are pinned against the real binaries in tests/e2e)."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import write_tree
from tests.test_claude_client import fake_claude

PROFILE = (
    "base_url: http://gw\n"
    "models: {haiku: m/haiku, sonnet: m/sonnet, opus: m/opus, fable: m/fable}\n"
    "default: sonnet\n"
)


@pytest.fixture
def config(tmp_path):
    write_tree(tmp_path, {"profiles/gw.yaml": PROFILE, "worktrees.yaml": "worktrees:\n  wt: gw\n", "wt/.keep": ""})
    return tmp_path


def env_lines(version: str) -> list[str]:
    """The plan's lines for the worktree's settings file, as the fixture's profile renders for `version`."""
    slots = ["haiku", "sonnet", "opus"] + (["fable"] if version >= "2.1.170" else [])
    keys = [("env.ANTHROPIC_BASE_URL", "http://gw")]
    keys += [(f"env.ANTHROPIC_DEFAULT_{slot.upper()}_MODEL", f"m/{slot}") for slot in slots]
    keys.append(("env.ANTHROPIC_DEFAULT_MODEL" if version >= "2.1.236" else "model", "sonnet"))
    width = max(len(key) for key, _ in keys)
    return [f'  + {key:<{width}} = "{value}"' for key, value in keys]


@pytest.mark.parametrize("version", ["2.1.169", "2.1.170", "2.1.235", "2.1.236", "2.1.332"])
def test_each_version_gets_the_model_keys_it_reads(config, run, monkeypatch, version):
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "bin", version)))
    result = run("plan")
    assert (result.code, result.err) == (0, "")
    n = len(env_lines(version))
    expected = "\n".join(
        [
            "# wt: wt/.claude/settings.local.json (profile gw) will be created",
            *env_lines(version),
            "",
            f"Plan: {n} to add, 0 to change, 0 to remove (in 1 file).",
        ]
    )
    if version == "2.1.169":
        expected += "\nNote: Claude Code 2.1.169 would ignore, so plan leaves out: models.fable (read from 2.1.170 on)."
    assert result.out == expected + "\n"
    doc = json.loads(run("plan", "--json").out)
    assert doc.get("notes", []) == ([expected.split("\nNote: ")[1][:-1]] if version == "2.1.169" else [])


def test_a_newer_claude_moves_the_default_to_the_env_and_removes_model(config, run, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "old", "2.1.197")))
    assert run("apply", "--yes").code == 0
    settings = config / "wt/.claude/settings.local.json"
    assert json.loads(settings.read_text())["model"] == "sonnet"
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "new", "2.1.332")))
    assert run("plan").out == (
        "# wt: wt/.claude/settings.local.json (profile gw) will be updated\n"
        '  + env.ANTHROPIC_DEFAULT_MODEL = "sonnet"\n'
        '  - model                       = "sonnet"\n'
        "\n"
        "Plan: 1 to add, 0 to change, 1 to remove (in 1 file).\n"
    )
    assert run("apply", "--yes").code == 0
    doc = json.loads(settings.read_text())
    assert ("model" in doc, doc["env"]["ANTHROPIC_DEFAULT_MODEL"]) == (False, "sonnet")


def test_status_shows_the_fable_column_only_where_a_profile_maps_it(config, run, monkeypatch):
    write_tree(config, {"profiles/three.yaml": "base_url: http://gw\nmodels: {haiku: a, sonnet: b, opus: c}\n"})
    (config / "worktrees.yaml").write_text("worktrees:\n  wt: three\n")
    assert run("status").out.splitlines()[0].split() == [
        "WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "DEFAULT", "EST.", "COST", "STATE", "EFFECTIVE"
    ]
    (config / "worktrees.yaml").write_text("worktrees:\n  wt: gw\n")
    rows = run("status").out.splitlines()
    assert rows[0].split() == [
        "WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "FABLE", "DEFAULT", "EST.", "COST", "STATE", "EFFECTIVE"
    ]
    assert rows[1].split()[3:8] == ["m/haiku", "m/sonnet", "m/opus", "m/fable", "m/sonnet"]


def test_a_gateway_profile_without_fable_gets_no_warning_for_it(config, run):
    write_tree(config, {"profiles/gw.yaml": "base_url: http://gw\nmodels: {haiku: a, sonnet: b, opus: c}\n"})
    assert run("validate").err == ""


def test_subagent_inherit_is_written_and_not_linted_as_a_model(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "profiles/or.yaml": "base_url: https://openrouter.ai/api\nmodels: {haiku: qwen/qwen3-coder, sonnet: qwen/qwen3-coder:exacto, "
            "opus: qwen/qwen3-coder:exacto}\nsubagent: inherit\n",
            "worktrees.yaml": "worktrees:\n  wt: or\n",
            "wt/.keep": "",
        },
    )
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    doc = json.loads((tmp_path / "wt/.claude/settings.local.json").read_text())
    assert doc["env"]["CLAUDE_CODE_SUBAGENT_MODEL"] == "inherit"


LABELLED = (
    "base_url: http://gw\n"
    "models: {haiku: m/haiku, sonnet: m/sonnet, opus: m/opus, fable: m/fable}\n"
    "labels: {sonnet: GW Sonnet, fable: \"Fable on {{ profile.name }}\"}\n"
    "descriptions: {sonnet: sonnet via the gateway}\n"
    "capabilities: {sonnet: [effort, thinking], opus: \"adaptive_thinking, effort\", haiku: [effort]}\n"
)


def test_slot_labels_descriptions_and_capabilities_are_written_beside_each_slot(config, run):
    (config / "profiles/gw.yaml").write_text(LABELLED)
    doc = json.loads(run("plan", "--json").out)
    changes = {c["key"]: c["after"] for c in doc["worktrees"][0]["changes"]}
    assert list(changes.items()) == [
        ("env.ANTHROPIC_BASE_URL", "http://gw"),
        ("env.ANTHROPIC_DEFAULT_HAIKU_MODEL", "m/haiku"),
        ("env.ANTHROPIC_DEFAULT_HAIKU_MODEL_SUPPORTED_CAPABILITIES", "effort"),
        ("env.ANTHROPIC_DEFAULT_SONNET_MODEL", "m/sonnet"),
        ("env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME", "GW Sonnet"),
        ("env.ANTHROPIC_DEFAULT_SONNET_MODEL_DESCRIPTION", "sonnet via the gateway"),
        ("env.ANTHROPIC_DEFAULT_SONNET_MODEL_SUPPORTED_CAPABILITIES", "effort,thinking"),
        ("env.ANTHROPIC_DEFAULT_OPUS_MODEL", "m/opus"),
        ("env.ANTHROPIC_DEFAULT_OPUS_MODEL_SUPPORTED_CAPABILITIES", "adaptive_thinking,effort"),
        ("env.ANTHROPIC_DEFAULT_FABLE_MODEL", "m/fable"),
        ("env.ANTHROPIC_DEFAULT_FABLE_MODEL_NAME", "Fable on gw"),
    ]
    # Owned like the slots: a profile without them takes them out again.
    assert run("apply", "--yes").code == 0
    (config / "profiles/gw.yaml").write_text(PROFILE)
    assert run("plan").out.count("  - env.ANTHROPIC_DEFAULT_") == 6


def test_an_unknown_capability_is_an_error_at_its_line(config, run):
    (config / "profiles/gw.yaml").write_text("base_url: http://gw\nmodels: {sonnet: m/s}\ncapabilities: {sonnet: [effort, thinkng]}\n")
    result = run("validate")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "llmconf: profiles/gw.yaml:3: capabilities.sonnet.1: input should be 'effort', 'max_effort', 'xhigh_effort', "
        "'thinking', 'adaptive_thinking', 'interleaved_thinking', 'temperature' or 'mid_conversation_system'"
    )


def test_a_release_before_slot_labels_gets_none_and_plan_says_from_when(config, run, monkeypatch):
    (config / "profiles/gw.yaml").write_text(LABELLED)
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "bin", "2.1.83")))
    result = run("plan")
    keys = [line.split()[1] for line in result.out.splitlines() if line.startswith("  + ")]
    assert keys == [
        "env.ANTHROPIC_BASE_URL", "env.ANTHROPIC_DEFAULT_HAIKU_MODEL", "env.ANTHROPIC_DEFAULT_SONNET_MODEL",
        "env.ANTHROPIC_DEFAULT_OPUS_MODEL",
    ]
    notes = [line for line in result.out.splitlines() if line.startswith("Note: ")]
    assert notes == [  # one line, by release
        "Note: Claude Code 2.1.83 would ignore, so plan leaves out: capabilities.haiku, capabilities.opus, "
        "capabilities.sonnet, descriptions.sonnet, labels.sonnet (read from 2.1.84 on); models.fable (read from 2.1.170 on)."
    ]


def test_a_label_for_a_slot_the_profile_does_not_map_is_a_warning_at_its_line(config, run):
    (config / "profiles/gw.yaml").write_text("base_url: http://gw\nmodels: {sonnet: m/s}\nlabels:\n  sonnet: S\n  fable: F\n")
    result = run("validate")
    assert (result.code, result.err) == (
        0,
        "llmconf: warning: profiles/gw.yaml:5: LC301 labels.fable is not written: the profile maps no fable model for it "
        "to describe (set models.fable, or drop labels.fable)\n",
    )


PICKER = PROFILE.replace("default: sonnet\n", "labels: {sonnet: GW Sonnet}\npicker: true\n")


def test_picker_rows_go_only_to_the_settings_delivery_with_the_fable_key_and_labels(config, run, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "bin", "2.1.332")))
    (config / "profiles/gw.yaml").write_text(PICKER)
    result = run("plan", "--json")
    assert (result.code, result.err) == (0, "")
    own, delivery = json.loads(result.out)["worktrees"]
    slots = [
        ("env.ANTHROPIC_BASE_URL", "http://gw"),
        ("env.ANTHROPIC_DEFAULT_HAIKU_MODEL", "m/haiku"),
        ("env.ANTHROPIC_DEFAULT_SONNET_MODEL", "m/sonnet"),
        ("env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME", "GW Sonnet"),
        ("env.ANTHROPIC_DEFAULT_OPUS_MODEL", "m/opus"),
        ("env.ANTHROPIC_DEFAULT_FABLE_MODEL", "m/fable"),
    ]
    # The worktree's own file: what a plain `claude` there reads (it would ignore modelPicker).
    assert [(c["key"], c["after"]) for c in own["changes"]] == slots
    assert own["delivery"] == {
        "kind": "settings",
        "why": "Claude Code reads modelPicker only from --settings, user and managed settings, never from a "
        "checkout's file: a plain claude here runs on its own file, without it",
    }
    rows = [
        {"model": "opus", "description": "m/opus"},
        {"model": "sonnet", "label": "GW Sonnet", "description": "m/sonnet"},
        {"model": "haiku", "description": "m/haiku"},
        {"model": "fable", "description": "m/fable"},
    ]
    written = {c["key"]: c["after"] for c in delivery["changes"]}
    deliver = os.path.join(os.environ["XDG_STATE_HOME"], "llmconf", "deliver")
    assert (delivery["role"], delivery["settings_file"]) == ("delivery", deliver + str(config / "wt/claude-settings.json"))
    assert list(written.items())[: len(slots) + 1] == [*slots, ("modelPicker", {"options": rows, "replaceBuiltInOptions": True})]
    assert {v for k, v in list(written.items())[len(slots) + 1 :]} == {""}  # blanks: no layer below lends a value

    assert run("apply", "--yes").code == 0
    assert "modelPicker" not in json.loads((config / "wt/.claude/settings.local.json").read_text())
    assert run("plan").out == "No changes.\n"
    # Without picker rows the worktree's own file suffices again: its --settings file goes.
    (config / "profiles/gw.yaml").write_text(PICKER.replace("picker: true\n", ""))
    out = run("plan").out
    assert "claude-settings.json (profile gw) will be deleted" in out and "will be updated" not in out


def test_a_release_without_the_picker_or_behaves_as_gets_none_and_plan_says_from_when(config, run, monkeypatch):
    (config / "profiles/gw.yaml").write_text(
        "base_url: http://gw\nmodels: {sonnet: m/s}\npicker:\n  rows: [sonnet, {model: x/y, behaves_as: sonnet}]\n  replace: false\n"
    )
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "old", "2.1.256")))
    doc = json.loads(run("plan", "--json").out)
    assert doc["notes"] == ["Claude Code 2.1.256 would ignore, so plan leaves out: picker rows' behaves_as (read from 2.1.257 on)"]
    picker = {c["key"]: c["after"] for c in doc["worktrees"][1]["changes"]}["modelPicker"]
    assert picker == {"options": [{"model": "sonnet", "description": "m/s"}, {"model": "x/y"}], "replaceBuiltInOptions": False}
    monkeypatch.setenv("LLMCONF_CLAUDE", str(fake_claude(config / "older", "2.1.241")))
    result = run("plan")
    assert result.out == (
        "# wt: wt/.claude/settings.local.json (profile gw) will be created\n"
        '  + env.ANTHROPIC_BASE_URL             = "http://gw"\n'
        '  + env.ANTHROPIC_DEFAULT_SONNET_MODEL = "m/s"\n'
        "\n"
        "Plan: 2 to add, 0 to change, 0 to remove (in 1 file).\n"
        "Note: Claude Code 2.1.241 would ignore, so plan leaves out: picker (read from 2.1.242 on).\n"
    )


def test_a_bad_picker_row_is_an_error_at_its_line(config, run):
    (config / "profiles/gw.yaml").write_text(
        "base_url: http://gw\nmodels: {sonnet: m/s}\npicker:\n  rows:\n    - sonnet\n    - {model: x/y, behaves_as: sonet}\n"
    )
    result = run("validate")
    assert (result.code, result.err) == (
        1,
        "llmconf: profiles/gw.yaml:6: picker.rows.1.behaves_as: input should be 'haiku', 'sonnet', 'opus' or 'fable'\n"
        "llmconf: 1 problem found\n",
    )


def test_each_picker_row_is_linted_at_its_own_line(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "profiles/or.yaml": "base_url: https://openrouter.ai/api\nmodels: {haiku: qwen/qwen3-coder, sonnet: qwen/qwen3-coder:exacto, "
            "opus: qwen/qwen3-coder:exacto}\npicker:\n  rows:\n    - sonnet\n    - fable\n    - qwen/qwen3-codr\n",
            "worktrees.yaml": "worktrees:\n  wt: or\n",
            "wt/.keep": "",
        },
    )
    result = run("validate")
    assert (result.code, result.err.splitlines()) == (
        0,
        [
            "llmconf: warning: profiles/or.yaml:6: LC106 picker.rows.1.model: the profile maps no fable model, so this row picks "
            "Claude Code's own fable model ID, which the gateway may not serve (set models.fable, or drop the row)",
            "llmconf: warning: profiles/or.yaml:7: LC101 picker.rows.2.model: unknown model ID 'qwen/qwen3-codr' (did you mean qwen/qwen3-coder, "
            "qwen/qwen3-coder-plus or qwen/qwen3-coder:exacto? If the ID is right, run 'llmconf models --refresh' or add it "
            "to catalog.yaml)",
        ],
    )


def test_a_gateway_the_catalog_lists_labels_each_slot_from_it_unless_the_profile_says_otherwise(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "profiles/or.yaml": "base_url: https://openrouter.ai/api\n"
            "models: {haiku: mistralai/devstral-2512, sonnet: qwen/qwen3-coder:exacto, opus: vendor/not-in-catalog}\n"
            "labels: {sonnet: Qwen (ours)}\n"
            "picker:\n  rows: [sonnet, z-ai/glm-4.7]\n",
            # A user's catalog.yaml adds what it knows: capabilities for Devstral.
            "catalog.yaml": "models:\n  mistralai/devstral-2512:\n    capabilities: [effort, thinking]\n",
            "worktrees.yaml": "worktrees:\n  wt: or\n  plain: {profile: or, catalog_info: false}\n  local: {profile: or, base_url: http://127.0.0.1:4000}\n",
            "wt/.keep": "", "plain/.keep": "", "local/.keep": "",
        },
    )
    doc = json.loads(run("plan", "--json").out)
    said = {w["name"]: {c["key"]: c["after"] for c in w["changes"]} for w in doc["worktrees"] if w.get("role") != "delivery"}
    labels = {k: v for k, v in said["wt"].items() if k.endswith(("_NAME", "_DESCRIPTION", "_CAPABILITIES"))}
    assert labels == {
        "env.ANTHROPIC_DEFAULT_HAIKU_MODEL_NAME": "Devstral 2",
        "env.ANTHROPIC_DEFAULT_HAIKU_MODEL_DESCRIPTION": "$0.15/$0.60 per 1M · 256K context",
        "env.ANTHROPIC_DEFAULT_HAIKU_MODEL_SUPPORTED_CAPABILITIES": "effort,thinking",
        "env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Qwen (ours)",  # the profile's own word wins
        "env.ANTHROPIC_DEFAULT_SONNET_MODEL_DESCRIPTION": "$0.22/$0.95 per 1M · 262K context",
    }  # opus: a model the catalog does not know gets nothing
    # catalog_info: false, or a gateway the catalog does not list: only what the profile says.
    for name in ("plain", "local"):
        assert [k for k in said[name] if k.endswith(("_NAME", "_DESCRIPTION", "_CAPABILITIES"))] == [
            "env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME"
        ], name
    picker = {c["key"]: c["after"] for c in doc["worktrees"][1]["changes"]}["modelPicker"]
    assert picker["options"] == [
        {"model": "sonnet", "label": "Qwen (ours)", "description": "$0.22/$0.95 per 1M · 262K context"},
        {"model": "z-ai/glm-4.7", "label": "GLM-4.7", "description": "$0.40/$1.50 per 1M · 202K context"},
    ]


def test_status_and_doctor_show_labels_default_and_subagent_as_claude_code_sees_them(config, run):
    (config / "profiles/gw.yaml").write_text(
        "base_url: http://gw\nmodels: {haiku: m/haiku, sonnet: m/sonnet, opus: m/opus}\n"
        "labels: {sonnet: GW Sonnet}\ndefault: sonnet\nsubagent: m/haiku\n"
    )
    assert run("apply", "--yes").code == 0
    rows = run("status").out.splitlines()
    assert rows[0].split() == [
        "WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "DEFAULT", "SUBAGENT", "EST.", "COST", "STATE", "EFFECTIVE"
    ]
    assert rows[1].split()[3:9] == ["m/haiku", "m/sonnet", "m/opus", "m/sonnet", "(sonnet)", "m/haiku"]
    assert rows[1].endswith("in-sync  as declared")
    row = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (row["labels"], row["default"], row["subagent"]) == ({"sonnet": "GW Sonnet"}, "m/sonnet (sonnet)", "m/haiku")
    assert run("doctor").out.splitlines()[:6] == [
        "# wt (profile gw): http://gw",
        "  haiku   m/haiku",
        "  sonnet  m/sonnet  (GW Sonnet in /model)",
        "  opus    m/opus",
        "  default m/sonnet (sonnet)",
        "  subagent m/haiku",
    ]
    effective = json.loads(run("doctor", "--json").out)["worktrees"][0]["effective"]
    assert (effective["labels"], effective["subagent"], effective["default_model"]) == ({"sonnet": "GW Sonnet"}, "m/haiku", "m/sonnet")
    # Another subagent model in the file is what Claude Code uses: status says it differs.
    settings = config / "wt/.claude/settings.local.json"
    doc = json.loads(settings.read_text())
    doc["env"]["CLAUDE_CODE_SUBAGENT_MODEL"] = "other/model"
    settings.write_text(json.dumps(doc))
    row = json.loads(run("status", "--json").out)["worktrees"][0]
    assert (row["effective"], row["effective_values"]["subagent"]) == ("differs: llmconf doctor", "other/model")


def test_gateway_discovery_with_models_it_would_hide_is_a_warning_at_its_line(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "profiles/or.yaml": "base_url: https://openrouter.ai/api\nmodels: {haiku: anthropic/claude-haiku-4.5, "
            "sonnet: qwen/qwen3-coder:exacto, opus: z-ai/glm-4.7}\nenv:\n  CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: 1\n",
            "profiles/claude.yaml": "extends: or\nmodels: {sonnet: anthropic/claude-sonnet-4.5, opus: anthropic/claude-opus-4.5}\n",
            "profiles/off.yaml": "extends: or\nenv: {CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: 0}\n",
            "worktrees.yaml": "worktrees:\n  a: or\n  b: claude\n  c: off\n",
            "a/.keep": "", "b/.keep": "", "c/.keep": "",
        },
    )
    result = run("validate")
    assert (result.code, result.err) == (
        0,
        "llmconf: warning: profiles/or.yaml:4: LC205 env.CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY lists only gateway models "
        "whose ID contains 'claude' or 'anthropic': /model will not offer qwen/qwen3-coder:exacto, z-ai/glm-4.7 "
        "(drop it, and list the models you want in /model as picker rows)\n",
    )
