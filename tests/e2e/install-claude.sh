#!/usr/bin/env bash
# Install the Claude Code CLIs the end-to-end tests run, each into a cache outside the repo.
# The versions are pinned in tests/e2e/claude-versions (the tests assert what those builds do;
# moving to a newer release is a change of that one line, then a test run).
# LLMCONF_CLAUDE_VERSIONS overrides the list. Without npm it says so and exits 0: the e2e tests
# then skip (and fail under CI=true).
set -euo pipefail
here="$(dirname "$0")"
versions="${LLMCONF_CLAUDE_VERSIONS:-$(cat "$here/claude-versions")}"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-claude: npm not found; the Claude Code end-to-end tests will be skipped" >&2
  exit 0
fi
for version in $versions; do
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/llmconf-e2e/claude-code-$version"
  if ! ls "$cache"/node_modules/@anthropic-ai/claude-code-*/claude >/dev/null 2>&1; then
    npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$version" >&2
  fi
  # npm may skip the package's postinstall; the native binary runs as it is.
  binary=$(ls "$cache"/node_modules/@anthropic-ai/claude-code-*/claude | head -n 1)
  "$binary" --version >&2
done
