"""llmconf cost: what a session costs per profile (or model), and against a baseline."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmconf.catalog import catalog, cost
from llmconf.config.discover import resolve
from llmconf.config.load import shipped_profiles_dir
from llmconf.config.profiles import Profiles
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.views.cost import cost_json, cost_text


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Outside any config folder: the shipped profiles and catalog alone.
    folder = resolve(getattr(args, "config_dir", None), ui.cwd, required=False)
    profiles = _profiles(folder)
    known = catalog.load(folder)
    usage = cost.Usage(args.input_tokens, args.output_tokens, args.calls)
    names = args.names or profiles.names()
    rows = [cost.estimate(name, profiles, known, args.slot, usage) for name in names]
    baseline = args.baseline or cost.BASELINE
    base = cost.estimate(baseline, profiles, known, args.slot, usage)
    if base.session is None:
        raise LlmconfError(f"no price for the baseline {base.shown}", hint="pick a priced model; see 'llmconf models'")
    ui.out(cost_json(rows, base, usage) if args.json else cost_text(rows, base, usage, baseline))
    return 0


def _profiles(folder: Path | None) -> Profiles:
    if folder is None:
        return Profiles((shipped_profiles_dir(),))
    from llmconf.session import open_session

    return open_session(folder).profiles
