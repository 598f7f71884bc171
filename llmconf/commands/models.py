"""llmconf models: the model catalog as a table, and --refresh from OpenRouter's model list."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from llmconf import __version__

from llmconf.catalog import catalog

from llmconf.catalog import cost
from llmconf.errors import LlmconfError, display_path
from llmconf.console import Ui

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


def config_dir(args: argparse.Namespace, ui: Ui) -> Path | None:
    """The config folder (-C, or the nearest one upward), or None outside any."""
    import os

    from llmconf.config.load import find_config_dir

    given = getattr(args, "config_dir", None)
    if given:
        return Path(os.path.normpath(ui.cwd / given))
    try:
        return find_config_dir(ui.cwd)
    except LlmconfError:
        return None  # the shipped catalog alone


def run(args: argparse.Namespace, ui: Ui) -> int:
    folder = config_dir(args, ui)
    if args.refresh:
        return _refresh(folder, args.source or DEFAULT_SOURCE, ui)
    if args.source:
        raise LlmconfError("--from goes with --refresh", hint="llmconf models --refresh --from URL")
    known = catalog.load(folder)
    models = _sorted(list(known.models.values()), args.sort)
    ui.out(_json(models) if args.json else _table(models, known))
    return 0


def _sorted(models: list[catalog.Model], key: str) -> list[catalog.Model]:
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


def _table(models: list[catalog.Model], known: catalog.Catalog) -> str:
    rows = [_row(m) for m in models]
    header = {c: _HEADERS.get(c, c.upper()) for c in _COLUMNS}
    widths = {c: max(len(r[c]) for r in [header, *rows]) for c in _COLUMNS}

    def line(r: dict[str, str]) -> str:
        cells = [r[c].rjust(widths[c]) if c in _RIGHT else r[c].ljust(widths[c]) for c in _COLUMNS]
        return "  ".join(cells).rstrip()

    out = [line(header), *(line(r) for r in rows)]
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


def _json(models: list[catalog.Model]) -> str:
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

    return json.dumps({"format_version": "1", "models": [entry(m) for m in models]}, indent=2) + "\n"


def _refresh(folder: Path | None, source: str, ui: Ui) -> int:
    from llmconf import fs

    if folder is None:
        raise LlmconfError(
            "no config folder to keep the refreshed catalog in", hint="run it where worktrees.yaml is, or pass -C DIR"
        )
    current = catalog.load(folder)  # a broken catalog.yaml stops here, before any request
    url, listed = fetch(source)
    user = catalog.user_file(folder)
    result = refresh(user, listed, current)
    from ruamel.yaml import YAML

    # The new text must load: checked before it replaces the old one, so a failure changes nothing.
    checked = catalog.validated(catalog.shipped_file(), user, YAML(typ="safe").load(result.text))
    shown = display_path(user, ui.cwd)
    if not result.updated and not result.added:
        ui.out(f"{shown} is up to date with {url} ({len(listed)} models listed).")
    else:
        fs.write_atomic(user, result.text)
        ui.out(
            f"Updated {shown} from {url}: {len(listed)} models listed; "
            f"{len(result.updated)} with a new price or context window, {len(result.added)} added. Ratings kept."
        )
        now = catalog.build(checked, user)  # what was just validated and written: no second parse
        for model_id in result.updated:
            old, new = current.models[model_id], now.models[model_id]
            said = []
            if (old.input, old.output) != (new.input, new.output):
                said.append(f"{cost.prices(old)} -> {cost.prices(new)} per 1M")
            if old.context != new.context:
                said.append(f"context {old.context or '?'} -> {new.context}")
            ui.out(f"  ~ {model_id}: {'; '.join(said)}")
    if result.unlisted:
        ui.out(f"Not in that list (kept as they are): {', '.join(result.unlisted)}")
    return 0


# --- --refresh: OpenRouter's model list into the user catalog ---------------------------------------

DEFAULT_SOURCE = "https://openrouter.ai"
LIST_PATH = "/api/v1/models"
_MAX_BYTES = 64 * 1024 * 1024  # the real list is about 1 MB; anything this big is not it
_USER_HEADER = """\
catalog.yaml: this config folder's additions to llmconf's model catalog (see 'llmconf models').
Entries extend or override the shipped catalog by OpenRouter ID, field by field.
'llmconf models --refresh' updates prices, context windows and IDs here; ratings are kept.
"""


@dataclass(frozen=True)
class Listed:
    """One model from OpenRouter's list: price per 1M tokens, context window."""

    id: str
    name: str
    input: float
    output: float
    context: int | None


def fetch(source: str, timeout: float = 10.0) -> tuple[str, dict[str, Listed]]:
    """GET {source}/api/v1/models: (the URL, the models it lists). Any failure is an error."""
    import urllib.error
    import urllib.request

    url = source.rstrip("/") + LIST_PATH
    if not url.startswith(("http://", "https://")):
        raise LlmconfError(f"'{source}' is not an http(s) URL", hint="pass --from https://HOST")
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": f"llmconf/{__version__}"}
    )
    nothing = "nothing changed; check the network and the URL, then run it again"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(_MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        raise LlmconfError(f"cannot fetch {url}: HTTP {e.code} {e.reason}", hint=nothing) from None
    except urllib.error.URLError as e:
        reason = e.reason.strerror if isinstance(e.reason, OSError) and e.reason.strerror else e.reason
        raise LlmconfError(f"cannot fetch {url}: {reason}", hint=nothing) from None
    except (TimeoutError, OSError) as e:  # a timeout while reading, a reset connection
        raise LlmconfError(f"cannot fetch {url}: {e.strerror or e.__class__.__name__}", hint=nothing) from None
    if len(body) > _MAX_BYTES:
        raise LlmconfError(f"malformed response from {url}: larger than {_MAX_BYTES >> 20} MiB", hint="nothing changed")
    return url, parse_listing(body, url)


def parse_listing(body: bytes, url: str) -> dict[str, Listed]:
    """OpenRouter's model list ({"data": [{"id", "name", "context_length", "pricing": {"prompt",
    "completion"}}]}, prices per token as strings) as prices per 1M tokens. A response of another
    shape is an error; a model without a usable price (the auto router's -1) is left out."""

    def malformed(why: str) -> LlmconfError:
        return LlmconfError(f"malformed response from {url}: {why}", hint="nothing changed; is that OpenRouter's API?")

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise malformed("not JSON") from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise malformed("no 'data' list of models")
    listed: dict[str, Listed] = {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            raise malformed(f"model {i} has no 'id'")
        model_id = item["id"]
        if " " in model_id or model_id.endswith(catalog.EXACTO):
            continue
        pricing = item.get("pricing")
        try:
            per_token = [Decimal(str(pricing[k])) for k in ("prompt", "completion")]  # type: ignore[index]
        except (TypeError, KeyError, ArithmeticError):
            continue
        if any(not p.is_finite() or p < 0 for p in per_token):
            continue
        context = item.get("context_length")
        name = item.get("name")
        listed[model_id] = Listed(
            model_id,
            name if isinstance(name, str) and name.strip() else model_id,
            _per_million(per_token[0]),
            _per_million(per_token[1]),
            context if isinstance(context, int) and not isinstance(context, bool) and context > 0 else None,
        )
    if not listed:
        raise malformed("no model with a price in it")
    return listed


def _per_million(per_token: Decimal) -> float:
    # "0.00000022" a token is 0.22 per 1M: exact in Decimal, then the float that prints as 0.22.
    return float((per_token * 1_000_000).quantize(Decimal("0.000001")))


@dataclass(frozen=True)
class Refreshed:
    """What a refresh changed in the user catalog."""

    text: str
    updated: list[str]
    added: list[str]
    unlisted: list[str]


def refresh(user: Path, listed: Mapping[str, Listed], current: catalog.Catalog) -> Refreshed:
    """The user catalog's new text: for a model the catalog has, the price and context window
    where OpenRouter's differ; every other listed model added. Ratings, notes, comments and
    layout stay as they were."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    yaml.width = 4096  # one model a line, however long its name
    try:
        text = user.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    doc = yaml.load(text) if text is not None else None
    if doc is None:
        doc = CommentedMap()
        doc.yaml_set_start_comment(_USER_HEADER)
    if doc.get("models") is None:
        doc["models"] = CommentedMap()
    models = doc["models"]
    updated, added = [], []
    for model_id, item in listed.items():
        fresh: dict[str, Any] = {"input": item.input, "output": item.output}
        if item.context is not None:
            fresh["context"] = item.context
        known = current.models.get(model_id)
        if known is not None:
            changed = {k: v for k, v in fresh.items() if getattr(known, k) != v}
            if not changed:
                continue
            updated.append(model_id)
        else:
            changed = {"name": item.name, **fresh}
            added.append(model_id)
        entry = models.get(model_id)
        if entry is None:
            entry = CommentedMap()
            entry.fa.set_flow_style()
            models[model_id] = entry
        for k, v in changed.items():
            entry[k] = v
    import io

    out = io.StringIO()
    yaml.dump(doc, out)
    unlisted = sorted(m for m in current.models if m not in listed)
    return Refreshed(out.getvalue(), updated, added, unlisted)
