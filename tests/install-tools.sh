#!/usr/bin/env bash
# Install the programs some tests drive, outside the venv: the Claude Code CLIs (end-to-end
# tests), zsh and fish (shell completion and activate tests), tmux (the /model picker test).
# Where one cannot be installed it says so and goes on: those tests then skip, and fail under
# CI=true.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/e2e/install-claude.sh"
bash "$here/e2e/install-opencode.sh"
# zsh: the completion tests and llmconf activate's; fish: llmconf activate's; tmux: the /model
# picker test, which reads Claude Code's TUI from a tmux pane.
missing=""
for tool in zsh fish tmux; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    { apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }; } >/dev/null
  else
    echo "install-tools:$missing not found (install them to run the tests that drive them)" >&2
  fi
fi
