"""llmconf schema: write the editor schemas of profiles/*.yaml and worktrees.yaml (see llmconf.config.schema)."""

from __future__ import annotations

import argparse

from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.views import done


def run(args: argparse.Namespace, ui: Ui) -> int:
    from llmconf.config.discover import resolve
    from llmconf.config.load import user_path
    from llmconf.config.schema import SCHEMA_DIR, write_schemas

    if args.out is not None:
        folder = user_path(ui.cwd, args.out)
    else:
        hint = "run it in a config folder, pass -C DIR, or write elsewhere with --out DIR"
        try:
            # -C typo must not grow typo/.llmconf/schema/: only a config folder gets the default place.
            config_dir = resolve(getattr(args, "config_dir", None), ui.cwd, must_exist=True)
        except LlmconfError as e:
            raise LlmconfError(e.message, e.path, e.line, hint=hint) from None
        folder = config_dir / SCHEMA_DIR
    ui.out(done.wrote(write_schemas(folder, hint="pick another --out DIR"), ui.cwd))
    return 0
