"""The model catalog: price, context window and the guide's ratings per OpenRouter ID.

It ships as llmconf/catalog.yaml; a catalog.yaml in the config folder extends or overrides it,
field by field, by ID. Both are validated with pydantic on a cold load, and the result is cached
by the bytes of both files, so a plan whose catalog did not change parses no YAML and imports no
pydantic for it (plan runs the lint on every call: it must stay cheap).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from llmconf import __version__, caches, fs, hashing
from llmconf.errors import LlmconfError
from llmconf.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

CATALOG_FILE = "catalog.yaml"

#: The guide's rating words, worst first: a rating's index is its score.
RATINGS = ("Poor", "Fair", "Good", "Very Good", "Excellent")
RATING_FIELDS = ("tool_use", "code_quality", "reasoning", "agentic")

#: OpenRouter's routing suffixes that any model takes, priced as the model itself. `:exacto` is
#: checked against the catalog (only some models have it); other suffixes (`:free`, `:thinking`)
#: are separate IDs in OpenRouter's list, so they must be listed to be known.
ROUTING_SUFFIXES = (":exacto", ":nitro", ":floor")
EXACTO = ":exacto"


# llmconf.records, not dataclasses: plan loads the catalog on every run, and a frozen dataclass
# costs 0.6 ms to define (typing.NamedTuple would import typing).
@dataclass(frozen=True)
class Model:
    """One catalog entry. Prices are US$ per 1M tokens, None where not known; floats as the
    file writes them (llmconf.catalog.cost does its arithmetic in Decimal, from their text)."""

    id: str
    name: str
    input: float | None = None
    output: float | None = None
    context: int | None = None
    ratings: Mapping[str, str] = {}  # never mutated: safe to share
    exacto: bool = False
    anthropic_id: str | None = None
    successor: str | None = None
    guide_id: str | None = None
    note: str | None = None
    #: What Claude Code may ask of it (_SUPPORTED_CAPABILITIES), when known: effort, thinking...
    capabilities: tuple[str, ...] = ()
    #: US$ per 1M tokens read from the prompt cache, written to it for 5 minutes, and for 1
    #: hour; None where not known (llmconf usage then prices them as input tokens).
    cache_read: float | None = None
    cache_write: float | None = None
    cache_write_1h: float | None = None

    @property
    def priced(self) -> bool:
        return self.input is not None and self.output is not None

    def score(self, rating: str) -> int | None:
        """A rating as a number (Poor 0 .. Excellent 4), None where the guide gives none."""
        value = self.ratings.get(rating)
        return RATINGS.index(value) if value in RATINGS else None


class Catalog:
    """Every model by OpenRouter ID, the model Claude Code uses per unset slot, and the gateways
    whose IDs these are. `user_file`: the config folder's catalog.yaml, when there is one."""

    __slots__ = ("models", "claude_defaults", "gateways", "user_file", "_by_anthropic_id")

    def __init__(
        self,
        models: dict[str, Model],
        claude_defaults: dict[str, str],
        gateways: tuple[str, ...],
        user_file: Path | None = None,
    ) -> None:
        self.models, self.claude_defaults, self.gateways, self.user_file = models, claude_defaults, gateways, user_file
        self._by_anthropic_id = {m.anthropic_id: m for m in reversed(models.values()) if m.anthropic_id}

    def find(self, model_id: str) -> Model | None:
        """The entry for an ID as a settings file holds it: an OpenRouter ID, with or without a
        routing suffix, or a Claude model's direct-Anthropic ID."""
        found = self.models.get(model_id) or self._by_anthropic_id.get(model_id)
        if found is None:
            base, suffix = split_suffix(model_id)
            if suffix:
                found = self.models.get(base)
        return found

    def describe(self, model_id: str) -> tuple[str, str | None, str | None] | None:
        """What Claude Code's /model may say of a model: (label, description, capabilities)
        from its entry, e.g. ("Qwen3-Coder 480B", "$0.22/$0.95 per 1M · 262K context", None)."""
        model = self.find(model_id)
        if model is None:
            return None
        parts = [f"${model.input:.2f}/${model.output:.2f} per 1M"] if model.priced else []
        if model.context:
            k = model.context / 1000
            parts.append(f"{k / 1000:g}M context" if k >= 1000 else f"{k:.0f}K context")
        return model.name, " · ".join(parts) or None, ",".join(model.capabilities) or None

    def claude_default(self, slot: str) -> Model | None:
        """The model Claude Code asks for when `slot` is not set."""
        return self.models.get(self.claude_defaults.get(slot, ""))

    def lists(self, base_url: str) -> bool:
        """Whether this catalog knows the model IDs of the gateway at `base_url`."""
        try:
            host = urlsplit(base_url).hostname or ""
        except ValueError:
            return False
        return any(host == g or host.endswith("." + g) for g in self.gateways)

    def known_ids(self) -> list[str]:
        """Every ID a gateway the catalog lists would accept, with :exacto where there is one."""
        ids = list(self.models)
        ids += [m.id + EXACTO for m in self.models.values() if m.exacto]
        return ids


class Describer:
    """What the catalog says of a model at a gateway whose IDs it lists (see render.Describe):
    the catalog of a config folder, loaded on first need."""

    def __init__(self, config_dir: Path | None) -> None:
        self.config_dir = config_dir
        self._catalog: Catalog | None = None
        self._broken = False  # plan's lint reports a catalog.yaml that does not load; no defaults meanwhile

    def __call__(self, base_url: str, model: str) -> tuple[str, str | None, str | None] | None:
        if self._catalog is None and not self._broken:
            try:
                self._catalog = load(self.config_dir)
            except LlmconfError:
                self._broken = True
        if self._catalog is None or not self._catalog.lists(base_url):
            return None
        return self._catalog.describe(model)


def split_suffix(model_id: str) -> tuple[str, str]:
    """("qwen/qwen3-coder", ":exacto") for "qwen/qwen3-coder:exacto"; ("x", "") with no routing suffix."""
    for suffix in ROUTING_SUFFIXES:
        if model_id.endswith(suffix):
            return model_id[: -len(suffix)], suffix
    return model_id, ""


def shipped_file() -> Path:
    return Path(__file__).resolve().parent / CATALOG_FILE


def user_file(config_dir: Path) -> Path:
    return config_dir / CATALOG_FILE


def load(config_dir: Path | None) -> Catalog:
    """The shipped catalog with the config folder's catalog.yaml (if any) over it."""
    shipped = shipped_file()
    user = user_file(config_dir) if config_dir is not None else None
    try:
        shipped_bytes = fs.read_bytes(shipped, fs.CONFIG_LIMIT)
    except OSError as e:
        raise LlmconfError(f"cannot read the shipped catalog: {e.strerror or e.__class__.__name__}", shipped) from None
    user_bytes = None
    if user is not None:
        try:
            user_bytes = fs.read_bytes(user, fs.CONFIG_LIMIT)  # a FIFO or /dev/zero is refused, not waited on
        except FileNotFoundError:
            user = None
    digest = hashing.sha256(b"\0".join([__version__.encode(), shipped_bytes, user_bytes or b"-"])).hexdigest()
    memo = f"{digest}\0{user}"
    if memo in _built:  # plan asks twice: for the slots' labels, then for its lint
        return _built[memo]
    data = caches.load(caches.entry("catalog", config_dir), digest)
    if data is None:
        data = validated(shipped, user)
        caches.save(caches.entry("catalog", config_dir), digest, data)
    _built[memo] = found = build(data, user)
    return found


#: Catalogs built in this process, by the digest of their files (so never stale) and the user file's path.
_built: dict[str, Catalog] = {}


def build(data: Mapping[str, Any], user: Path | None = None) -> Catalog:
    """A Catalog from its validated, JSON-shaped form."""

    models = {
        model_id: Model(
            id=model_id,
            name=entry["name"],
            input=entry.get("input"),
            output=entry.get("output"),
            context=entry.get("context"),
            ratings=dict(entry.get("ratings") or {}),
            exacto=bool(entry.get("exacto")),
            anthropic_id=entry.get("anthropic_id"),
            successor=entry.get("successor"),
            guide_id=entry.get("guide_id"),
            note=entry.get("note"),
            capabilities=tuple(entry.get("capabilities") or ()),
            cache_read=entry.get("cache_read"),
            cache_write=entry.get("cache_write"),
            cache_write_1h=entry.get("cache_write_1h"),
        )
        for model_id, entry in data["models"].items()
    }
    return Catalog(models, dict(data["claude_defaults"]), tuple(data["gateways"]), user)


# --- validation (cold path: YAML and pydantic) ------------------------------------------------------


def _schema() -> tuple[type, type, type]:
    """The pydantic models, built on first use so that a cached load never imports pydantic."""
    from typing import Annotated, Any, Literal  # noqa: F401 (Any: pydantic reads the string annotations below here)

    from pydantic import AfterValidator, BaseModel, ConfigDict, Field

    from llmconf.targets.claude_code import settings as target

    Capability = Literal[target.CAPABILITIES]  # type: ignore[valid-type]

    def rating(value: str) -> str:
        if value not in RATINGS:
            raise ValueError(f"'{value}' is not a rating (use one of: {', '.join(RATINGS)})")
        return value

    def model_id(value: str) -> str:
        if not value or value != value.strip() or " " in value:
            raise ValueError(f"'{value}' is not a model ID")
        if value.endswith(EXACTO):
            raise ValueError(f"list '{value[: -len(EXACTO)]}' and set exacto: true, not the :exacto ID")
        return value

    Rating = Annotated[str, AfterValidator(rating)]
    ModelId = Annotated[str, AfterValidator(model_id)]
    SlotName = Literal[target.SLOTS]  # type: ignore[valid-type]

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

    class Ratings(_Strict):
        tool_use: Rating | None = None
        code_quality: Rating | None = None
        reasoning: Rating | None = None
        agentic: Rating | None = None

    class Entry(_Strict):
        # Every field optional: a user entry may set only the price it corrects. A model new to
        # the catalog needs a name, checked after the merge.
        name: str | None = None
        input: Annotated[float, Field(ge=0)] | None = None
        output: Annotated[float, Field(ge=0)] | None = None
        context: Annotated[int, Field(gt=0)] | None = None
        ratings: dict[str, Any] | None = None  # validated on its own, so errors name its fields
        exacto: bool | None = None
        anthropic_id: str | None = None
        successor: str | None = None
        guide_id: str | None = None
        note: str | None = None
        capabilities: list[Capability] | None = None
        cache_read: Annotated[float, Field(ge=0)] | None = None
        cache_write: Annotated[float, Field(ge=0)] | None = None
        cache_write_1h: Annotated[float, Field(ge=0)] | None = None

    class File(_Strict):
        claude_defaults: dict[SlotName, str] | None = None
        gateways: list[str] | None = None
        models: dict[ModelId, Any] | None = None  # each entry checked on its own, below

    return File, Entry, Ratings


def _read(path: Path, data: Any = None) -> tuple[Any, dict[str, dict[str, Any]]]:
    """One catalog file (or `data`, to be written there), validated: (the file model, {ID: the
    fields it sets})."""
    from llmconf.config.load import read_yaml, validate

    file_model, entry_model, ratings_model = _schema()
    if data is None:
        data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LlmconfError("a catalog must be a mapping with 'models:' at the top", path, 1)
    parsed = validate(file_model, data, path)
    entries: dict[str, dict[str, Any]] = {}
    for model_id, raw in (parsed.models or {}).items():
        where = ("models", model_id)
        if raw is not None and not isinstance(raw, dict):
            from llmconf.config.load import line_of

            raise LlmconfError(f"models.{model_id}: expected a mapping of fields", path, line_of(path, where))
        entry = _within(f"models.{model_id}", validate, entry_model, raw or {}, path, where)
        fields = entry.model_dump(exclude_unset=True)
        if entry.ratings is not None:
            ratings = _within(
                f"models.{model_id}.ratings", validate, ratings_model, entry.ratings, path, (*where, "ratings")
            )
            fields["ratings"] = ratings.model_dump(exclude_unset=True)
        entries[model_id] = fields
    return parsed, entries


def _within(owner: str, validate: Any, *args: Any) -> Any:
    """validate(*args), its errors naming the entry they are in: an entry is validated on its
    own (so 'did you mean' offers its fields), which leaves its name out of the message."""
    from llmconf.errors import LlmconfErrors

    try:
        return validate(*args)
    except LlmconfError as e:
        for err in e.errors if isinstance(e, LlmconfErrors) else [e]:
            if err.message.startswith("unknown field "):
                err.message += f" in {owner}"
            elif ": " in err.message:
                err.message = f"{owner}.{err.message}"
        raise


def validated(shipped: Path, user: Path | None, user_data: Any = None) -> dict[str, Any]:
    """The merged catalog in JSON shape, or a located LlmconfError. `user_data`: the user
    catalog's content about to be written, checked before it is."""
    from llmconf.config.load import line_of
    from llmconf.targets.claude_code import settings as target

    base, models = _read(shipped)
    defaults = dict(base.claude_defaults or {})
    gateways = list(base.gateways or [])
    origin = {model_id: shipped for model_id in models}
    user_defaults: dict[str, str] = {}
    if user is not None:
        extra, patches = _read(user, user_data)
        user_defaults = dict(extra.claude_defaults or {})
        defaults.update(user_defaults)
        gateways += [g for g in extra.gateways or [] if g not in gateways]
        for model_id, patch in patches.items():
            entry = models.setdefault(model_id, {})
            ratings = {**entry.get("ratings", {}), **patch.pop("ratings", {})}
            entry.update(patch)
            if ratings:
                entry["ratings"] = ratings
            if model_id not in origin or "name" in patch:
                origin[model_id] = user
    for model_id, entry in models.items():
        path = origin[model_id]
        if not entry.get("name"):
            raise LlmconfError(f"models.{model_id}: missing field 'name'", path, line_of(path, ("models", model_id)))
        successor = entry.get("successor")
        if successor is not None and successor not in models:
            where = user if user is not None and _sets(user, model_id, "successor") else shipped
            raise LlmconfError(
                f"models.{model_id}.successor: '{successor}' is not in the catalog",
                where,
                line_of(where, ("models", model_id, "successor")),
                _closest(successor, models),
            )
    for slot in target.SLOTS:
        chosen = defaults.get(slot)
        if chosen is None and slot not in target.IMPLICIT_SLOTS:
            continue  # fable: priced only where the catalog knows Claude Code's model for it
        if chosen is None or chosen not in models:
            where = user if user is not None and slot in user_defaults else shipped
            raise LlmconfError(
                f"claude_defaults.{slot}: {'not set' if chosen is None else repr(chosen) + ' is not in the catalog'}",
                where,
                line_of(where, ("claude_defaults", slot)),
                _closest(chosen or "", models) if chosen else "name the Claude model Claude Code uses for that slot",
            )
    return {"claude_defaults": defaults, "gateways": gateways, "models": models}


def _sets(path: Path, model_id: str, name: str) -> bool:
    from llmconf.config.load import line_of

    return line_of(path, ("models", model_id, name)) is not None


def _closest(word: str, choices: Mapping[str, Any]) -> str | None:
    from llmconf.errors import did_you_mean

    return did_you_mean(word, choices)
