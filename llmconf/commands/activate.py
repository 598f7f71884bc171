"""llmconf activate bash|zsh|fish: a `claude` shell function that finds the current worktree's
--settings file by walking up from the current folder (shell built-ins only: no process is
started, so folders llmconf does not manage pay nothing), and passes it to the real claude;
and an `opencode` one that, where llmconf keeps the worktree's opencode key, runs opencode
through `llmconf exec`, which hands the key over."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from llmconf.console import Ui
from llmconf.targets.claude_code.layers import DELIVERY_NAME, deliveries_dir
from llmconf.targets.opencode import agent as opencode


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(args: argparse.Namespace, ui: Ui) -> int:
    # The function is a file in llmconf/shell/, a str.format template ({{ is a brace) whose
    # {root}, {name} and {shell} are filled in here, quoted for that shell.
    root = str(deliveries_dir())
    fish = args.shell == "fish"
    script = (Path(__file__).resolve().parent.parent / "shell" / ("activate.fish" if fish else "activate.sh")).read_text(encoding="utf-8")
    from llmconf.render import llmconf_command

    llmconf = " ".join(map(_fish_quote, llmconf_command())) if fish else shlex.join(llmconf_command())
    ui.out(
        script.format(
            shell=args.shell, root=_fish_quote(root) if fish else shlex.quote(root), name=DELIVERY_NAME,
            opencode_key=opencode.KEY_FILE, llmconf=llmconf,
        )
    )
    return 0
