#!/usr/bin/env bash
# Install the programs some tests drive, outside the venv: the Claude Code CLIs (end-to-end
# tests), zsh and fish (shell completion and activate tests). Where one cannot be installed it says so and goes
# on: those tests then skip, and fail under CI=true.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/e2e/install-claude.sh"
# zsh: the completion tests and llmconf activate's; fish: llmconf activate's.
missing=""
for shell in zsh fish; do
  command -v "$shell" >/dev/null 2>&1 || missing="$missing $shell"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    { apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }; } >/dev/null
  else
    echo "install-tools:$missing not found (install them to run the shell tests)" >&2
  fi
fi
