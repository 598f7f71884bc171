#!/usr/bin/env bash
# Install the programs some tests drive, outside the venv: the Claude Code CLIs and the other
# agents' (opencode, Gemini CLI, Qwen Code, Codex; end-to-end tests), zsh and fish (shell
# completion and activate tests), tmux (the /model picker test).
# Where one cannot be installed it says so and goes on: those tests then skip, and fail under
# CI=true.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/e2e/install-claude.sh"
bash "$here/e2e/install-agents.sh"
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
# ccusage, pinned in tests/e2e/ccusage-version: the usage test checks llmconf usage's token totals
# against it. 18.0.11 is plain JavaScript on Node 20; 19 needs Node 22, and 20 a native package.
if command -v npm >/dev/null 2>&1; then
  ccusage_version="$(cat "$here/e2e/ccusage-version")"
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/llmconf-e2e/ccusage-$ccusage_version"
  if [ ! -x "$cache/node_modules/.bin/ccusage" ]; then
    npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "ccusage@$ccusage_version" >&2
  fi
  "$cache/node_modules/.bin/ccusage" --version >&2
else
  echo "install-tools: npm not found; the ccusage comparison test will be skipped" >&2
fi
