"""`llmconf cost`: the estimates as a table or JSON. Pure functions of values."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from llmconf.catalog import cost
from llmconf.catalog.cost import Estimate
from llmconf.secrets.mask import scrub_value
from llmconf.views.json import document
from llmconf.views.table import table

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any


def cost_text(rows: Sequence[Estimate], base: Estimate, usage: cost.Usage, base_name: str) -> str:
    """A row per estimate, against the baseline (`base_name` as the user named it)."""
    headers = {"profile": "PROFILE", "slot": "SLOT", "model": "MODEL", "prices": "IN/OUT PER 1M", "session": "SESSION", "saving": "VS BASELINE"}
    cells = [
        {
            "profile": r.profile or "-",
            "slot": r.slot or "-",
            "model": r.shown,
            "prices": cost.prices(r.model),
            "session": cost.money(r.session),
            "saving": cost.saving(r.session, base.session),
        }
        for r in rows
    ]
    lines = table(cells, tuple(headers), headers)
    described = base_name if base.profile is None else f"profile {base_name}, {base.slot} slot on {base.shown}"
    lines += [
        "",
        f"Session: {usage.describe()}. Baseline: {described}, {cost.money(base.session)} a session.",
    ]
    return "\n".join(lines) + "\n"


def cost_json(rows: Sequence[Estimate], base: Estimate, usage: cost.Usage) -> str:
    """The estimates and the baseline as a JSON document."""

    def entry(r: Estimate) -> dict[str, Any]:
        pct = None
        if r.session is not None and base.session:
            pct = float(((base.session - r.session) / base.session * 100).quantize(Decimal("0.01")))
        return {
            "profile": r.profile,
            "slot": r.slot,
            "model": scrub_value(r.model_id),  # a profile's literal model field may hold a key
            "priced_as": r.model.id if r.model else None,
            "per_1m": cost.price_json(r.model),
            "session_usd": cost.usd(r.session),
            "saving_pct": pct,
        }

    return document(
        {
            "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "calls": usage.calls},
            "baseline": entry(base),
            "estimates": [entry(r) for r in rows],
        }
    )
