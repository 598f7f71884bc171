"""llmconf models: the model catalog as a table, and --refresh from OpenRouter's model list."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmconf.catalog import catalog
from llmconf.config.discover import resolve
from llmconf.console import Ui
from llmconf.errors import LlmconfError, display_path
from llmconf.views import models as view


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Outside any config folder: the shipped catalog alone.
    folder = resolve(getattr(args, "config_dir", None), ui.cwd, required=False)
    if args.refresh:
        from llmconf.catalog.openrouter import DEFAULT_SOURCE

        return _refresh(folder, args.source or DEFAULT_SOURCE, ui)
    if args.source:
        raise LlmconfError("--from goes with --refresh", hint="llmconf models --refresh --from URL")
    known = catalog.load(folder)
    models = view.ordered(list(known.models.values()), args.sort)
    ui.out(view.models_json(models) if args.json else view.models_text(models, known))
    return 0


def _refresh(folder: Path | None, source: str, ui: Ui) -> int:
    from llmconf import fs
    from llmconf.catalog import openrouter, refresh

    if folder is None:
        raise LlmconfError(
            "no config folder to keep the refreshed catalog in", hint="run it where worktrees.yaml is, or pass -C DIR"
        )
    current = catalog.load(folder)  # a broken catalog.yaml stops here, before any request
    url, listed = openrouter.fetch(source)
    user = catalog.user_file(folder)
    result = refresh.refresh(user, listed, current)
    checked = refresh.validated(user, result)
    now = current
    if result.changed:
        fs.write_atomic(user, result.text)
        now = catalog.build(checked, user)  # what was just validated and written: no second parse
    ui.out(view.refresh_text(display_path(user, ui.cwd), url, len(listed), result, current, now))
    return 0
