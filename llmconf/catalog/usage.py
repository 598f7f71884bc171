"""What each worktree really spent: the transcripts' sums attributed to declared worktrees by
folder, grouped, priced from the catalog, and re-priced as if another profile had run them.

Pure functions of values: the command reads the transcripts, the config and the plan.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from llmconf.catalog.cost import Tokens, tokens_cost

if TYPE_CHECKING:
    from llmconf.catalog.catalog import Catalog, Model
    from llmconf.targets.claude_code.transcripts import RowKey

BY = ("worktree", "model", "day", "session")
#: Where a session ran outside every declared worktree.
UNDECLARED = "(not declared)"
#: What Claude Code writes as the model of a message it made itself (an API error shown as a reply).
SYNTHETIC = "<synthetic>"


class Worktree(NamedTuple):
    """A declared worktree: its name, and the folders that are it (as declared, and resolved)."""

    name: str
    paths: tuple[str, ...]


def locate(worktrees: Sequence[Worktree]) -> dict[str, str]:
    """A lookup table: each folder of each worktree, to the worktree's name."""
    return {p: w.name for w in worktrees for p in w.paths}


def worktree_of(cwd: str, folders: Mapping[str, str], memo: dict[str, str | None]) -> str | None:
    """The innermost declared worktree holding `cwd` (its subfolders and Claude Code's own
    .claude/worktrees/ inside it too), or None."""
    if cwd in memo:
        return memo[cwd]
    found = None
    path = cwd.rstrip(os.sep) or os.sep
    while True:
        if path in folders:
            found = folders[path]
            break
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    memo[cwd] = found
    return found


class Priced(NamedTuple):
    """A sum of tokens and its cost: `cost` is what the priced part costs, `unpriced` the
    models (or, for a what-if, the models without a slot) whose tokens it leaves out."""

    tokens: Tokens
    cost: Decimal | None
    unpriced: tuple[str, ...]


class Line(NamedTuple):
    """One row of the report."""

    key: str
    sessions: int
    messages: int
    priced: Priced
    what_if: dict[str, Priced]
    worktrees: tuple[str, ...]  # where its sessions ran
    models: tuple[str, ...]
    days: tuple[str, str]  # first and last


class Misrouted(NamedTuple):
    """Sessions of a worktree on models its profile maps to no slot."""

    worktree: str
    models: tuple[str, ...]
    sessions: int


class Report(NamedTuple):
    by: str
    lines: list[Line]
    total: Line
    misrouted: list[Misrouted]


#: Per worktree: its slot -> the model IDs that slot sends (the profile's, else Claude Code's own).
SlotModels = Mapping[str, Mapping[str, Collection[str]]]


def same_model(answered: str, declared: str, catalog: Catalog) -> bool:
    """Whether the model a gateway answered with is the one a slot asked for: the same ID, the
    ID without its routing suffix, with a date appended, or the catalog's same entry."""
    if answered == declared or answered.startswith(declared + "-"):
        return True
    from llmconf.catalog.catalog import split_suffix

    base = split_suffix(declared)[0]
    if answered == base or answered.startswith(base + "-"):
        return True
    found = catalog.find(answered)
    return found is not None and found is catalog.find(declared)


def slot_of(model: str, slots: Mapping[str, Collection[str]], catalog: Catalog) -> str | None:
    """The slot that sent `model`, or None when no slot maps it."""
    for slot, declared in slots.items():
        if any(same_model(model, d, catalog) for d in declared):
            return slot
    return None


def report(
    rows: Mapping[RowKey, Sequence[int]],
    worktrees: Sequence[Worktree],
    by: str,
    catalog: Catalog,
    slot_models: SlotModels,
    default_slots: Mapping[str, Collection[str]],
    what_if: Mapping[str, Mapping[str, tuple[str, Model | None]]] | None = None,
    only: Collection[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    gateways: Collection[str] = (),
) -> Report:
    """The rows (transcripts' sums per folder, session, model and day) grouped `by`, priced.
    `only`: the worktrees to report (None: every folder, undeclared ones as UNDECLARED).
    `what_if`: per profile, its model per slot (as shown, and its catalog entry); `slot_models` maps each worktree's models back
    to its slots (`default_slots` for folders no worktree declares). `gateways`: the worktrees
    whose profile maps some slot, the ones a session on an unmapped model is misrouted in."""
    folders = locate(worktrees)
    memo: dict[str, str | None] = {}
    what_if = what_if or {}
    # (group, worktree, model) -> tokens; sessions, messages and days per group
    sums: dict[tuple[str, str, str], Tokens] = {}
    sessions: dict[str, set[str]] = {}
    messages: dict[str, int] = {}
    days: dict[str, list[str]] = {}
    session_models: dict[tuple[str, str], set[str]] = {}  # (worktree, session) -> models
    for (cwd, session, model, day), counts in rows.items():
        if (since and day < since) or (until and day > until):
            continue
        wt = worktree_of(cwd, folders, memo) or UNDECLARED
        if only is not None and wt not in only:
            continue
        group = {"worktree": wt, "model": model or "(none)", "day": day, "session": session}[by]
        key = (group, wt, model)
        tokens = Tokens(*counts[:5])
        sums[key] = sums[key] + tokens if key in sums else tokens
        sessions.setdefault(group, set()).add(session)
        messages[group] = messages.get(group, 0) + counts[5]
        span = days.setdefault(group, [day, day])
        span[0], span[1] = min(span[0], day), max(span[1], day)
        if model and model != SYNTHETIC:
            session_models.setdefault((wt, session), set()).add(model)
    groups: dict[str, list[tuple[str, str, Tokens]]] = {}
    for (group, wt, model), tokens in sums.items():
        groups.setdefault(group, []).append((wt, model, tokens))
    lines = [
        _line(g, parts, len(sessions[g]), messages[g], tuple(days[g]), catalog, slot_models, default_slots, what_if)  # type: ignore[arg-type]
        for g, parts in sorted(groups.items())
    ]
    every = [p for parts in groups.values() for p in parts]
    all_sessions = len(set().union(*sessions.values())) if sessions else 0
    first_last = (min((d[0] for d in days.values()), default=""), max((d[1] for d in days.values()), default=""))
    total = _line("total", every, all_sessions, sum(messages.values()), first_last, catalog, slot_models, default_slots, what_if)
    return Report(by, lines, total, _misrouted(session_models, slot_models, gateways, catalog))


def _line(
    key: str,
    parts: Sequence[tuple[str, str, Tokens]],
    sessions: int,
    messages: int,
    days: tuple[str, str],
    catalog: Catalog,
    slot_models: SlotModels,
    default_slots: Mapping[str, Collection[str]],
    what_if: Mapping[str, Mapping[str, tuple[str, Model | None]]],
) -> Line:
    tokens = sum((t for _, _, t in parts), Tokens())
    cost, unpriced = _priced((catalog.find(m) if m else None, m, t) for _, m, t in parts)
    ifs = {}
    for profile, models in what_if.items():
        chosen: list[tuple[Model | None, str, Tokens]] = []
        for wt, model, t in parts:
            slot = slot_of(model, slot_models.get(wt, default_slots), catalog) if model else None
            if slot is None:  # no slot to re-price it by: left out, named
                chosen.append((None, model or "(none)", t))
            else:
                shown, priced_as = models.get(slot, (f"{slot} (unset)", None))
                chosen.append((priced_as, shown, t))
        ifs[profile] = Priced(tokens, *_priced(chosen))
    return Line(
        key, sessions, messages, Priced(tokens, cost, unpriced), ifs,
        tuple(sorted({wt for wt, _, _ in parts})), tuple(sorted({m for _, m, _ in parts if m})), days,
    )


def _priced(parts: Iterable[tuple[Model | None, str, Tokens]]) -> tuple[Decimal | None, tuple[str, ...]]:
    """The cost of (model, name, tokens) parts, and the names of those without a price (a part
    with no token is free whatever its model); None when no part has a price."""
    cost: Decimal | None = None
    unpriced = set()
    for model, name, tokens in parts:
        amount = tokens_cost(model, tokens)
        if amount is None:
            if tokens.total:
                unpriced.add(name or "(none)")
            continue
        cost = amount if cost is None else cost + amount
    if cost is None and not unpriced:
        cost = Decimal(0)  # no tokens at all
    return cost, tuple(sorted(unpriced))


def _misrouted(
    session_models: Mapping[tuple[str, str], set[str]], slot_models: SlotModels, gateways: Collection[str], catalog: Catalog
) -> list[Misrouted]:
    found: dict[tuple[str, tuple[str, ...]], int] = {}
    for (wt, _session), models in session_models.items():
        slots = slot_models.get(wt)
        if wt not in gateways or slots is None:
            continue
        if not any(slot_of(m, slots, catalog) for m in models):
            key = (wt, tuple(sorted(models)))
            found[key] = found.get(key, 0) + 1
    return [Misrouted(wt, models, n) for (wt, models), n in sorted(found.items())]
