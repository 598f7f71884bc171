"""`llmconf models`: the catalog as a table or JSON, and what a --refresh changed. Pure functions of values."""

from __future__ import annotations

from collections.abc import Sequence

from llmconf.catalog import catalog, cost
from llmconf.views.json import document
from llmconf.views.table import table

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.refresh import Refreshed

_COLUMNS = ("id", "name", "input", "output", "context", *catalog.RATING_FIELDS, "exacto")
_HEADERS = {
    "input": "IN/1M",
    "output": "OUT/1M",
    "tool_use": "TOOL USE",
    "code_quality": "CODE",
    "reasoning": "REASONING",
    "agentic": "AGENTIC",
}
_RIGHT = ("input", "output", "context")


def ordered(models: Sequence[catalog.Model], key: str) -> list[catalog.Model]:
    """The models in the order of --sort: price, context, else name."""
    if key == "price":  # by what a typical session costs; unpriced last
        return sorted(models, key=lambda m: (cost.session(m) is None, cost.session(m) or 0, m.id))
    if key == "context":  # largest first; unknown last
        return sorted(models, key=lambda m: (m.context is None, -(m.context or 0), m.id))
    return sorted(models, key=lambda m: (m.name.lower(), m.id))


def _context(tokens: int | None) -> str:
    if tokens is None:
        return "?"
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.3g}M"
    return f"{round(tokens / 1000)}K"


def _row(m: catalog.Model) -> dict[str, str]:
    return {
        "id": m.id,
        "name": m.name,
        "input": cost.price(m.input),
        "output": cost.price(m.output),
        "context": _context(m.context),
        **{r: m.ratings.get(r) or "-" for r in catalog.RATING_FIELDS},
        "exacto": "yes" if m.exacto else "-",
    }


def models_text(models: Sequence[catalog.Model], known: catalog.Catalog) -> str:
    """The models as a table, their notes, and where the catalog came from."""
    rows = [_row(m) for m in models]
    out = table(rows, _COLUMNS, _HEADERS, _RIGHT)
    notes = [m for m in models if m.note or m.successor]
    if notes:
        out += ["", "Notes:"]
        for m in notes:
            said = [m.note] if m.note else []
            if m.successor:
                said.append(f"legacy; succeeded by {m.successor}")
            out.append(f"  {m.id}: {'; '.join(said)}")
    source = f"; {known.user_file} over it" if known.user_file else ""
    out += ["", f"Prices in US$ per 1M tokens. Catalog: {catalog.shipped_file().name} shipped with llmconf{source}."]
    return "\n".join(out) + "\n"


def models_json(models: Sequence[catalog.Model]) -> str:
    """The models as a JSON document."""

    def entry(m: catalog.Model) -> dict[str, Any]:
        return {
            "id": m.id,
            "name": m.name,
            "input_per_1m": m.input,
            "output_per_1m": m.output,
            "context": m.context,
            "ratings": {r: m.ratings.get(r) for r in catalog.RATING_FIELDS},
            "exacto": m.exacto,
            "anthropic_id": m.anthropic_id,
            "successor": m.successor,
            "guide_id": m.guide_id,
            "note": m.note,
            "session_usd": cost.usd(cost.session(m)),
        }

    return document({"models": [entry(m) for m in models]})


def refresh_text(
    shown: str, url: str, listed: int, result: Refreshed, before: catalog.Catalog, after: catalog.Catalog
) -> str:
    """What a refresh of the user catalog `shown` from `url` did: each changed price or context
    window (`before` -> `after`), and the models the list no longer has."""
    if not result.changed:
        out = [f"{shown} is up to date with {url} ({listed} models listed)."]
    else:
        out = [
            f"Updated {shown} from {url}: {listed} models listed; "
            f"{len(result.updated)} with a new price or context window, {len(result.added)} added. Ratings kept."
        ]
        for model_id in result.updated:
            old, new = before.models[model_id], after.models[model_id]
            said = []
            if (old.input, old.output) != (new.input, new.output):
                said.append(f"{cost.prices(old)} -> {cost.prices(new)} per 1M")
            if old.context != new.context:
                said.append(f"context {old.context or '?'} -> {new.context}")
            out.append(f"  ~ {model_id}: {'; '.join(said)}")
    if result.unlisted:
        out.append(f"Not in that list (kept as they are): {', '.join(result.unlisted)}")
    return "\n".join(out) + "\n"
