"""Lint: each rule with a case that warns and one that does not, located at the offending value;
--strict in plan, validate and apply; the repo's own config lints clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmconf.catalog import catalog, lint
from llmconf.config.load import Sourced
from tests.conftest import write_tree

REPO = Path(__file__).resolve().parents[1]
GATEWAY = "base_url: https://openrouter.ai/api\nauth_token: \"{{ env('GW_TOKEN', 'gw-token') }}\"\n"
LOCAL = "base_url: http://127.0.0.1:9/api\nauth_token: \"{{ env('GW_TOKEN', 'gw-token') }}\"\n"


def slots(
    haiku: str = "mistralai/devstral-2512",
    sonnet: str = "qwen/qwen3-coder:exacto",
    opus: str = "anthropic/claude-opus-4.5",
) -> str:
    """A models: block, one slot a line (line 4, 5 and 6 of a profile after GATEWAY's two lines)."""
    return f"models:\n  haiku: '{haiku}'\n  sonnet: '{sonnet}'\n  opus: '{opus}'\n"


def warnings_for(run, root: Path, profile: str, entry: str = "a: p", extra: dict[str, str] | None = None) -> list[str]:
    """What `plan` warns about for one worktree on profile `p`."""
    write_tree(
        root, {"worktrees.yaml": f"worktrees:\n  {entry}\n", "profiles/p.yaml": profile, "a/.keep": "", **(extra or {})}
    )
    result = run("plan")
    assert result.code == 0, result.err
    return result.err.splitlines()


def w(location: str, message: str) -> str:
    return f"llmconf: warning: {location}: {message}"


def at(line: int, message: str) -> list[str]:
    """A case's one warning, at `line` of profiles/p.yaml."""
    return [w(f"profiles/p.yaml:{line}", message)]


# The legacy-model warning: a rule below, and what --json and --strict carry further down.
LEGACY = (
    "LC103 models.opus: 'anthropic/claude-opus-4' is legacy Claude Opus 4 at $15.00/$75.00 per 1M; Claude Opus 4.5 costs "
    "$5.00/$25.00 (use anthropic/claude-opus-4.5: session est. $18.75 -> $6.25)"
)


# Each rule: (profile, the warnings it gives); a case that warns, then one that does not.
CASES = {
    "unknown ID, closest known": (
        GATEWAY + slots(sonnet="qwen/qwen3-codr"),
        at(
            5,
            "LC101 models.sonnet: unknown model ID 'qwen/qwen3-codr' (did you mean qwen/qwen3-coder, qwen/qwen3-coder-plus "
            "or qwen/qwen3-coder:exacto? If the ID is right, run 'llmconf models --refresh' or add it to catalog.yaml)",
        ),
    ),
    "unknown ID, the guide's": (
        GATEWAY + slots(haiku="deepseek/deepseek-r1-0528"),
        at(
            4,
            "LC101 models.haiku: unknown model ID 'deepseek/deepseek-r1-0528' (the guide's ID for DeepSeek V3.2, "
            "deepseek/deepseek-r1-0528, is DeepSeek R1 0528, a different reasoning model; use deepseek/deepseek-v3.2)",
        ),
    ),
    "unknown ID, the template's slug": (
        GATEWAY + slots(sonnet="qwen/qwen3-coder-480b-a35b"),
        at(
            5,
            "LC101 models.sonnet: unknown model ID 'qwen/qwen3-coder-480b-a35b' (the guide's template and \"Qwen3-Coder Focus\" "
            'write qwen/qwen3-coder-480b-a35b, which is not an OpenRouter ID ("model not found"); use qwen/qwen3-coder:exacto)',
        ),
    ),
    "unknown ID on a gateway the catalog does not list": (LOCAL + slots(sonnet="qwen/qwen3-codr"), []),
    "unknown subagent": (
        GATEWAY + slots() + "subagent: openai/gpt5\n",
        at(
            7,
            "LC101 subagent: unknown model ID 'openai/gpt5' (did you mean openai/gpt-5, openai/gpt-5.2-codex or "
            "openai/gpt-oss-120b? If the ID is right, run 'llmconf models --refresh' or add it to catalog.yaml)",
        ),
    ),
    "known IDs, subagent and default": (GATEWAY + slots() + "subagent: z-ai/glm-4.7\ndefault: openai/gpt-5\n", []),
    "no :exacto variant": (
        GATEWAY + slots(haiku="minimax/minimax-m2.1:exacto"),
        at(
            4,
            "LC102 models.haiku: the catalog lists no :exacto variant of 'minimax/minimax-m2.1' (use minimax/minimax-m2.1, "
            "or set exacto: true for it in catalog.yaml if OpenRouter serves one)",
        ),
    ),
    "poor fit: Gemini in sonnet": (
        GATEWAY + slots(sonnet="google/gemini-2.5-pro"),
        at(
            5,
            "LC104 models.sonnet: Gemini 2.5 Pro is a poor fit for the sonnet slot: the guide rates it agentic Poor and "
            "tool use Fair in Claude Code (map a model rated Good or better there; see 'llmconf models')",
        ),
    ),
    "poor fit: Gemini in opus": (
        GATEWAY + slots(opus="google/gemini-2.5-pro"),
        at(
            6,
            "LC104 models.opus: Gemini 2.5 Pro is a poor fit for the opus slot: the guide rates it agentic Poor in Claude Code "
            "(map a model rated Good or better there; see 'llmconf models')",
        ),
    ),
    "poor fit: DeepSeek in sonnet (tool use Fair)": (
        GATEWAY + slots(sonnet="deepseek/deepseek-v3.2"),
        at(
            5,
            "LC104 models.sonnet: DeepSeek V3.2 is a poor fit for the sonnet slot: the guide rates it tool use Fair in "
            "Claude Code (map a model rated Good or better there; see 'llmconf models')",
        ),
    ),
    # haiku takes anything; opus only minds Poor agentic work (DeepSeek's is Fair).
    "fine fits": (GATEWAY + slots(haiku="google/gemini-2.5-pro", opus="deepseek/deepseek-v3.2"), []),
    ":exacto unused in sonnet": (
        GATEWAY + slots(sonnet="qwen/qwen3-coder"),
        at(
            5,
            "LC105 models.sonnet: 'qwen/qwen3-coder' has an :exacto variant, routed to the providers with the best "
            "tool-calling accuracy (use qwen/qwen3-coder:exacto)",
        ),
    ),
    ":exacto unused in haiku": (GATEWAY + slots(haiku="qwen/qwen3-coder"), []),
    "legacy and dearer": (
        GATEWAY + slots(opus="anthropic/claude-opus-4"),
        at(6, LEGACY),
    ),
    "legacy, direct": (
        "models: {opus: claude-opus-4-20250514}\n",
        at(
            1,
            "LC103 models.opus: 'claude-opus-4-20250514' is legacy Claude Opus 4 at $15.00/$75.00 per 1M; Claude Opus 4.5 "
            "costs $5.00/$25.00 (use claude-opus-4-5-20251101: session est. $18.75 -> $6.25)",
        ),
    ),
    "legacy, same price as its successor": (GATEWAY + slots(opus="anthropic/claude-sonnet-4"), []),
    "slots unset": (
        GATEWAY + "models: {sonnet: 'qwen/qwen3-coder:exacto'}\n",
        at(
            3,
            "LC201 models.haiku and models.opus are not set for a gateway: Claude Code would ask it for its own Claude "
            "model names, which the gateway may not serve (set every slot of a gateway profile)",
        ),
    ),
    "no slot set": (
        GATEWAY,
        at(
            1,
            "LC201 models.haiku, sonnet and opus are not set for a gateway: Claude Code would ask it for its own Claude "
            "model names, which the gateway may not serve (set every slot of a gateway profile)",
        ),
    ),
    "slots unset on a gateway the catalog does not list": (LOCAL, []),
    "a key header as well as the token": (
        GATEWAY + slots() + "env:\n  ANTHROPIC_CUSTOM_HEADERS: \"X-Title: me\\nx-api-key: {{ env('K', 'k') }}\"\n",
        at(
            8,
            "LC204 env.ANTHROPIC_CUSTOM_HEADERS sends x-api-key as well as auth_token: the gateway gets two credentials "
            "(keep the gateway's key in auth_token only)",
        ),
    ),
    "other headers": (GATEWAY + slots() + "env:\n  ANTHROPIC_CUSTOM_HEADERS: 'X-Title: me'\n", []),
    "deprecated small fast model": (
        GATEWAY + slots() + "env:\n  ANTHROPIC_SMALL_FAST_MODEL: mistralai/devstral-2512\n",
        at(
            8,
            "LC302 env.ANTHROPIC_SMALL_FAST_MODEL is deprecated (set models.haiku instead, which writes ANTHROPIC_DEFAULT_HAIKU_MODEL)",
        ),
    ),
    "a clean gateway profile": (GATEWAY + slots(), []),
}


@pytest.mark.parametrize("case", CASES)
def test_rule(tmp_path, run, case):
    profile, expected = CASES[case]
    assert warnings_for(run, tmp_path, profile) == expected


def test_a_warning_points_at_the_worktree_override_that_causes_it(tmp_path, run):
    entry = "a:\n    profile: p\n    models: {sonnet: google/gemini-2.5-pro}"
    found = warnings_for(run, tmp_path, GATEWAY + slots(), entry)
    assert [line.split(": ", 3)[2] for line in found] == ["worktrees.yaml:4"]


def test_worktrees_sharing_a_profile_warn_once(tmp_path, run):
    write_tree(tmp_path, {"b/.keep": ""})
    found = warnings_for(run, tmp_path, GATEWAY + slots(sonnet="qwen/qwen3-coder"), "a: p\n  b: p")
    assert len(found) == 1


def test_a_user_catalog_entry_makes_an_id_known(tmp_path, run):
    catalog_yaml = {"catalog.yaml": "models:\n  qwen/qwen3-codr: {name: Our fork}\n"}
    assert warnings_for(run, tmp_path, GATEWAY + slots(sonnet="qwen/qwen3-codr"), extra=catalog_yaml) == []


def test_a_model_from_a_secret_is_never_checked_nor_shown(tmp_path, run, monkeypatch):
    monkeypatch.setenv("LLMCONF_SECRET_M", "google/gemini-2.5-pro")
    profile = GATEWAY + "models: {haiku: z-ai/glm-4.7, sonnet: \"{{ secret('m') }}\", opus: z-ai/glm-4.7}\n"
    assert warnings_for(run, tmp_path, profile) == []


def test_a_rendered_api_key_for_a_gateway_is_flagged():
    # No profile can render this: env.ANTHROPIC_API_KEY is refused when the profile loads (see below)
    # and auth_token writes it as "". The rule guards the renderer, so it is tested on the keys.
    known = catalog.load(None)
    src = Sourced("https://openrouter.ai/api", Path("profiles/p.yaml"), ("base_url",))
    keys = {("env", "ANTHROPIC_BASE_URL"): "https://openrouter.ai/api", ("env", "ANTHROPIC_AUTH_TOKEN"): "t"}
    fields: dict[tuple[str, ...], Sourced] = {("base_url",): src}
    found = [(e.code, e.message) for e in lint.worktree(fields, {**keys, ("env", "ANTHROPIC_API_KEY"): "sk-ant"}, known)]
    assert found[-1] == (
        "LC203",
        "ANTHROPIC_API_KEY is not empty for a gateway as well as a token: Claude Code prefers it and sends it as x-api-key"
    )
    assert not [
        e for e in lint.worktree(fields, {**keys, ("env", "ANTHROPIC_API_KEY"): ""}, known) if "API_KEY" in e.message
    ]


def test_env_cannot_set_the_api_key(tmp_path, run):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees: {a: p}\n",
            "profiles/p.yaml": GATEWAY + "env: {ANTHROPIC_API_KEY: sk}\n",
            "a/.keep": "",
        },
    )
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        "llmconf: profiles/p.yaml:3: env.ANTHROPIC_API_KEY: set ANTHROPIC_API_KEY with the 'auth_token' field, not env\n",
    )


# --- plan --json, --strict ----------------------------------------------------------------------------


@pytest.fixture
def warned(tmp_path):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees: {a: p}\n",
            "profiles/p.yaml": GATEWAY + slots(opus="anthropic/claude-opus-4"),
            "a/.keep": "",
        },
    )
    return tmp_path


def test_plan_json_carries_the_warnings(warned, run):
    result = run("plan", "--json")
    assert result.err == f"llmconf: warning: profiles/p.yaml:6: {LEGACY}\n"
    assert json.loads(result.out)["warnings"] == [
        {
            "severity": "warning",
            "code": "LC103",
            "file": str(warned / "profiles/p.yaml"),
            "line": 6,
            "message": LEGACY.split(" (use")[0].removeprefix("LC103 "),
            "hint": "use anthropic/claude-opus-4.5: session est. $18.75 -> $6.25",
        }
    ]


def test_strict_plan_makes_warnings_errors(warned, run):
    result = run("plan", "--strict")
    assert (result.code, result.err) == (1, f"llmconf: profiles/p.yaml:6: {LEGACY}\n")
    plain = run("plan")
    assert (plain.code, result.out) == (0, plain.out)  # the plan is still shown, as without --strict
    assert result.out.splitlines()[-1] == "Plan: 12 to add, 0 to change, 0 to remove (in 1 file)."  # 3 slots, each labelled


def test_strict_validate(warned, run):
    assert run("validate").code == 0
    result = run("validate", "--strict")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        f"llmconf: profiles/p.yaml:6: {LEGACY}\nllmconf: 1 problem found\n",
    )


def test_strict_apply_refuses_and_writes_nothing(warned, run):
    settings = warned / "a/.claude/settings.local.json"
    result = run("apply", "--yes", "--strict")
    assert result.code == 1
    assert result.out == run("plan").out  # shown, with its warnings, then refused: no "Apply complete"
    assert result.err == (
        f"llmconf: profiles/p.yaml:6: {LEGACY}\n"
        "llmconf: --strict: 1 lint warning; nothing written (fix them, or accept each at its line with '# noqa: CODE reason')\n"
    )
    assert not settings.exists()
    assert run("plan", "--out", "p.plan").code == 0
    assert run("apply", "p.plan", "--strict").code == 1  # a saved plan is linted too
    assert not settings.exists()
    assert run("apply", "--yes").code == 0  # warnings do not block apply without --strict
    assert settings.exists()


def test_strict_apply_when_clean(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: {a: p}\n", "profiles/p.yaml": GATEWAY + slots(), "a/.keep": ""})
    assert run("apply", "--yes", "--strict").code == 0


# --- the repo's own config ------------------------------------------------------------------------------


def test_the_example_config_lints_clean(run):
    result = run("-C", str(REPO), "validate", "--strict")
    assert (result.code, result.err) == (0, "")
    plan = run("-C", str(REPO), "plan", "--strict")
    assert (plan.code, plan.err) == (0, "")


def test_the_shipped_profiles_pass_validate_strict(tmp_path, run):
    """Issue 13, trap 9: a team can put the pre-commit gate on any shipped profile. The two
    warnings they would give are accepted at their lines, each with its reason."""
    from llmconf.config.load import shipped_profiles_dir

    names = sorted(p.stem for p in shipped_profiles_dir().glob("*.yaml"))
    assert "deepseek" in names and "openrouter-base" in names
    worktrees = "".join(f"  {n}: {n}\n" for n in names)
    write_tree(tmp_path, {"worktrees.yaml": f"worktrees:\n{worktrees}", **{f"{n}/.keep": "" for n in names}})
    result = run("validate", "--strict")
    assert (result.code, result.out) == (0, f"Valid: {len(names)} profiles, {len(names)} worktrees.\n"), result.err
    assert result.err.splitlines() == [
        "llmconf: warning: secret 'openrouter' is not set on this machine (run 'llmconf secret set openrouter', or export LLMCONF_SECRET_OPENROUTER)",
    ]
    # switch-deepseek.sh puts DeepSeek V3.2 in every slot, though the guide rates its tool use Fair.
    deepseek = (shipped_profiles_dir() / "deepseek.yaml").read_text().splitlines()
    assert deepseek[7] == "  sonnet: deepseek/deepseek-v3.2  # noqa: LC104 the guide's switch-deepseek.sh: DeepSeek in every slot, by choice"


def test_a_base_url_ending_in_v1_is_reported_at_its_line(tmp_path, run):
    """The trap other switchers' trackers know: OpenRouter's /api/v1 plus Claude Code's /v1/messages."""
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  a: gw\n",
            "profiles/gw.yaml": "# OpenRouter\nbase_url: https://openrouter.ai/api/v1/\nmodels: {haiku: z-ai/glm-4.7, sonnet: z-ai/glm-4.7, opus: z-ai/glm-4.7}\n",
            "a/.keep": "",
        },
    )
    result = run("validate")
    assert result.code == 0
    assert result.err.splitlines() == [
        "llmconf: warning: profiles/gw.yaml:2: LC202 base_url ends in /v1: Claude Code appends /v1/messages, so requests "
        'go to https://openrouter.ai/api/v1/v1/messages and the gateway\'s 404 reads like "model not found" '
        "(use https://openrouter.ai/api)"
    ]
    assert run("validate", "--strict").code == 1


# --- codes, noqa and strict: true (issue 13, trap 9) ------------------------------------------


def test_every_rule_has_a_stable_code_listed_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for code, what in lint.RULES.items():
        assert f"| `{code}` | {what} |" in readme, code
    source = (REPO / "llmconf/catalog/lint.py").read_text()
    assert sorted(set(re.findall(r'code="(LC\d{3})"', source))) == sorted(lint.RULES)  # each used, each listed


@pytest.mark.parametrize(
    ("comment", "accepted"),
    [
        ("  # noqa: LC103 the team pays for Opus 4 until March", True),
        ("  # noqa: LC105, LC103 - pinned by the vendor contract", True),
        ("  #noqa:LC103 kept", True),
        ("  # noqa: LC103", False),  # no reason: accepts nothing, and says so
        ("  # noqa: LC101 wrong code", False),
        ("  # a plain comment", False),
    ],
)
def test_a_warning_is_accepted_at_its_line_with_a_reason(tmp_path, run, comment, accepted):
    profile = GATEWAY + slots(opus="anthropic/claude-opus-4").replace("claude-opus-4'", "claude-opus-4'" + comment)
    lines = warnings_for(run, tmp_path, profile)
    if accepted:
        assert lines == []
        assert run("validate", "--strict").code == 0
        assert run("apply", "--yes", "--strict").code == 0
        return
    hint = "use anthropic/claude-opus-4.5: session est. $18.75 -> $6.25"
    if comment.strip() == "# noqa: LC103":
        hint += "; '# noqa: LC103' accepts it only with a reason after the code"
    assert lines == at(6, LEGACY.split(" (use")[0] + f" ({hint})")


def test_a_noqa_in_worktrees_yaml_accepts_the_warning_of_an_override_there(tmp_path, run):
    entry = "a:\n    profile: p\n    models: {opus: anthropic/claude-opus-4}  # noqa: LC103 this worktree benchmarks Opus 4\n"
    assert warnings_for(run, tmp_path, GATEWAY + slots(), entry=entry) == []
    entry = entry.replace("  # noqa: LC103 this worktree benchmarks Opus 4", "")
    assert warnings_for(run, tmp_path, GATEWAY + slots(), entry=entry) == [
        w("worktrees.yaml:4", LEGACY.replace("models.opus", "models.opus", 1))
    ]


def test_strict_true_in_worktrees_yaml_makes_warnings_errors_for_every_command(warned, run, monkeypatch):
    from tests.helpers import snapshot_tree

    (warned / "worktrees.yaml").write_text("strict: true\nworktrees: {a: p}\n")
    before = snapshot_tree(warned)
    error = f"llmconf: profiles/p.yaml:6: {LEGACY}\n"
    refused = (
        "llmconf: strict: true in worktrees.yaml: 1 lint warning; nothing written "
        "(fix them, or accept each at its line with '# noqa: CODE reason')\n"
    )
    plan = run("plan")
    assert (plan.code, plan.err) == (1, error)
    applied = run("apply", "--yes")
    assert (applied.code, applied.err) == (1, error + refused)
    used = run("use", "p", "a", "--apply", "--yes")
    assert used.code == 1 and used.err.endswith(refused), used.err
    validated = run("validate")
    assert (validated.code, validated.err) == (1, error + "llmconf: 1 problem found\n")
    assert snapshot_tree(warned) == before  # nothing written, not even by the cached second run
    # Accepted at its line, the warning is no error either.
    profile = warned / "profiles/p.yaml"
    profile.write_text(profile.read_text().replace("claude-opus-4'", "claude-opus-4'  # noqa: LC103 until March"))
    assert run("apply", "--yes").code == 0


def test_a_profile_that_extends_the_base_and_sets_no_slot_is_warned_at_its_extends(tmp_path, run, monkeypatch):
    """openrouter-base accepts LC201 for itself (a base to extend); a profile that extends it and
    sets no slot is still warned, at its own `extends:` line, where its own noqa would go."""
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "sk-or-v1-" + "0" * 64)
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: mine\n", "profiles/mine.yaml": "description: x\nextends: openrouter-base\n", "a/.keep": ""})
    result = run("validate", "--strict")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "llmconf: profiles/mine.yaml:2: LC201 models.haiku, sonnet and opus are not set for a gateway: Claude Code would ask it "
        "for its own Claude model names, which the gateway may not serve (set every slot of a gateway profile)"
    )
