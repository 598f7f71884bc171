"""llmconf activate bash|zsh|fish: a `claude` shell function that finds the current worktree's
--settings file by walking up from the current folder (shell built-ins only: no process is
started, so folders llmconf does not manage pay nothing), and passes it to the real claude;
and one for each other agent llmconf configures (opencode...) that, where llmconf keeps the
worktree's key file for that agent, runs it through `llmconf exec`, which hands the key over."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from llmconf.console import Ui
from llmconf.targets.base import OTHER_AGENTS, agent_command, key_file_name
from llmconf.targets.claude_code.layers import DELIVERY_NAME, deliveries_dir


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(args: argparse.Namespace, ui: Ui) -> int:
    # The function is a file in llmconf/shell/, a str.format template ({{ is a brace) whose
    # {root}, {name} and {shell} are filled in here, quoted for that shell.
    root = str(deliveries_dir())
    fish = args.shell == "fish"
    shell = Path(__file__).resolve().parent.parent / "shell"
    script = (shell / ("activate.fish" if fish else "activate.sh")).read_text(encoding="utf-8")
    # The agent function's template, without the comment line that says what it is.
    agent = (shell / ("activate-agent.fish" if fish else "activate-agent.sh")).read_text(encoding="utf-8").split("\n", 1)[1]
    from llmconf.render import llmconf_command

    llmconf = " ".join(map(_fish_quote, llmconf_command())) if fish else shlex.join(llmconf_command())
    agents = "".join(agent.format(command=agent_command(name), key=key_file_name(name), llmconf=llmconf) for name in OTHER_AGENTS)
    ui.out(
        script.format(
            shell=args.shell, root=_fish_quote(root) if fish else shlex.quote(root), name=DELIVERY_NAME, agents=agents,
        ).rstrip("\n")
    )
    return 0
