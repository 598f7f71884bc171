#!/usr/bin/env bash
# Install the programs some tests drive, outside the venv: the Claude Code CLI (end-to-end
# tests) and zsh (shell completion tests). Where one cannot be installed it says so and goes
# on: those tests then skip, and fail under CI=true.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/e2e/install-claude.sh"
if ! command -v zsh >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get install -y -q zsh || { apt-get update -q && apt-get install -y -q zsh; }; } >/dev/null
  else
    echo "install-tools: zsh not found (install it to run the zsh completion tests)" >&2
  fi
fi
