"""view.plan_json and view.plan_text: always valid, counts that add up, never a secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from llmconf.errors import LlmconfError
from llmconf.plan import model as plan
from llmconf.plan.model import Action, FileAction, Plan, WorktreePlan
from llmconf.render import Sensitive
from llmconf.targets.claude_code import settings as target
from llmconf.views import plan as view

SECRET = 'sk-secret-"quoted"-\\-ünï-{{x}}'
TOKEN = ("env", target.AUTH_TOKEN)
BASE_URL = ("env", target.BASE_URL)
MODEL = ("model",)


def _worktree(name: str, desired: dict[tuple[str, ...], str], current: dict[str, Any] | None) -> WorktreePlan:
    changes, action = plan.diff(desired, current, owned={}, fingerprint=lambda v: "x", created=False)
    root = Path("/work") / name
    return WorktreePlan(
        name=name,
        worktree=root,
        settings=target.settings_path(root),
        profile="openrouter",
        changes=changes,
        file_action=action,
        desired=desired,
    )


def _secret_plan() -> Plan:
    """A new file with a secret, a change of secret, a removal of one, and a broken worktree."""
    new = _worktree("new", {BASE_URL: "https://openrouter.ai/api", TOKEN: Sensitive(SECRET)}, None)
    rotated = _worktree(
        "rotated",
        {BASE_URL: "https://openrouter.ai/api", TOKEN: Sensitive(SECRET + "-2"), MODEL: "opus"},
        {"env": {target.BASE_URL: "https://openrouter.ai/api", target.AUTH_TOKEN: SECRET}, "model": "sonnet"},
    )
    direct = _worktree("direct", {}, {"env": {target.AUTH_TOKEN: SECRET, target.API_KEY: SECRET + "-key"}})
    broken = WorktreePlan(
        name="broken",
        worktree=Path("/work/broken"),
        settings=target.settings_path(Path("/work/broken")),
        profile="openrouter",
        error=LlmconfError("no such folder", path="/work/broken", hint="create it or drop it from worktrees.yaml"),
    )
    return Plan((new, rotated, direct, broken))


def test_plan_json_is_versioned_and_counts_add_up():
    doc = json.loads(view.plan_json(_secret_plan()))
    assert doc["format_version"] == "1"
    assert doc["summary"] == {"add": 2, "change": 2, "remove": 2, "files": 3, "errors": 1}
    assert [w["action"] for w in doc["worktrees"]] == ["create", "update", "update", "error"]
    assert doc["worktrees"][3]["error"] == "/work/broken: no such folder (create it or drop it from worktrees.yaml)"


def test_plan_json_shows_sensitive_values_as_null():
    doc = json.loads(view.plan_json(_secret_plan()))
    rotated = {c["key"]: c for c in doc["worktrees"][1]["changes"]}
    assert rotated["env.ANTHROPIC_AUTH_TOKEN"] == {
        "key": "env.ANTHROPIC_AUTH_TOKEN",
        "action": "change",
        "before": None,
        "after": None,
        "sensitive": True,
        "drift": False,
    }
    assert rotated["model"]["before"] == "sonnet"
    assert rotated["model"]["after"] == "opus"


def test_no_secret_in_json_or_text():
    p = _secret_plan()
    for rendered in (view.plan_json(p), view.plan_text(p), view.plan_text(p, color=True)):
        assert "sk-secret" not in rendered
        assert SECRET not in rendered
        assert json.dumps(SECRET)[1:-1] not in rendered  # nor escaped, as JSON would write it


def test_plan_text_marks_the_secret_sensitive():
    lines = view.plan_text(_secret_plan(), base=Path("/work")).splitlines()
    assert "  ~ env.ANTHROPIC_AUTH_TOKEN = (sensitive) -> (sensitive)" in lines
    # The plan holds a worktree that could not be planned: the summary says so.
    assert lines[-1] == "Plan: 2 to add, 2 to change, 2 to remove (in 3 files); 1 worktree could not be planned (errors below)."


def test_empty_plan():
    doc = json.loads(view.plan_json(Plan(())))
    assert doc == {
        "format_version": "1",
        "summary": {"add": 0, "change": 0, "remove": 0, "files": 0, "errors": 0},
        "worktrees": [],
    }
    assert view.plan_text(Plan(())) == "No changes.\n"


# --- properties -----------------------------------------------------------------------

_SECRETS = st.text(min_size=1, max_size=20).map(lambda s: "sk-secret-" + s)
_VALUES = st.text(max_size=12).filter(lambda v: "sk-secret" not in v)
_ENV_VALUES = st.dictionaries(
    st.sampled_from([*target.BACKEND_VARS, "BASH_DEFAULT_TIMEOUT_MS"]).filter(lambda v: v != target.AUTH_TOKEN),
    _VALUES,
    max_size=4,
)


@st.composite
def _plans(draw) -> tuple[Plan, list[str]]:
    """A plan over a few worktrees, each with a secret token wanted, on disk, or both."""
    worktrees, secrets = [], []
    for i in range(draw(st.integers(0, 4))):
        secret, old = draw(_SECRETS), draw(_SECRETS)
        secrets += [secret, old]
        desired: dict[tuple[str, ...], str] = {("env", k): v for k, v in draw(_ENV_VALUES).items()}
        if draw(st.booleans()):
            desired[TOKEN] = Sensitive(secret)
        if draw(st.booleans()):
            desired[MODEL] = draw(_VALUES)
        current: dict[str, Any] | None = None
        if draw(st.booleans()):
            env = draw(_ENV_VALUES)
            if draw(st.booleans()):
                env[target.AUTH_TOKEN] = old
            current = {"env": env, "model": draw(_VALUES)}
        worktrees.append(_worktree(f"w{i}", desired, current))
    return Plan(tuple(worktrees)), secrets


@settings(max_examples=200, deadline=None)
@given(_plans())
def test_plan_json_parses_adds_up_and_hides_secrets(case):
    p, secrets = case
    rendered = view.plan_json(p)
    doc = json.loads(rendered)
    assert doc["format_version"] == "1"
    changes = [c for w in doc["worktrees"] if w["action"] != "none" for c in w["changes"]]
    for action in ("add", "change", "remove"):
        assert doc["summary"][action] == sum(1 for c in changes if c["action"] == action)
        assert doc["summary"][action] == p.count(Action[action.upper()])
    assert doc["summary"]["files"] == sum(1 for w in p.worktrees if w.file_action is not FileAction.NONE)
    text = view.plan_text(p)
    for secret in secrets:
        assert secret not in rendered
        assert json.dumps(secret, ensure_ascii=False)[1:-1] not in rendered
        assert secret not in text
