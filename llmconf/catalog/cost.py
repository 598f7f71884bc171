"""Session cost estimates from the catalog's prices: computed, never copied from the guide.

Arithmetic is in Decimal, so $0.425 rounds to $0.43 as a person would round it, not to the
$0.42 a binary float gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from llmconf.errors import LlmconfError, did_you_mean
from llmconf.records import dataclass
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.catalog import Catalog, Model
    from llmconf.config.profiles import Profiles
    from llmconf.plan.model import Plan

#: The baseline the guide compares against.
BASELINE = "anthropic/claude-opus-4.5"
_MILLION = Decimal(1_000_000)
_CENT = Decimal("0.01")


# llmconf.records here too: plan imports this module (see llmconf.catalog.catalog.Model).
@dataclass(frozen=True)
class Usage:
    """A session: tokens in and out per call, and calls. Default: the guide's typical session."""

    input_tokens: int = 50_000
    output_tokens: int = 15_000
    calls: int = 10

    def describe(self) -> str:
        calls = f"{self.calls} call{'s' if self.calls != 1 else ''}"
        return f"{_tokens(self.input_tokens)} in / {_tokens(self.output_tokens)} out per call, {calls}"


def _tokens(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}K"
    return str(n)


def session(model: Model | None, usage: Usage = Usage()) -> Decimal | None:
    """US$ for one session on `model`, or None when its price is not known."""
    if model is None or model.input is None or model.output is None:
        return None
    tokens_in = Decimal(usage.input_tokens * usage.calls)
    tokens_out = Decimal(usage.output_tokens * usage.calls)
    return (tokens_in * _exact(model.input) + tokens_out * _exact(model.output)) / _MILLION


def _exact(price: float) -> Decimal:
    # From the float's shortest text, which is what the catalog wrote: 0.24, not 0.2399999999.
    return Decimal(repr(price))


@dataclass(frozen=True)
class Tokens:
    """Tokens really used (llmconf usage), by how they are billed."""

    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0

    def __iter__(self) -> Iterator[int]:  # the counts in field order, as a tuple would give them
        return iter((self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read))

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(*(a + b for a, b in zip(self, other)))

    @property
    def total(self) -> int:
        return sum(self)


def tokens_cost(model: Model | None, tokens: Tokens) -> Decimal | None:
    """US$ for `tokens` on `model`, cache tokens at the catalog's cache prices (at its input
    price where it has none); None when the model has no price."""
    if model is None or model.input is None or model.output is None:
        return None
    base = _exact(model.input)
    rates = [
        base, _exact(model.output),
        *(base if p is None else _exact(p) for p in (model.cache_write, model.cache_write_1h, model.cache_read)),
    ]
    return sum((n * r for n, r in zip(tokens, rates)), Decimal(0)) / _MILLION


def money(amount: Decimal | None) -> str:
    """$6.25; amounts under a cent keep four decimals ($0.0017); ? when unknown."""
    if amount is None:
        return "?"
    if 0 < amount < _CENT:
        return f"${amount.quantize(Decimal('0.0001'), ROUND_HALF_UP)}"
    return f"${amount.quantize(_CENT, ROUND_HALF_UP)}"


def prices(model: Model | None) -> str:
    """$0.22/$0.95 (input/output per 1M), or ? when unknown."""
    if model is None or model.input is None or model.output is None:
        return "?"
    return f"{price(model.input)}/{price(model.output)}"


def price(per_million: float | None) -> str:
    """$0.22: two decimals at least, more only when the price has them ($0.075); ? when unknown."""
    if per_million is None:
        return "?"
    amount = _exact(per_million)
    text = f"{amount.quantize(_CENT)}" if amount == amount.quantize(_CENT) else f"{amount.normalize():f}"
    return f"${text}"


def saving(cost: Decimal | None, baseline: Decimal | None) -> str:
    """How `cost` compares with `baseline`: "97% cheaper", "same", "40% more"."""
    if cost is None or baseline is None or baseline == 0:
        return "-"
    pct = ((baseline - cost) / baseline * 100).quantize(Decimal(1), ROUND_HALF_UP)
    if pct == 0:
        return "same"
    return f"{pct}% cheaper" if pct > 0 else f"{-pct}% more"


def usd(amount: Decimal | None) -> float | None:
    """A JSON number: exact enough for US$ amounts."""
    return None if amount is None else float(amount)


def price_json(model: Model | None) -> dict[str, float] | None:
    if model is None or model.input is None or model.output is None:
        return None
    return {"input": float(model.input), "output": float(model.output)}


# --- what a worktree's switch costs -----------------------------------------------------------------


@dataclass(frozen=True)
class SlotChange:
    """A slot whose model a plan changes, priced. `before`/`after` are the settings' values,
    None where the slot is unset (Claude Code then uses its own model for it)."""

    slot: str
    before: str | None
    after: str | None
    before_model: Model | None
    after_model: Model | None
    usage: Usage

    def text(self) -> str:
        shown = [v if v is not None else "Claude default" for v in (self.before, self.after)]
        costs = [money(session(m, self.usage)) for m in (self.before_model, self.after_model)]
        return (
            f"{self.slot}: {shown[0]} -> {shown[1]}  ({prices(self.before_model)} -> {prices(self.after_model)} per 1M; "
            f"session est. {costs[0]} -> {costs[1]})"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "before": self.before,
            "after": self.after,
            "before_per_1m": price_json(self.before_model),
            "after_per_1m": price_json(self.after_model),
            "before_session_usd": usd(session(self.before_model, self.usage)),
            "after_session_usd": usd(session(self.after_model, self.usage)),
        }


def plan_changes(plan: Plan, catalog: Catalog, usage: Usage = Usage()) -> dict[Path, tuple[SlotChange, ...]]:
    """Per settings file of the plan, the slots whose model changes to one the catalog prices.
    A model from a secret is never shown, so it is never priced either."""
    from llmconf.plan.model import Action

    slot_of: dict[target.KeyPath, str] = {(target.ENV, target.slot_var(s)): s for s in target.SLOTS}
    out: dict[Path, tuple[SlotChange, ...]] = {}
    for wp in plan.changed:
        if wp.role != "local":  # a --settings file repeats its worktree's models
            continue
        changes = []
        for c in wp.changes:
            slot = slot_of.get(c.key)
            if slot is None or c.sensitive:
                continue
            before = None if c.action is Action.ADD else c.before
            after = None if c.action is Action.REMOVE else c.after
            if not isinstance(before, (str, type(None))) or not isinstance(after, (str, type(None))):
                continue  # a hand-edited non-string value: nothing to price
            models = [catalog.find(v) if v is not None else catalog.claude_default(slot) for v in (before, after)]
            # The same model under another name (a routing suffix, the Claude default) costs the
            # same; a switch to a model the catalog cannot price (a local gateway's own names)
            # has nothing to show.
            if models[0] is models[1] or models[1] is None or not models[1].priced:
                continue
            changes.append(SlotChange(slot, before, after, models[0], models[1], usage))
        if changes:
            out[wp.settings] = tuple(changes)
    return out


def default_cost(keys: Mapping[target.KeyPath, str], catalog: Catalog, usage: Usage = Usage()) -> Decimal | None:
    """A session's estimated cost on the model a worktree starts on (its default slot's)."""
    slot, model_id = target.default_model(dict(keys))
    if model_id is None:
        model = catalog.claude_default(slot) if slot else None
    else:
        model = catalog.find(model_id)
    return session(model, usage)


# --- what a session costs per profile (llmconf cost) ------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One row: a profile's slot (or a bare model) and what a session on it costs."""

    profile: str | None
    slot: str | None
    model_id: str | None  # as the profile writes it; None: Claude Code's own model for the slot
    model: Model | None
    session: Decimal | None

    @property
    def shown(self) -> str:
        """The model as text and errors name it (a key in a profile's literal field scrubbed)."""
        if self.model_id is None:
            return f"{self.model.id if self.model else '?'} (Claude default)"
        from llmconf.secrets.mask import scrub_value

        return str(scrub_value(self.model_id))


def estimate(name: str, profiles: Profiles, known: Catalog, slot: str | None, usage: Usage = Usage()) -> Estimate:
    """A profile's estimate (the slot asked for, else the one a session starts on), or a model's."""
    path = profiles.path(name)
    if path is None:
        model = known.find(name)
        if model is None:
            choices = [*profiles.names(), *known.models]
            raise LlmconfError(
                f"'{name}' is neither a profile nor a model in the catalog",
                hint=did_you_mean(name, choices) or "see 'llmconf models' and the profiles/ folders",
            )
        return Estimate(None, None, name, model, session(model, usage))
    from llmconf.config.load import Sourced
    from llmconf.render import is_template

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
    elif is_template(model_id):
        model = None  # rendered per worktree: no price without one
    else:
        model = known.find(model_id)
    return Estimate(name, slot, model_id, model, session(model, usage))


def profile_slots(name: str, profiles: Profiles, known: Catalog) -> dict[str, tuple[str, Model | None]]:
    """A profile's model per slot, as shown and as the catalog prices it: an unset slot is Claude
    Code's own model for it, a model rendered per worktree (a template) has no price."""
    path = profiles.path(name)
    if path is None:
        raise LlmconfError(
            f"'{name}' is not a profile", hint=did_you_mean(name, profiles.names()) or "see the profiles/ folders"
        )
    from llmconf.config.load import Sourced
    from llmconf.render import is_template

    fields = profiles.resolve(name, Sourced(name, path, ()))
    out: dict[str, tuple[str, Model | None]] = {}
    for slot in target.SLOTS:
        src = fields.get(("models", slot))
        if src is None or src.value is None:
            model = known.claude_default(slot)
            out[slot] = (f"{model.id if model else '?'} (Claude default)", model)
        else:
            from llmconf.secrets.mask import scrub_value

            model_id = str(src.value)
            out[slot] = (str(scrub_value(model_id)), None if is_template(model_id) else known.find(model_id))
    return out
