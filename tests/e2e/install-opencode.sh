#!/usr/bin/env bash
# Install the opencode CLI the end-to-end tests run (tests/e2e/test_opencode.py) into a cache
# outside the repo: ~/.cache/llmconf-e2e/opencode-ai-<version>. The version is pinned here and
# in test_opencode.py (LLMCONF_OPENCODE_VERSION overrides both). Without npm it says so and
# exits 0: the tests then skip (and fail under CI=true).
set -euo pipefail
version="${LLMCONF_OPENCODE_VERSION:-1.18.33}"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-opencode: npm not found; the opencode end-to-end tests will be skipped" >&2
  exit 0
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/llmconf-e2e/opencode-ai-$version"
if [ ! -x "$cache/node_modules/.bin/opencode" ]; then
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "opencode-ai@$version" </dev/null >&2
fi
printf 'opencode ' >&2
timeout 60 "$cache/node_modules/.bin/opencode" --version </dev/null >&2
