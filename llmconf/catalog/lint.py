"""Lint: the guide's advice as checks on what each worktree is about to get.

Each warning is an LlmconfError located at the value that causes it (profile file or
worktrees.yaml override), so it prints as `FILE:LINE: what is wrong (what to do)`. plan and
validate show them; with --strict they are errors. Values come from the rendered settings
keys, locations from the resolved profile fields; a value from a secret is never checked
(and so never quoted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from llmconf import fs
from llmconf.config.load import FieldPath, Sourced, WorktreeDecl
from llmconf.errors import LlmconfError
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.settings import ENV, KeyPath

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.catalog import Catalog, Model

#: Slots Claude Code does its tool-heavy, agentic work in.
_AGENTIC_SLOTS = ("sonnet", "opus")
_TOOL_SLOT = "sonnet"
_POOR, _FAIR = 0, 1  # catalog.RATINGS indices
DEPRECATED = "ANTHROPIC_SMALL_FAST_MODEL"
#: Claude Code adds these headers to every request ("Name: Value" lines).
CUSTOM_HEADERS = "ANTHROPIC_CUSTOM_HEADERS"
_KEY_HEADERS = ("x-api-key", "authorization")

#: Every rule, by its stable code. A warning shows its code first; a YAML comment "noqa: CODE
#: reason" on the warning's line accepts it there, the reason saying why (README: "Lint").
RULES = {
    "LC101": "unknown model ID at a gateway the catalog lists",
    "LC102": ":exacto on a model the catalog lists no :exacto variant of",
    "LC103": "a legacy model whose successor costs less",
    "LC104": "a model the guide rates poorly for its slot's work",
    "LC105": "an agentic slot without the :exacto variant the model has",
    "LC106": "a picker row for a slot the profile does not map",
    "LC201": "a gateway profile that leaves haiku, sonnet or opus unset",
    "LC202": "base_url ending in /v1",
    "LC203": "ANTHROPIC_API_KEY set beside a gateway token",
    "LC204": "a key header in ANTHROPIC_CUSTOM_HEADERS beside auth_token",
    "LC205": "gateway model discovery that hides the profile's models from /model",
    "LC301": "a label, description or capabilities for a slot the profile does not map",
    "LC302": "a deprecated variable",
}
#: `# noqa: LC104 the reason` (codes comma-separated); the reason is required.
_NOQA = r"#\s*noqa:\s*(?P<codes>LC\d{3}(?:\s*,\s*LC\d{3})*)(?P<reason>.*)$"  # compiled on first use


def check(
    items: Iterable[tuple[WorktreeDecl, Mapping[KeyPath, str]]], profiles: Any, catalog: Catalog
) -> list[LlmconfError]:
    """Every warning for these worktrees (declaration, rendered keys), each once, in order."""
    from llmconf.render import resolve_fields

    found: dict[str, LlmconfError] = {}
    # Worktrees sharing a profile, the fields their overrides set and the rendered keys lint
    # reads get the same warnings: they are worked out once. worktree() decides from the
    # rendered values and which fields are set; a field's Sourced only says where a warning
    # points. So a shape that warns of nothing does so wherever its overrides are written
    # (one check covers them all); one that warns is checked per distinct set of overrides,
    # since its warnings may point at them.
    quiet: dict[Any, bool] = {}  # shape -> whether it warns of nothing
    located: set[Any] = set()  # (shape, overrides) already checked
    for decl, desired in items:
        # The type too: a value from a secret (Sensitive) is skipped where an equal plain one is not.
        values = [desired.get(k) for k in _RELEVANT]
        set_fields = tuple([(fp, s.value is None) for fp, s in decl.overrides.items()])  # null unsets
        shape = (decl.profile.value, set_fields, tuple(values), tuple(map(type, values)))
        if quiet.get(shape):
            continue
        key = (shape, tuple(decl.overrides.items()))
        if key in located:
            continue  # its warnings are in `found` already
        located.add(key)
        fields = resolve_fields(decl, profiles)
        warnings = list(worktree(fields, desired, catalog, lambda: _declared_at(decl, profiles, fields)))
        quiet[shape] = not warnings
        for warning in warnings:
            found.setdefault(warning.format(), warning)
    return _not_accepted(found.values())


def _declared_at(decl: WorktreeDecl, profiles: Any, fields: Mapping[FieldPath, Sourced]) -> Sourced | None:
    """Where a warning about the profile as a whole points when it sets no field to point at:
    the `extends:` line of the profile the worktree uses, when its base_url comes from the
    profile it extends. So a `noqa` on a base meant to be extended (openrouter-base) never
    silences a profile that extends it and sets no slot. None: at base_url."""
    base = fields.get(("base_url",))
    profile, path = profiles.load(decl.profile.value, decl.profile)
    if base is None or base.path == path or profile.extends is None:
        return None
    return Sourced(profile.extends, path, ("extends",))


def _not_accepted(warnings: Iterable[LlmconfError]) -> list[LlmconfError]:
    """The warnings no `# noqa: CODE reason` accepts at their line. A noqa without a reason
    accepts nothing, and the warning's hint says what is missing."""
    lines: dict[Any, list[str]] = {}  # file -> its lines, read only where a warning points
    out = []
    for w in warnings:
        if w.path is None or w.line is None or w.code is None:
            out.append(w)
            continue
        if w.path not in lines:
            try:  # the file just loaded; still read as every config file is (no FIFO, capped)
                lines[w.path] = fs.read_text(w.path, fs.CONFIG_LIMIT).splitlines()
            except (OSError, LlmconfError):
                lines[w.path] = []
        text = lines[w.path][w.line - 1] if w.line <= len(lines[w.path]) else ""
        noqa = re.search(_NOQA, text) if "noqa" in text else None  # most lines: no pattern compiled
        if noqa is None or w.code not in re.split(r"\s*,\s*", noqa["codes"]):
            out.append(w)
        elif not noqa["reason"].strip(" -:"):
            w.hint = f"{w.hint}; " if w.hint else ""
            w.hint += f"'# noqa: {w.code}' accepts it only with a reason after the code"
            out.append(w)
    return out


_RELEVANT: tuple[KeyPath, ...] = (
    *target.BACKEND_KEYS,
    target.DEFAULT_MODEL_KEY,
    target.KEY_HELPER_KEY,
    (ENV, CUSTOM_HEADERS),
)


def worktree(
    fields: Mapping[FieldPath, Sourced],
    desired: Mapping[KeyPath, str],
    catalog: Catalog,
    declared_at: Callable[[], Sourced | None] = lambda: None,
) -> Iterator[LlmconfError]:
    """The warnings for one worktree's resolved fields and rendered settings keys
    (`declared_at`: see _declared_at; called only when a warning needs it, since it may load
    profile files a cached plan never reads)."""
    from llmconf.render import is_sensitive
    from llmconf.secrets.mask import holds_key

    def shown(value: Any) -> bool:
        # Never a value from a secret, nor a literal holding a key: a warning quotes what it checks.
        return isinstance(value, str) and not is_sensitive(value) and not holds_key(value)

    base_url = desired.get((ENV, target.BASE_URL))
    gateway = base_url is not None
    listed = gateway and catalog.lists(str(base_url))
    for slot in target.SLOTS:
        value, src = desired.get((ENV, target.slot_var(slot))), fields.get(("models", slot))
        if shown(value) and src is not None:
            yield from _model(str(value), src, slot, catalog, listed)
    value, src = desired.get((ENV, target.SUBAGENT)), fields.get(("subagent",))
    if shown(value) and src is not None and value != target.SUBAGENT_INHERIT:
        yield from _model(str(value), src, None, catalog, listed)
    value = desired.get(target.DEFAULT_MODEL_KEY, desired.get((ENV, target.DEFAULT_MODEL_VAR)))
    src = fields.get(("default",))
    if shown(value) and src is not None and value not in target.SLOTS and "/" in str(value):
        yield from _model(str(value), src, None, catalog, listed)  # a full ID, not a slot alias
    if gateway:
        yield from _picker(fields.get(("picker",)), desired, catalog, listed)
    if listed:
        yield from _unset_slots(fields, desired, declared_at)
    if gateway:
        yield from _base_url(str(base_url), fields.get(("base_url",)), shown(base_url))
        yield from _keys(fields, desired)
        yield from _discovery(fields, desired)
    for fp, src in fields.items():
        # labels.fable with no models.fable: nothing for Claude Code to describe, so not written.
        if fp[0] in target.SLOT_INFO and len(fp) == 2 and (ENV, target.slot_var(fp[1])) not in desired:
            yield src.warning(
                f"{fp[0]}.{fp[1]} is not written: the profile maps no {fp[1]} model for it to describe",
                f"set models.{fp[1]}, or drop {fp[0]}.{fp[1]}",
                code="LC301",
            )
    src = fields.get(("env", DEPRECATED))
    if src is not None:
        yield src.warning(
            f"env.{DEPRECATED} is deprecated",
            "set models.haiku instead, which writes ANTHROPIC_DEFAULT_HAIKU_MODEL",
            code="LC302",
        )


def _picker(src: Sourced | None, desired: Mapping[KeyPath, Any], catalog: Catalog, listed: bool) -> Iterator[LlmconfError]:
    """Each picker row's model, at its own line: a slot the profile leaves to Claude Code's own
    ID (which the gateway may not serve), or an ID the catalog does not know."""
    picker = desired.get(target.PICKER_KEY)
    if src is None or not isinstance(picker, dict):
        return
    for i, row in enumerate(picker["options"]):
        model = row["model"]
        at = Sourced(model, src.path, (*src.loc, "rows", i, "model"))
        if model not in target.SLOTS:
            yield from _model(model, at, None, catalog, listed)
        elif (ENV, target.slot_var(model)) not in desired:
            yield at.warning(
                f"{_name(at)}: the profile maps no {model} model, so this row picks Claude Code's own {model} "
                "model ID, which the gateway may not serve",
                f"set models.{model}, or drop the row",
                code="LC106",
            )


#: Turns on Claude Code's /v1/models discovery at the gateway (2.1.332: gatewayDiscovery).
DISCOVERY = "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY"
#: The IDs discovery keeps: Claude Code 2.1.332 filters the gateway's list with
#: /(claude|anthropic)/i (2.1.197: /^(claude|anthropic)/i, stricter still). The e2e tests
#: check each pinned binary still holds its filter.
_DISCOVERED = r"(?i)claude|anthropic"


def _discovery(fields: Mapping[FieldPath, Sourced], desired: Mapping[KeyPath, Any]) -> Iterator[LlmconfError]:
    """Gateway discovery on, for a profile whose models it would hide from /model."""
    value, src = desired.get((ENV, DISCOVERY)), fields.get(("env", DISCOVERY))
    if src is None or not isinstance(value, str) or value.strip().lower() in ("", "0", "false", "no", "off"):
        return
    models = dict.fromkeys(v for s in target.SLOTS if isinstance(v := desired.get((ENV, target.slot_var(s))), str) and v)
    from llmconf.render import Sensitive
    from llmconf.secrets.mask import SENSITIVE

    hidden = [SENSITIVE if isinstance(m, Sensitive) else m for m in models if not re.search(_DISCOVERED, m)]
    if hidden:
        yield src.warning(
            f"env.{DISCOVERY} lists only gateway models whose ID contains 'claude' or 'anthropic': "
            f"/model will not offer {', '.join(hidden)}",
            "drop it, and list the models you want in /model as picker rows",
            code="LC205",
        )


def _base_url(value: str, src: Sourced | None, shown: bool) -> Iterator[LlmconfError]:
    """A base URL that already ends in /v1: Claude Code appends /v1/messages, and the 404 for
    .../v1/v1/messages reads like "model not found" (OpenRouter's /api/v1 is the usual one)."""
    if src is None or not shown:
        return
    path = value.split("?", 1)[0].rstrip("/")
    if path.endswith("/v1"):
        yield src.warning(
            f"{_name(src)} ends in /v1: Claude Code appends /v1/messages, so requests go to "
            f"{path}/v1/messages and the gateway's 404 reads like \"model not found\"",
            f"use {path[: -len('/v1')]}",
            code="LC202",
        )


def _name(src: Sourced) -> str:
    """The field as a profile writes it: models.sonnet, also for a worktrees.yaml override."""
    loc = src.loc[2:] if src.loc[:1] in (("worktrees",), ("repos",)) else src.loc
    return ".".join(str(x) for x in loc)


def _model(value: str, src: Sourced, slot: str | None, catalog: Catalog, listed: bool) -> Iterator[LlmconfError]:
    from llmconf.catalog.catalog import EXACTO, split_suffix

    field = _name(src)
    model = catalog.find(value)
    if model is None:
        if listed:
            yield src.warning(f"{field}: unknown model ID '{value}'", _unknown_hint(value, catalog), code="LC101")
        return
    base, suffix = split_suffix(value)
    if suffix == EXACTO and not model.exacto and listed:
        yield src.warning(
            f"{field}: the catalog lists no :exacto variant of '{base}'",
            f"use {base}, or set exacto: true for it in catalog.yaml if OpenRouter serves one",
            code="LC102",
        )
    yield from _legacy(value, model, src, field, catalog)
    if slot is None:
        return
    reasons = []
    agentic, tool_use = model.score("agentic"), model.score("tool_use")
    if slot in _AGENTIC_SLOTS and agentic is not None and agentic <= _POOR:
        reasons.append(f"agentic {model.ratings['agentic']}")
    if slot == _TOOL_SLOT and tool_use is not None and tool_use <= _FAIR:
        reasons.append(f"tool use {model.ratings['tool_use']}")
    if reasons:
        yield src.warning(
            f"{field}: {model.name} is a poor fit for the {slot} slot: the guide rates it {' and '.join(reasons)} in Claude Code",
            "map a model rated Good or better there; see 'llmconf models'",
            code="LC104",
        )
    if listed and slot in _AGENTIC_SLOTS and model.exacto and not suffix and value == model.id:
        yield src.warning(
            f"{field}: '{value}' has an :exacto variant, routed to the providers with the best tool-calling accuracy",
            f"use {value}{EXACTO}",
            code="LC105",
        )


def _legacy(value: str, model: Model, src: Sourced, field: str, catalog: Catalog) -> Iterator[LlmconfError]:
    successor = catalog.models.get(model.successor or "")
    if successor is None:
        return
    from llmconf.catalog import (
        cost,  # only now: most plans price nothing, and Decimal costs 1 ms to import
    )

    old, new = cost.session(model), cost.session(successor)
    if old is None or new is None or new >= old:
        return
    # Suggest the successor in the same namespace: a direct-Anthropic ID for a direct profile.
    instead = successor.anthropic_id if value == model.anthropic_id and successor.anthropic_id else successor.id
    yield src.warning(
        f"{field}: '{value}' is legacy {model.name} at {cost.prices(model)} per 1M; "
        f"{successor.name} costs {cost.prices(successor)}",
        f"use {instead}: session est. {cost.money(old)} -> {cost.money(new)}",
        code="LC103",
    )


def _unknown_hint(value: str, catalog: Catalog) -> str:
    for m in catalog.models.values():
        if m.guide_id == value and m.note:
            return f"{m.note}; use {m.id}{':exacto' if m.exacto else ''}"
    import difflib

    close = difflib.get_close_matches(value, catalog.known_ids(), n=3, cutoff=0.6)
    tail = "if the ID is right, run 'llmconf models --refresh' or add it to catalog.yaml"
    if not close:
        return f"see 'llmconf models'; {tail}"
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"did you mean {listed}? {tail[0].upper()}{tail[1:]}"


def _unset_slots(
    fields: Mapping[FieldPath, Sourced], desired: Mapping[KeyPath, str], declared_at: Callable[[], Sourced | None]
) -> Iterator[LlmconfError]:
    unset = [s for s in target.IMPLICIT_SLOTS if (ENV, target.slot_var(s)) not in desired]
    if not unset:
        return
    some = next((src for fp, src in fields.items() if fp[0] == "models"), None)
    where = Sourced(None, some.path, some.loc[:-1]) if some is not None else declared_at() or fields[("base_url",)]
    names = " and ".join(f"models.{s}" for s in unset) if len(unset) <= 2 else "models.haiku, sonnet and opus"
    yield where.warning(
        f"{names} {'is' if len(unset) == 1 else 'are'} not set for a gateway: Claude Code would ask it for "
        f"its own Claude model name{'s' if len(unset) > 1 else ''}, which the gateway may not serve",
        "set every slot of a gateway profile",
        code="LC201",
    )


def _keys(fields: Mapping[FieldPath, Sourced], desired: Mapping[KeyPath, str]) -> Iterator[LlmconfError]:
    # A profile cannot set ANTHROPIC_API_KEY through env (that is a validation error), and its
    # auth_token always writes it as "": the check is here so a renderer change cannot slip a
    # key past it. The reachable case is a key header in ANTHROPIC_CUSTOM_HEADERS.
    token = fields.get(("auth_token",))
    if desired.get((ENV, target.API_KEY)):
        where = token or fields[("base_url",)]
        both = " as well as a token" if (ENV, target.AUTH_TOKEN) in desired else ""
        yield where.warning(
            f"ANTHROPIC_API_KEY is not empty for a gateway{both}: Claude Code prefers it and sends it as x-api-key",
            'give the gateway\'s key as auth_token only; llmconf then writes ANTHROPIC_API_KEY as ""',
            code="LC203",
        )
    headers, src = desired.get((ENV, CUSTOM_HEADERS)), fields.get(("env", CUSTOM_HEADERS))
    if headers is None or src is None or token is None:
        return
    names = {line.split(":", 1)[0].strip().lower() for line in str(headers).splitlines() if ":" in line}
    sent = sorted(names & set(_KEY_HEADERS))
    if sent:
        yield src.warning(
            f"env.{CUSTOM_HEADERS} sends {' and '.join(sent)} as well as auth_token: the gateway gets two credentials",
            "keep the gateway's key in auth_token only",
            code="LC204",
        )


def for_plan(decls: Iterable[WorktreeDecl], plan: Any, profiles: Any, catalog: Catalog) -> list[LlmconfError]:
    """The warnings for a plan's worktrees (those that rendered: the others show their error)."""
    claude = (d for d in decls if "claude-code" in d.agents)  # plan.local: Claude Code's files, in that order
    return check(((d, wp.desired) for d, wp in zip(claude, plan.local) if wp.error is None), profiles, catalog)


def show(warnings: list[LlmconfError], ui: Any, strict: bool) -> None:
    """Print warnings on stderr: as warnings, or as errors under --strict."""
    for w in warnings:
        if strict:
            ui.error(w)
        else:
            ui.warn(w)
