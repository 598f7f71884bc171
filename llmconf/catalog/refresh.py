"""`llmconf models --refresh`: OpenRouter's list into the user catalog (catalog.yaml), keeping
its ratings, notes, comments and layout (ruamel's round trip)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from llmconf import fs
from llmconf.catalog import catalog
from llmconf.records import dataclass

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.openrouter import Listed

_USER_HEADER = """\
catalog.yaml: this config folder's additions to llmconf's model catalog (see 'llmconf models').
Entries extend or override the shipped catalog by OpenRouter ID, field by field.
'llmconf models --refresh' updates prices, context windows and IDs here; ratings are kept.
"""


@dataclass(frozen=True)
class Refreshed:
    """What a refresh changed in the user catalog."""

    text: str
    updated: list[str]
    added: list[str]
    unlisted: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.updated or self.added)


def refresh(user: Path, listed: Mapping[str, Listed], current: catalog.Catalog) -> Refreshed:
    """The user catalog's new text: for a model the catalog has, the price and context window
    where OpenRouter's differ; every other listed model added. Ratings, notes, comments and
    layout stay as they were."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    yaml.width = 4096  # one model a line, however long its name
    try:
        text = fs.read_text(user, fs.CONFIG_LIMIT)  # catalog.load checked it already: only a race fails here
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


def validated(user: Path, result: Refreshed) -> dict[str, Any]:
    """The refreshed text as the catalog will read it. Checked before it replaces the old
    text, so a failure changes nothing."""
    from ruamel.yaml import YAML

    return catalog.validated(catalog.shipped_file(), user, YAML(typ="safe").load(result.text))
