"""What doctor says of an agent other than Claude Code in one worktree: its project file and
key file as the plan finds them, and what would make the agent use something else."""

from __future__ import annotations

from collections.abc import Mapping

from llmconf.errors import LlmconfError
from llmconf.plan.model import Plan, WorktreePlan

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def diagnose(plan: Plan, wp: WorktreePlan, shell: Mapping[str, str]) -> list[LlmconfError]:
    """The findings for one agent's project file (`wp`, role "agent"): the plan's errors, what
    is not applied yet (its key file too), and what beats the file when the agent starts."""
    from llmconf.targets.base import agent_target

    key = key_plan(plan, wp)
    findings: list[LlmconfError] = []
    for found in (wp, key):
        if found is None:
            continue
        if found.error is not None:
            findings.append(LlmconfError(found.error.message, found.error.path, hint=found.error.hint, severity="error"))
        elif found.changes:
            findings.append(
                LlmconfError("not applied yet: the file differs from the profile", found.settings, hint="run 'llmconf apply'", severity="warning")
            )
    if wp.error is None and not wp.folder_missing:
        agent = agent_target(wp.agent)
        beaten = agent.effective(wp.worktree, shell)
        if beaten is not None:
            findings.append(
                LlmconfError(f"{agent.command} started here would not use what llmconf declares: {beaten}", wp.settings, severity="warning")
            )
    return findings


def key_plan(plan: Plan, wp: WorktreePlan) -> WorktreePlan | None:
    """The plan of the key file beside an agent's project file (`wp`), if it has one."""
    return next((k for k in plan.worktrees if k.role == "agent-key" and k.worktree == wp.worktree and k.agent == wp.agent), None)


def shown(wp: WorktreePlan, key: WorktreePlan | None) -> tuple[Any, Any, Any]:
    """What an agent's project file (`wp`) and its key file (`key`) declare, as status and
    doctor show it: backend, main and small model, a secret's value masked."""
    from llmconf.render import is_sensitive
    from llmconf.secrets.mask import SENSITIVE, scrub_value
    from llmconf.targets.base import agent_target

    both = {**(key.desired if key is not None else {}), **wp.desired}  # an agent may keep its URL in its key file
    return agent_target(wp.agent).shown({k: SENSITIVE if is_sensitive(v) else scrub_value(v) for k, v in both.items()})
