"""llmconf activate bash|zsh|fish: a `claude` shell function that finds the current worktree's
--settings file by walking up from the current folder (shell built-ins only: no process is
started, so folders llmconf does not manage pay nothing), and passes it to the real claude."""

from __future__ import annotations

import argparse
import shlex

from llmconf.targets.claude_code.layers import DELIVERY_NAME, deliveries_dir
from llmconf.console import Ui

_POSIX = """\
# llmconf activate {shell}: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file; everywhere else claude runs untouched.
export LLMCONF_ACTIVATED={root}
claude() {{
  local _llmconf_d="$PWD"
  while :; do
    if [ -f {root}"$_llmconf_d"/{name} ]; then
      command claude --settings {root}"$_llmconf_d"/{name} "$@"
      return
    fi
    [ -z "$_llmconf_d" ] && break
    _llmconf_d="${{_llmconf_d%/*}}"
  done
  command claude "$@"
}}
"""

_FISH = """\
# llmconf activate fish: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file; everywhere else claude runs untouched.
set -gx LLMCONF_ACTIVATED {root}
function claude --description 'claude with the worktree delivery of llmconf'
    set -l d $PWD
    while true
        if test -f {root}"$d"/{name}
            command claude --settings {root}"$d"/{name} $argv
            return $status
        end
        test -z "$d"; and break
        set d (string replace -r '/[^/]*$' '' -- $d)
    end
    command claude $argv
end
"""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(args: argparse.Namespace, ui: Ui) -> int:
    root = str(deliveries_dir())
    if args.shell == "fish":
        ui.out(_FISH.format(root=_fish_quote(root), name=DELIVERY_NAME))
    else:
        ui.out(_POSIX.format(shell=args.shell, root=shlex.quote(root), name=DELIVERY_NAME))
    return 0
