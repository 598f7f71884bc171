"""Session cost: the arithmetic against hand-computed values, `llmconf cost`, the cost column in
status and the cost of a switch in plan."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import write_tree

OPENROUTER = "base_url: https://openrouter.ai/api\nauth_token: \"{{ env('GW_TOKEN', 'gw-token') }}\"\n"

# The guide's typical session: 50K in and 15K out per call, 10 calls = 500K in, 150K out.
# Each value worked out by hand as 0.5 x input price + 0.15 x output price (prices per 1M).
GUIDE_SESSIONS = [
    ("anthropic/claude-opus-4.5", 6.25, "$6.25"),  # 2.50 + 3.75; the guide: ~$6.25
    ("anthropic/claude-sonnet-4.5", 3.75, "$3.75"),  # 1.50 + 2.25; the guide: ~$3.75
    ("mistralai/devstral-2512", 0.165, "$0.17"),  # 0.075 + 0.09; the guide: ~$0.17
    ("deepseek/deepseek-v3.2", 0.177, "$0.18"),  # 0.12 + 0.057; the guide: ~$0.18
    ("qwen/qwen3-coder", 0.2525, "$0.25"),  # 0.11 + 0.1425; the guide: ~$0.25
    ("minimax/minimax-m2.1", 0.33, "$0.33"),  # 0.15 + 0.18; the guide: ~$0.33
    ("z-ai/glm-4.7", 0.425, "$0.43"),  # 0.20 + 0.225; the guide: ~$0.43 (half up, not the float's $0.42)
    ("moonshotai/kimi-k2", 0.675, "$0.68"),  # 0.30 + 0.375; the guide: ~$0.68
    ("openai/gpt-5", 2.125, "$2.13"),  # 0.625 + 1.50; the guide: ~$2.13
    ("google/gemini-2.5-pro", 2.125, "$2.13"),  # 0.625 + 1.50; the guide: ~$2.13
]

# The guide's "vs. Opus 4.5" column, where its arithmetic is off: the session costs above are right,
# but 1 - cost / $6.25 is not what it says. Sonnet 4.5 is 40% cheaper, not 56% (3.75 / 6.25 = 0.6);
# GPT-5 and Gemini 2.5 Pro 66%, not 75%; GLM-4.7 93%, not 95%; Kimi K2 89%, not 92%; MiniMax M2.1
# 95%, not 96%; Qwen3-Coder 96%, not 97%; DeepSeek V3.2 and Devstral 2 97%, not 98%.
GUIDE_SAVINGS = {
    "anthropic/claude-sonnet-4.5": "40% cheaper",
    "openai/gpt-5": "66% cheaper",
    "google/gemini-2.5-pro": "66% cheaper",
    "z-ai/glm-4.7": "93% cheaper",
    "moonshotai/kimi-k2": "89% cheaper",
    "minimax/minimax-m2.1": "95% cheaper",
    "qwen/qwen3-coder": "96% cheaper",
    "deepseek/deepseek-v3.2": "97% cheaper",
    "mistralai/devstral-2512": "97% cheaper",
    "anthropic/claude-opus-4.5": "same",
}


def test_the_guide_session_costs_computed(run):
    ids = [model_id for model_id, _, _ in GUIDE_SESSIONS]
    doc = json.loads(run("cost", *ids, "--json").out)
    assert doc["usage"] == {"input_tokens": 50000, "output_tokens": 15000, "calls": 10}
    assert doc["baseline"]["session_usd"] == 6.25
    assert [(e["model"], e["session_usd"]) for e in doc["estimates"]] == [(m, usd) for m, usd, _ in GUIDE_SESSIONS]


def test_the_guide_comparison_table_as_text(run):
    ids = [model_id for model_id, _, _ in GUIDE_SESSIONS]
    lines = run("cost", *ids).out.splitlines()
    rows = {line.split()[2]: line for line in lines[1 : len(ids) + 1]}
    for model_id, _, shown in GUIDE_SESSIONS:
        assert rows[model_id].split()[4] == shown, rows[model_id]
        assert rows[model_id].endswith(GUIDE_SAVINGS[model_id]), rows[model_id]
    assert (
        lines[-1]
        == "Session: 50K in / 15K out per call, 10 calls. Baseline: anthropic/claude-opus-4.5, $6.25 a session."
    )


def test_cost_of_every_profile(tmp_path, run, snapshot):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees: {}\n",
            "profiles/mine.yaml": "extends: openrouter-base\nmodels: {haiku: z-ai/glm-4.7, sonnet: z-ai/glm-4.7}\ndefault: sonnet\n",
            "profiles/custom.yaml": "base_url: http://127.0.0.1:9/api\nmodels: {opus: local-model}\n",
        },
    )
    result = run("cost")
    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    # default: sonnet picks that slot; an unset slot costs Claude Code's own model; an unknown model is '?'.
    assert (
        "mine             sonnet  z-ai/glm-4.7                                $0.40/$1.50    $0.43    93% cheaper"
        in lines
    )
    assert "anthropic        opus    anthropic/claude-opus-4.5 (Claude default)  $5.00/$25.00   $6.25    same" in lines
    assert "custom           opus    local-model                                 ?              ?        -" in lines
    assert result.out == snapshot


@pytest.mark.parametrize(
    ("argv", "row", "footer"),
    [
        # 100K in x $0.22 + 0 out, one call = $0.022
        (
            ("qwen/qwen3-coder", "--input-tokens", "100000", "--output-tokens", "0", "--calls", "1"),
            "-        -     qwen/qwen3-coder  $0.22/$0.95    $0.02    96% cheaper",
            "Session: 100K in / 0 out per call, 1 call. Baseline: anthropic/claude-opus-4.5, $0.50 a session.",
        ),
        # under a cent: four decimals (1K in x $0.15 = $0.00015)
        (
            ("mistralai/devstral-2512", "--input-tokens", "1000", "--output-tokens", "0", "--calls", "1"),
            "-        -     mistralai/devstral-2512  $0.15/$0.60    $0.0002  97% cheaper",
            "Session: 1K in / 0 out per call, 1 call. Baseline: anthropic/claude-opus-4.5, $0.0050 a session.",
        ),
        # the haiku slot of an Anthropic-direct profile: Claude Haiku 4.5, 0.5 x $1 + 0.15 x $5 = $1.25
        (
            ("anthropic", "--slot", "haiku"),
            "anthropic  haiku  anthropic/claude-haiku-4.5 (Claude default)  $1.00/$5.00    $1.25    80% cheaper",
            "Session: 50K in / 15K out per call, 10 calls. Baseline: anthropic/claude-opus-4.5, $6.25 a session.",
        ),
        # against a profile: deepseek's opus (DeepSeek V3.2, $0.177) vs devstral's ($0.165)
        (
            ("devstral", "--baseline", "deepseek"),
            "devstral  opus  mistralai/devstral-2512  $0.15/$0.60    $0.17    7% cheaper",
            "Session: 50K in / 15K out per call, 10 calls. Baseline: profile deepseek, opus slot on deepseek/deepseek-v3.2, $0.18 a session.",
        ),
        # against a model, here a dearer one: legacy Opus 4 ($18.75) vs Opus 4.5 ($6.25)
        (
            ("anthropic/claude-opus-4", "--baseline", "anthropic/claude-opus-4.5"),
            "-        -     anthropic/claude-opus-4  $15.00/$75.00  $18.75   200% more",
            "Session: 50K in / 15K out per call, 10 calls. Baseline: anthropic/claude-opus-4.5, $6.25 a session.",
        ),
    ],
)
def test_cost_options(run, argv, row, footer):
    result = run("cost", *argv)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert (lines[1], lines[-1]) == (row, footer)


def test_a_direct_anthropic_id_is_priced_as_its_model(tmp_path, run):
    write_tree(
        tmp_path, {"worktrees.yaml": "worktrees: {}\n", "profiles/d.yaml": "models: {opus: claude-opus-4-5-20251101}\n"}
    )
    doc = json.loads(run("cost", "d", "--json").out)
    assert doc["estimates"][0] == {
        "profile": "d",
        "slot": "opus",
        "model": "claude-opus-4-5-20251101",
        "priced_as": "anthropic/claude-opus-4.5",
        "per_1m": {"input": 5.0, "output": 25.0},
        "session_usd": 6.25,
        "saving_pct": 0.0,
    }


def test_cost_errors(run):
    result = run("cost", "deepsek")
    assert (result.code, result.err) == (
        1,
        "llmconf: 'deepsek' is neither a profile nor a model in the catalog (did you mean 'deepseek'?)\n",
    )
    result = run("cost", "--baseline", "z-ai/glm-4.6")
    assert (result.code, result.err) == (
        1,
        "llmconf: no price for the baseline z-ai/glm-4.6 (pick a priced model; see 'llmconf models')\n",
    )


@pytest.mark.parametrize(("value", "error"), [("-1", "'-1' is negative"), ("ten", "'ten' is not a whole number")])
def test_token_and_call_counts_are_whole_numbers(capsys, value, error):
    from llmconf import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["cost", "--calls", value])
    assert (exc.value.code, capsys.readouterr().err.splitlines()[-1]) == (1, f"llmconf: argument --calls: {error}")


# --- status ------------------------------------------------------------------------------------------


def test_status_shows_a_session_estimate_on_each_worktree_default_model(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: anthropic\n  b: gw\n  c:\n    profile: gw\n    default: sonnet\n  d: local\n",
            "profiles/gw.yaml": OPENROUTER
            + "models: {haiku: mistralai/devstral-2512, sonnet: z-ai/glm-4.7, opus: openai/gpt-5}\n",
            "profiles/local.yaml": "base_url: http://127.0.0.1:9/api\nmodels: {opus: local-model}\n",
            **{f"{n}/.keep": "" for n in "abcd"},
        },
    )
    result = run("status")
    assert result.code == 0, result.err
    rows = json.loads(run("status", "--json").out)["worktrees"]
    assert [(r["worktree"], r["cost"]) for r in rows] == [("a", "$6.25"), ("b", "$2.13"), ("c", "$0.43"), ("d", "?")]
    header = re.split(r" {2,}", result.out.splitlines()[0])  # the columns, whatever their widths
    assert header == ["WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "DEFAULT", "EST. COST", "STATE", "EFFECTIVE"]
    rows = json.loads(run("status", "--json").out)["worktrees"]
    assert [(r["cost"], r["session_cost_usd"]) for r in rows] == [
        ("$6.25", 6.25),
        ("$2.13", 2.125),
        ("$0.43", 0.425),
        ("?", None),
    ]


def test_status_never_prices_a_model_named_by_a_secret(tmp_path, run, monkeypatch):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees: {a: p}\n",
            "profiles/p.yaml": OPENROUTER + "models: {opus: z-ai/glm-4.7}\n",
            "a/.keep": "",
        },
    )
    assert json.loads(run("status", "--json").out)["worktrees"][0]["cost"] == "$0.43"
    # A model from env() is as sensitive as one from a secret (env() may read a token).
    (tmp_path / "profiles/p.yaml").write_text(OPENROUTER + "models: {opus: \"{{ env('M') }}\"}\n")
    monkeypatch.setenv("M", "z-ai/glm-4.7")
    assert json.loads(run("status", "--json").out)["worktrees"][0]["cost"] == "?"
    (tmp_path / "profiles/p.yaml").write_text(OPENROUTER + "models: {opus: \"{{ secret('m') }}\"}\n")
    monkeypatch.setenv("LLMCONF_SECRET_M", "z-ai/glm-4.7")
    line = run("status").out.splitlines()[1]
    assert json.loads(run("status", "--json").out)["worktrees"][0]["cost"] == "?" and "glm" not in line


# --- plan ---------------------------------------------------------------------------------------------


@pytest.fixture
def switched(tmp_path, run):
    """A worktree on qwen/qwen3-coder for sonnet, then moved to GLM-4.7."""
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: gw\n",
            "profiles/gw.yaml": OPENROUTER
            + "models: {haiku: mistralai/devstral-2512, sonnet: 'qwen/qwen3-coder:exacto', opus: anthropic/claude-opus-4.5}\n",
            "a/.keep": "",
        },
    )
    assert run("apply", "--yes").code == 0
    (tmp_path / "worktrees.yaml").write_text("worktrees:\n  a:\n    profile: gw\n    models: {sonnet: z-ai/glm-4.7}\n")
    return tmp_path


def test_plan_shows_the_cost_of_a_model_switch(switched, run):
    result = run("plan")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "# a: a/.claude/settings.local.json (profile gw) will be updated\n"
        '  ~ env.ANTHROPIC_DEFAULT_SONNET_MODEL             = "qwen/qwen3-coder:exacto" -> "z-ai/glm-4.7"\n'
        '  ~ env.ANTHROPIC_DEFAULT_SONNET_MODEL_NAME        = "Qwen3-Coder 480B" -> "GLM-4.7"\n'
        '  ~ env.ANTHROPIC_DEFAULT_SONNET_MODEL_DESCRIPTION = "$0.22/$0.95 per 1M · 262K context" -> "$0.40/$1.50 per 1M · 202K context"\n'
        "  # sonnet: qwen/qwen3-coder:exacto -> z-ai/glm-4.7  ($0.22/$0.95 -> $0.40/$1.50 per 1M; session est. $0.25 -> $0.43)\n"
        "\n"
        "Plan: 0 to add, 3 to change, 0 to remove (in 1 file).\n"
    )
    doc = json.loads(run("plan", "--json").out)
    assert doc["worktrees"][0]["cost"] == [
        {
            "slot": "sonnet",
            "before": "qwen/qwen3-coder:exacto",
            "after": "z-ai/glm-4.7",
            "before_per_1m": {"input": 0.22, "output": 0.95},
            "after_per_1m": {"input": 0.4, "output": 1.5},
            "before_session_usd": 0.2525,
            "after_session_usd": 0.425,
        }
    ]


def test_plan_prices_a_switch_back_to_anthropic_direct(switched, run):
    (switched / "worktrees.yaml").write_text("worktrees:\n  a: anthropic\n")
    lines = [line for line in run("plan").out.splitlines() if line.startswith("  # ")]
    assert lines == [
        "  # haiku: mistralai/devstral-2512 -> Claude default  ($0.15/$0.60 -> $1.00/$5.00 per 1M; session est. $0.17 -> $1.25)",
        "  # sonnet: qwen/qwen3-coder:exacto -> Claude default  ($0.22/$0.95 -> $3.00/$15.00 per 1M; session est. $0.25 -> $3.75)",
    ]  # opus was Opus 4.5 already: the same model, nothing to show


def test_plan_shows_no_cost_for_models_the_catalog_cannot_price(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: local\n",
            "profiles/local.yaml": "base_url: http://127.0.0.1:9/api\nmodels: {haiku: h-1, sonnet: s-1, opus: o-1}\n",
            "a/.keep": "",
        },
    )
    doc = json.loads(run("plan", "--json").out)
    assert "cost" not in doc["worktrees"][0]
    assert run("plan").out == (  # no "# haiku: ... per 1M" line under the keys
        "# a: a/.claude/settings.local.json (profile local) will be created\n"
        '  + env.ANTHROPIC_BASE_URL             = "http://127.0.0.1:9/api"\n'
        '  + env.ANTHROPIC_DEFAULT_HAIKU_MODEL  = "h-1"\n'
        '  + env.ANTHROPIC_DEFAULT_SONNET_MODEL = "s-1"\n'
        '  + env.ANTHROPIC_DEFAULT_OPUS_MODEL   = "o-1"\n'
        "\n"
        "Plan: 4 to add, 0 to change, 0 to remove (in 1 file).\n"
    )
