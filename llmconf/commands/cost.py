"""llmconf cost: what a session costs per profile (or model), and against a baseline."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from llmconf.catalog import catalog

from llmconf.catalog import cost

from llmconf.targets.claude_code import settings as target
from llmconf.commands.models import config_dir
from llmconf.errors import LlmconfError
from llmconf.config.load import Profiles, Sourced, shipped_profiles_dir
from llmconf.console import Ui


@dataclass(frozen=True)
class Estimate:
    """One row: a profile's slot (or a bare model) and what a session on it costs."""

    profile: str | None
    slot: str | None
    model_id: str | None  # as the profile writes it; None: Claude Code's own model for the slot
    model: catalog.Model | None
    session: Decimal | None

    @property
    def shown(self) -> str:
        if self.model_id is None:
            return f"{self.model.id if self.model else '?'} (Claude default)"
        return self.model_id


def run(args: argparse.Namespace, ui: Ui) -> int:
    folder = config_dir(args, ui)
    profiles = _profiles(folder)
    known = catalog.load(folder)
    usage = cost.Usage(args.input_tokens, args.output_tokens, args.calls)
    names = args.names or profiles.names()
    rows = [_estimate(name, profiles, known, args.slot, usage) for name in names]
    baseline = args.baseline or cost.BASELINE
    base = _estimate(baseline, profiles, known, args.slot, usage)
    if base.session is None:
        raise LlmconfError(f"no price for the baseline {base.shown}", hint="pick a priced model; see 'llmconf models'")
    ui.out(_json(rows, base, usage) if args.json else _table(rows, base, usage, baseline))
    return 0


def _profiles(folder: Path | None) -> Profiles:
    if folder is None:
        return Profiles((shipped_profiles_dir(),))
    from llmconf.session import open_session

    return open_session(folder).profiles


def _estimate(name: str, profiles: Profiles, known: catalog.Catalog, slot: str | None, usage: cost.Usage) -> Estimate:
    """A profile's estimate (the slot asked for, else the one a session starts on), or a model's."""
    path = profiles.path(name)
    if path is None:
        model = known.find(name)
        if model is None:
            from llmconf.errors import did_you_mean

            choices = [*profiles.names(), *known.models]
            raise LlmconfError(
                f"'{name}' is neither a profile nor a model in the catalog",
                hint=did_you_mean(name, choices) or "see 'llmconf models' and the profiles/ folders",
            )
        return Estimate(None, None, name, model, cost.session(model, usage))
    fields = profiles.resolve(name, Sourced(name, path, ()))
    model_id: str | None = None
    if slot is None:
        chosen = fields.get(("default",))
        default = chosen.value if chosen is not None else None
        if default is not None and default not in target.SLOTS:
            model_id, slot = str(default), "default"  # a full model ID as the default
        else:
            slot = default or target.DEFAULT_SLOT
    if model_id is None:
        src = fields.get(("models", slot))
        model_id = str(src.value) if src is not None else None
    if model_id is None:
        model = known.claude_default(slot)
    elif "{{" in model_id or "{%" in model_id:
        model = None  # rendered per worktree: no price without one
    else:
        model = known.find(model_id)
    return Estimate(name, slot, model_id, model, cost.session(model, usage))


def _table(rows: list[Estimate], base: Estimate, usage: cost.Usage, base_name: str) -> str:
    columns = ("PROFILE", "SLOT", "MODEL", "IN/OUT PER 1M", "SESSION", "VS BASELINE")
    cells = [
        (
            r.profile or "-",
            r.slot or "-",
            r.shown,
            cost.prices(r.model),
            cost.money(r.session),
            cost.saving(r.session, base.session),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [columns, *cells]) for i in range(len(columns))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(columns))).rstrip() for c in [columns, *cells]]
    described = base_name if base.profile is None else f"profile {base_name}, {base.slot} slot on {base.shown}"
    lines += [
        "",
        f"Session: {usage.describe()}. Baseline: {described}, {cost.money(base.session)} a session.",
    ]
    return "\n".join(lines) + "\n"


def _json(rows: list[Estimate], base: Estimate, usage: cost.Usage) -> str:
    def entry(r: Estimate) -> dict[str, Any]:
        pct = None
        if r.session is not None and base.session:
            pct = float(((base.session - r.session) / base.session * 100).quantize(Decimal("0.01")))
        return {
            "profile": r.profile,
            "slot": r.slot,
            "model": r.model_id,
            "priced_as": r.model.id if r.model else None,
            "per_1m": cost.price_json(r.model),
            "session_usd": cost.usd(r.session),
            "saving_pct": pct,
        }

    doc = {
        "format_version": "1",
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "calls": usage.calls},
        "baseline": entry(base),
        "estimates": [entry(r) for r in rows],
    }
    return json.dumps(doc, indent=2) + "\n"
