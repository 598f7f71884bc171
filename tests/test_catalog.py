"""The model catalog: the guide's models with correct IDs, the user's catalog.yaml over it, located
errors, the cache, and `models --refresh` against a local server (never the internet)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import write_tree
from tests.helpers import LocalServer, Reply, assert_unchanged, serve, snapshot_tree

CONFIG = {"worktrees.yaml": "worktrees: {}\n"}

# The guide's pricing table and quick comparison matrix, row by row, with the right IDs:
# (OpenRouter ID, name, input $/1M, output $/1M, context as the guide writes it, ratings).
GUIDE = [
    ("anthropic/claude-haiku-4.5", "Claude Haiku 4.5", 1.00, 5.00, "200K", ("Good", "Good", "Good", "Good")),
    (
        "anthropic/claude-sonnet-4.5",
        "Claude Sonnet 4.5",
        3.00,
        15.00,
        "200K",
        ("Excellent", "Excellent", "Very Good", "Excellent"),
    ),
    ("anthropic/claude-opus-4.5", "Claude Opus 4.5", 5.00, 25.00, "200K", ("Excellent",) * 4),
    ("anthropic/claude-sonnet-4", "Claude Sonnet 4", 3.00, 15.00, "200K", (None,) * 4),  # priced, not rated
    ("anthropic/claude-opus-4", "Claude Opus 4", 15.00, 75.00, "200K", (None,) * 4),
    ("deepseek/deepseek-v3.2", "DeepSeek V3.2", 0.24, 0.38, "128K", ("Fair", "Good", "Good", "Fair")),
    ("mistralai/devstral-2512", "Devstral 2", 0.15, 0.60, "256K", ("Good", "Very Good", "Good", "Good")),
    ("qwen/qwen3-coder", "Qwen3-Coder 480B", 0.22, 0.95, "262K", ("Good", "Very Good", "Good", "Good")),
    ("minimax/minimax-m2.1", "MiniMax M2.1", 0.30, 1.20, "205K", ("Good", "Good", "Fair", "Good")),
    ("z-ai/glm-4.7", "GLM-4.7", 0.40, 1.50, "202K", ("Good", "Good", "Very Good", "Good")),
    ("moonshotai/kimi-k2", "Kimi K2", 0.60, 2.50, "131K", ("Good", "Good", "Very Good", "Fair")),
    ("qwen/qwen3-coder-plus", "Qwen3-Coder Plus", 1.00, 5.00, "128K", ("Good",) * 4),
    ("openai/gpt-5", "GPT-5", 1.25, 10.00, "400K", ("Very Good", "Good", "Very Good", "Good")),
    ("google/gemini-2.5-pro", "Gemini 2.5 Pro", 1.25, 10.00, "1M", ("Fair", "Good", "Very Good", "Poor")),
    ("openai/gpt-5.2-codex", "GPT-5.2-Codex", 1.75, 14.00, "400K", ("Very Good",) * 4),
]


def _models(run: Any, *argv: str) -> dict[str, dict[str, Any]]:
    result = run("models", "--json", *argv)
    assert result.code == 0, result.err
    return {m["id"]: m for m in json.loads(result.out)["models"]}


def _context(tokens: int) -> str:
    return f"{tokens // 1_000_000}M" if tokens >= 1_000_000 else f"{round(tokens / 1000)}K"


def test_every_model_in_the_guide_is_there_with_its_price_context_and_ratings(run):
    models = _models(run)
    for model_id, name, price_in, price_out, context, ratings in GUIDE:
        m = models[model_id]
        assert (m["name"], m["input_per_1m"], m["output_per_1m"], _context(m["context"])) == (
            name,
            price_in,
            price_out,
            context,
        )
        assert tuple(m["ratings"].values()) == ratings, model_id


def test_where_the_guide_is_wrong_the_catalog_has_the_right_id_and_says_why(run):
    models = _models(run)
    # DeepSeek V3.2's row gives R1's ID; the Qwen3-Coder template's slug does not exist.
    assert models["deepseek/deepseek-v3.2"]["guide_id"] == "deepseek/deepseek-r1-0528"
    assert "deepseek/deepseek-r1-0528" not in models
    assert models["qwen/qwen3-coder"]["guide_id"] == "qwen/qwen3-coder-480b-a35b"
    assert "qwen/qwen3-coder-480b-a35b" not in models
    # "anthropic/claude-opus-4 ($5/$25)" is priced as Opus 4.5; Opus 4 is the legacy model at 3x.
    assert models["anthropic/claude-opus-4.5"]["guide_id"] == "anthropic/claude-opus-4"
    assert models["anthropic/claude-opus-4"]["successor"] == "anthropic/claude-opus-4.5"
    assert all(models[i]["note"] for i in ("deepseek/deepseek-v3.2", "qwen/qwen3-coder", "anthropic/claude-opus-4.5"))


def test_claude_models_carry_their_direct_anthropic_ids(run):
    direct = {i: m["anthropic_id"] for i, m in _models(run).items() if m["anthropic_id"]}
    assert direct == {
        "anthropic/claude-opus-4.5": "claude-opus-4-5-20251101",
        "anthropic/claude-sonnet-4.5": "claude-sonnet-4-5-20250929",
        "anthropic/claude-haiku-4.5": "claude-haiku-4-5-20251001",
        "anthropic/claude-sonnet-4": "claude-sonnet-4-20250514",
        "anthropic/claude-opus-4": "claude-opus-4-20250514",
    }


def test_exacto_only_where_verified(run):
    exacto = sorted(i for i, m in _models(run).items() if m["exacto"])
    # The guide's MiniMax M2.1 claim is unverified: recorded as false, with a note saying so.
    assert exacto == [
        "deepseek/deepseek-v3.1-terminus",
        "moonshotai/kimi-k2-0905",
        "openai/gpt-oss-120b",
        "qwen/qwen3-coder",
        "z-ai/glm-4.6",
    ]
    assert "not verified" in _models(run)["minimax/minimax-m2.1"]["note"]


def test_models_table(run, snapshot):
    result = run("models")
    assert (result.code, result.err) == (0, "")
    assert result.out == snapshot


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        # by a typical session's cost (Devstral 2 $0.165 < DeepSeek V3.2 $0.177)
        ("price", ["mistralai/devstral-2512", "deepseek/deepseek-v3.2", "qwen/qwen3-coder", "minimax/minimax-m2.1"]),
        ("context", ["google/gemini-2.5-pro", "openai/gpt-5", "openai/gpt-5.2-codex", "qwen/qwen3-coder"]),
        ("name", ["anthropic/claude-haiku-4.5", "anthropic/claude-opus-4", "anthropic/claude-opus-4.5"]),
    ],
)
def test_models_sort(run, sort, first):
    rows = run("models", "--sort", sort).out.split("\n\n")[0].splitlines()[1:]
    assert [row.split()[0] for row in rows[: len(first)]] == first
    if sort != "name":  # what the catalog does not know goes last
        unknown = ["deepseek/deepseek-v3.1-terminus", "moonshotai/kimi-k2-0905", "openai/gpt-oss-120b", "z-ai/glm-4.6"]
        assert [row.split()[0] for row in rows[-4:]] == unknown


def test_user_catalog_overrides_by_id_and_adds_models(tmp_path, run):
    write_tree(
        tmp_path,
        {
            **CONFIG,
            "catalog.yaml": (
                "models:\n"
                "  qwen/qwen3-coder: {input: 0.2, ratings: {agentic: Very Good}}  # a new price, one rating\n"
                "  acme/coder-1: {name: Acme Coder, input: 0.1, output: 0.5, context: 64000}\n"
            ),
        },
    )
    models = _models(run)
    qwen = models["qwen/qwen3-coder"]
    assert (qwen["input_per_1m"], qwen["output_per_1m"], qwen["name"]) == (0.2, 0.95, "Qwen3-Coder 480B")
    assert qwen["ratings"] == {
        "tool_use": "Good",
        "code_quality": "Very Good",
        "reasoning": "Good",
        "agentic": "Very Good",
    }
    assert models["acme/coder-1"]["session_usd"] == 0.125  # 500K x $0.1 + 150K x $0.5, per 1M
    assert models["acme/coder-1"]["ratings"] == {
        "tool_use": None,
        "code_quality": None,
        "reasoning": None,
        "agentic": None,
    }
    assert run("models").out.splitlines()[-1] == (
        f"Prices in US$ per 1M tokens. Catalog: catalog.yaml shipped with llmconf; {tmp_path}/catalog.yaml over it."
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "models:\n  qwen/qwen3-coder:\n    inptu: 0.2\n",
            "catalog.yaml:3: unknown field 'inptu' in models.qwen/qwen3-coder (did you mean 'input'?)",
        ),
        (
            "models:\n  qwen/qwen3-coder:\n    ratings: {tool_use: Great}\n",
            "catalog.yaml:3: models.qwen/qwen3-coder.ratings.tool_use: 'Great' is not a rating "
            "(use one of: Poor, Fair, Good, Very Good, Excellent)",
        ),
        (
            "models:\n  qwen/qwen3-coder: {input: -1}\n",
            "catalog.yaml:2: models.qwen/qwen3-coder.input: input should be greater than or equal to 0",
        ),
        ("models:\n  acme/coder: {input: 1, output: 2}\n", "catalog.yaml:2: models.acme/coder: missing field 'name'"),
        (
            "models:\n  acme/coder:\n    name: Acme\n    successor: acme/coder-2\n",
            "catalog.yaml:4: models.acme/coder.successor: 'acme/coder-2' is not in the catalog (did you mean 'acme/coder'?)",
        ),
        (
            "models:\n  qwen/qwen3-coder:exacto: {name: Q}\n",
            "catalog.yaml:2: models.qwen/qwen3-coder:exacto: list 'qwen/qwen3-coder' and set exacto: true, not the :exacto ID",
        ),
        (
            "claude_defaults: {opus: anthropic/claude-opus-5}\n",
            "catalog.yaml:1: claude_defaults.opus: 'anthropic/claude-opus-5' is not in the catalog (did you mean 'anthropic/claude-opus-4.5'?)",
        ),
        ("modles: {}\n", "catalog.yaml:1: unknown field 'modles' (did you mean 'models'?)"),
        ("models: [\n", "catalog.yaml:2: invalid YAML: did not find expected node content (fix the syntax there)"),
        ("- qwen/qwen3-coder\n", "catalog.yaml:1: a catalog must be a mapping with 'models:' at the top"),
    ],
)
def test_a_bad_user_catalog_is_a_located_error_for_every_command_that_reads_it(tmp_path, run, text, error):
    write_tree(tmp_path, {**CONFIG, "catalog.yaml": text})
    for argv in (("models",), ("plan",), ("status",), ("cost", "anthropic")):
        result = run(*argv)
        assert (result.code, result.err) == (1, f"llmconf: {error}\n"), argv
    validate = run("validate")
    assert validate.err == f"llmconf: {error}\nllmconf: 1 problem found\n"


def test_the_shipped_catalog_loads_without_a_config_folder(tmp_path, run):
    # No worktrees.yaml anywhere up from here: the shipped catalog alone.
    result = run("models", "--json", cwd=tmp_path)
    assert result.code == 0 and len(json.loads(result.out)["models"]) == 19


PROBE = """
import sys
from llmconf import cli
code = cli.main(sys.argv[1:])
print(sorted(m for m in ('pydantic', 'ruamel.yaml') if m in sys.modules), code, file=sys.stderr)
"""


def test_a_repeat_plan_reads_the_catalog_from_the_cache(tmp_path):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: p\n",
            "profiles/p.yaml": "base_url: https://openrouter.ai/api\nmodels: {haiku: acme/c, sonnet: acme/c, opus: acme/c}\n",
            "catalog.yaml": "models:\n  acme/c: {name: C}\n",
            "a/.keep": "",
        },
    )

    def probe() -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, "-C", str(tmp_path), "plan"], capture_output=True, text=True, env=os.environ
        )
        return out.stderr.splitlines()

    assert probe() == ["['pydantic', 'ruamel.yaml'] 0"]
    assert probe() == ["[] 0"]  # config and catalog both from the cache: no YAML, no pydantic
    # An edit is seen at once: acme/c is gone, so the gateway's IDs are unknown.
    (tmp_path / "catalog.yaml").write_text("models:\n  acme/d: {name: D}\n")
    assert probe() == [
        f"llmconf: warning: {tmp_path}/profiles/p.yaml:2: LC101 models.{slot}: unknown model ID 'acme/c' (did you mean acme/d? "
        "If the ID is right, run 'llmconf models --refresh' or add it to catalog.yaml)"
        for slot in ("haiku", "sonnet", "opus")
    ] + ["['pydantic', 'ruamel.yaml'] 0"]


# --- refresh ---------------------------------------------------------------------------------------


def _entry(model_id: str, name: str, prompt: str, completion: str, context: int | None) -> dict[str, Any]:
    """One model as OpenRouter's GET /api/v1/models gives it (fields trimmed to their shapes)."""
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "hugging_face_id": "",
        "name": name,
        "created": 1753230546,
        "description": "...",
        "context_length": context,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {"context_length": context, "max_completion_tokens": 65536, "is_moderated": False},
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "tool_choice", "tools"],
    }


LISTING = {
    "data": [
        _entry("qwen/qwen3-coder", "Qwen: Qwen3 Coder 480B A35B", "0.0000002", "0.0000008", 262144),  # cheaper now
        _entry("z-ai/glm-4.7", "Z.AI: GLM 4.7", "0.0000004", "0.0000015", 202752),  # same price, exact context
        _entry("mistralai/devstral-2512", "Mistral: Devstral 2 2512", "0.00000015", "0.0000006", 256000),  # no change
        _entry("z-ai/glm-4.7-flash", "Z.AI: GLM 4.7 Flash", "0.00000007", "0.0000004", 202752),  # new
        _entry("openrouter/auto", "Auto Router", "-1", "-1", 2000000),  # no fixed price: left out
    ]
}


@pytest.fixture
def openrouter() -> Iterator[LocalServer]:
    """A stand-in for openrouter.ai on 127.0.0.1, serving a recorded-shape model list."""
    with serve(Reply.json(LISTING)) as server:
        yield server


def _paths(server: LocalServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


USER = "# ours\nmodels:\n  z-ai/glm-4.7:\n    note: the team's default sonnet   # keep this comment\n"


def test_refresh_updates_prices_context_and_ids_and_keeps_ratings(tmp_path, run, openrouter, snapshot):
    write_tree(tmp_path, {**CONFIG, "catalog.yaml": USER})
    result = run("models", "--refresh", "--from", openrouter.url)
    assert (result.code, result.err) == (0, "")
    url = f"{openrouter.url}/api/v1/models"
    lines = result.out.splitlines()
    assert lines[:4] == [
        f"Updated catalog.yaml from {url}: 4 models listed; 2 with a new price or context window, 1 added. Ratings kept.",
        "  ~ qwen/qwen3-coder: $0.22/$0.95 -> $0.20/$0.80 per 1M; context 262000 -> 262144",
        "  ~ z-ai/glm-4.7: context 202000 -> 202752",
        "Not in that list (kept as they are): anthropic/claude-haiku-4.5, anthropic/claude-opus-4, anthropic/claude-opus-4.5, "
        "anthropic/claude-sonnet-4, anthropic/claude-sonnet-4.5, deepseek/deepseek-v3.1-terminus, deepseek/deepseek-v3.2, "
        "google/gemini-2.5-pro, minimax/minimax-m2.1, moonshotai/kimi-k2, moonshotai/kimi-k2-0905, openai/gpt-5, "
        "openai/gpt-5.2-codex, openai/gpt-oss-120b, qwen/qwen3-coder-plus, z-ai/glm-4.6",
    ]
    assert _paths(openrouter) == ["GET /api/v1/models"]
    # Only what differs is written, in the user's file, its comments kept.
    assert (tmp_path / "catalog.yaml").read_text() == snapshot
    models = _models(run)
    qwen = models["qwen/qwen3-coder"]
    assert (qwen["input_per_1m"], qwen["output_per_1m"], qwen["context"]) == (0.2, 0.8, 262144)
    assert qwen["ratings"]["code_quality"] == "Very Good"  # the guide's ratings stay
    assert models["z-ai/glm-4.7"]["note"] == "the team's default sonnet"
    flash = models["z-ai/glm-4.7-flash"]
    assert (flash["name"], flash["input_per_1m"], flash["output_per_1m"]) == ("Z.AI: GLM 4.7 Flash", 0.07, 0.4)
    assert "openrouter/auto" not in models
    # A second refresh has nothing to write.
    before = snapshot_tree(tmp_path)
    again = run("models", "--refresh", "--from", openrouter.url)
    assert again.out.splitlines()[0] == f"catalog.yaml is up to date with {url} (4 models listed)."
    assert_unchanged(before, tmp_path)


def test_refresh_creates_the_user_catalog(tmp_path, run, openrouter):
    write_tree(tmp_path, CONFIG)
    assert run("models", "--refresh", "--from", openrouter.url + "/").code == 0
    text = (tmp_path / "catalog.yaml").read_text()
    assert text == (
        "# catalog.yaml: this config folder's additions to llmconf's model catalog (see 'llmconf models').\n"
        "# Entries extend or override the shipped catalog by OpenRouter ID, field by field.\n"
        "# 'llmconf models --refresh' updates prices, context windows and IDs here; ratings are kept.\n"
        "models:\n"
        "  qwen/qwen3-coder: {input: 0.2, output: 0.8, context: 262144}\n"
        "  z-ai/glm-4.7: {context: 202752}\n"
        "  z-ai/glm-4.7-flash: {name: 'Z.AI: GLM 4.7 Flash', input: 0.07, output: 0.4, context: 202752}\n"
    )


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            200,
            b"<html>rate limited</html>",
            "malformed response from {url}: not JSON (nothing changed; is that OpenRouter's API?)",
        ),
        (
            200,
            b'{"models": []}',
            "malformed response from {url}: no 'data' list of models (nothing changed; is that OpenRouter's API?)",
        ),
        (
            200,
            b'{"data": [{"name": "x"}]}',
            "malformed response from {url}: model 0 has no 'id' (nothing changed; is that OpenRouter's API?)",
        ),
        (
            200,
            b'{"data": [{"id": "a/b", "pricing": {"prompt": "-1", "completion": "-1"}}]}',
            "malformed response from {url}: no model with a price in it (nothing changed; is that OpenRouter's API?)",
        ),
        (
            500,
            b"oops",
            "cannot fetch {url}: HTTP 500 Internal Server Error (nothing changed; check the network and the URL, then run it again)",
        ),
    ],
)
def test_refresh_refuses_a_bad_response_and_changes_nothing(tmp_path, run, openrouter, status, body, error):
    write_tree(tmp_path, {**CONFIG, "catalog.yaml": USER})
    before = snapshot_tree(tmp_path)
    openrouter.answer = Reply(status, body, {"Content-Type": "application/json"})
    result = run("models", "--refresh", "--from", openrouter.url)
    url = f"{openrouter.url}/api/v1/models"
    assert (result.code, result.out, result.err) == (1, "", f"llmconf: {error.format(url=url)}\n")
    assert_unchanged(before, tmp_path)


def test_refresh_with_the_server_down_changes_nothing(tmp_path, run):
    write_tree(tmp_path, {**CONFIG, "catalog.yaml": USER})
    before = snapshot_tree(tmp_path)
    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("models", "--refresh", "--from", f"http://127.0.0.1:{port}")
    assert (result.code, result.err) == (
        1,
        f"llmconf: cannot fetch http://127.0.0.1:{port}/api/v1/models: Connection refused "
        "(nothing changed; check the network and the URL, then run it again)\n",
    )
    assert_unchanged(before, tmp_path)


def test_refresh_needs_a_config_folder_and_a_good_catalog(tmp_path, run, openrouter):
    result = run("models", "--refresh", "--from", openrouter.url, cwd=tmp_path)
    assert (result.code, result.err) == (
        1,
        "llmconf: no config folder to keep the refreshed catalog in (run it where worktrees.yaml is, or pass -C DIR)\n",
    )
    write_tree(tmp_path, {**CONFIG, "catalog.yaml": "modles: {}\n"})
    result = run("models", "--refresh", "--from", openrouter.url)
    assert result.err == "llmconf: catalog.yaml:1: unknown field 'modles' (did you mean 'models'?)\n"
    assert _paths(openrouter) == []  # stopped before any request


def test_from_goes_with_refresh(run):
    result = run("models", "--from", "http://127.0.0.1:9")
    assert (result.code, result.err) == (
        1,
        "llmconf: --from goes with --refresh (llmconf models --refresh --from URL)\n",
    )
