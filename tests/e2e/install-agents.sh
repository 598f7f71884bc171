#!/usr/bin/env bash
# Install the other agents' CLIs the end-to-end tests run (opencode, Gemini CLI, Qwen Code,
# Codex), each into a cache outside the repo: ~/.cache/llmconf-e2e/<name>-<version>.
# The versions are pinned in tests/e2e/agent-versions, one "package version" a line (the tests
# assert what those builds do; moving to a newer release is a change of that line, then a test
# run). Crush is left out: its npm package downloads the binary from GitHub when installed.
# Measured: about 100 s and 1 GB for the four, from an empty npm cache.
# Without npm it says so and exits 0: the tests then skip (and fail under CI=true).
set -euo pipefail
here="$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-agents: npm not found; the opencode/Gemini/Qwen/Codex end-to-end tests will be skipped" >&2
  exit 0
fi
while read -r package version; do
  [ -n "$package" ] || continue
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/llmconf-e2e/${package##*/}-$version"
  # The one command each package puts in node_modules/.bin (opencode, gemini, qwen, codex).
  if ! ls "$cache"/node_modules/.bin/* >/dev/null 2>&1; then
    npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "$package@$version" </dev/null >&2
  fi
  for binary in "$cache"/node_modules/.bin/*; do
    case "$(basename "$binary")" in semver) continue ;; esac
    printf '%s ' "$(basename "$binary")" >&2
    timeout 60 "$binary" --version </dev/null >&2
  done
done < "$here/agent-versions"
