#!/usr/bin/env bash
# Install the Claude Code CLI used by the end-to-end tests into a cache outside the repo.
# Without npm it says so and exits 0: the e2e tests then skip (and fail under CI=true).
set -euo pipefail
version="${LLMCONF_CLAUDE_VERSION:-2.1.197}"  # pinned: the tests assert what this build does
cache="${LLMCONF_CLAUDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmconf-e2e/claude-code-$version}"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-claude: npm not found; the Claude Code end-to-end tests will be skipped" >&2
  exit 0
fi
if ! ls "$cache"/node_modules/@anthropic-ai/claude-code-*/claude >/dev/null 2>&1; then
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$version" >&2
fi
# npm may skip the package's postinstall; the native binary runs as it is.
binary=$(ls "$cache"/node_modules/@anthropic-ai/claude-code-*/claude | head -n 1)
"$binary" --version >&2
