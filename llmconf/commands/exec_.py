"""llmconf exec [--] COMMAND [ARG...]: run COMMAND with the current worktree's delivery.

For a worktree whose settings reach Claude Code through its --settings layer, a `claude`
command gets `--settings FILE` put in front of its arguments; any other command (a script,
an IDE launcher) runs with a `claude` on PATH that does the same. In a worktree where
llmconf keeps another agent's key file, COMMAND gets what that agent's target hands over
(opencode: the variable its opencode.json reads the key from). Elsewhere COMMAND runs
untouched. No config is read: the delivery files mirror the worktrees' paths.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from llmconf import fs
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.targets.base import OTHER_AGENTS, agent_target, key_file_name
from llmconf.targets.claude_code.layers import deliveries_dir, find_delivery

_SHIM = """#!/bin/sh
# Written by llmconf exec: claude with the --settings file of the worktree exec ran in.
exec "$LLMCONF_REAL_CLAUDE" --settings "$LLMCONF_CLAUDE_SETTINGS" "$@"
"""


def run(args: argparse.Namespace, ui: Ui) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise LlmconfError("no command to run", hint="llmconf exec -- claude [ARG...]")
    env = dict(os.environ)
    for name in OTHER_AGENTS:  # each agent whose key file llmconf keeps for this worktree
        found = find_delivery(ui.cwd, name=key_file_name(name))
        if found is not None:
            argv, more = agent_target(name).launch(argv, _kept(found))
            env.update(more)
    settings = find_delivery(ui.cwd)
    if settings is not None:
        if os.path.basename(argv[0]) == "claude":
            argv = [argv[0], "--settings", str(settings), *argv[1:]]
        elif (real := fs.which("claude")) is not None:
            env.update(
                LLMCONF_REAL_CLAUDE=real,
                LLMCONF_CLAUDE_SETTINGS=str(settings),
                PATH=f"{_shim()}{os.pathsep}{env.get('PATH', '')}",
            )
    ui.stdout.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        ui.stderr.write(f"llmconf: {argv[0]}: command not found\n")
        return 127
    except OSError as e:  # not executable: a folder, no permission, not a program
        ui.stderr.write(f"llmconf: {argv[0]}: cannot run it: {e.strerror or e.__class__.__name__}\n")
        return 126
    return 0  # not reached: exec replaced this process


def _kept(path: Path) -> dict[str, str]:
    """The variables an agent's key file holds (none when it cannot be read)."""
    from llmconf import fs

    env = (fs.read_object(path) or {}).get("env")
    return {k: v for k, v in env.items() if isinstance(v, str)} if isinstance(env, dict) else {}


def _shim() -> Path:
    """The folder of the `claude` shim exec puts first on PATH (written once, 0700)."""
    folder = deliveries_dir() / ".bin"
    shim = folder / "claude"
    from llmconf import fs

    try:  # anything else there (a FIFO, another file) is replaced
        if fs.read_text(shim, fs.SETTINGS_LIMIT) == _SHIM:
            return folder
    except (OSError, LlmconfError):
        pass

    fs.make_dirs(folder, 0o700)
    fs.write_atomic(shim, _SHIM, mode=0o700)
    return folder
