from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.fakeapi import FakeApi

VERSION = os.environ.get("LLMCONF_CLAUDE_VERSION", "2.1.197")
# Resolved at import, before the autouse fixture points HOME at a temp folder.
CACHE = Path(
    os.environ.get("LLMCONF_CLAUDE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llmconf-e2e" / f"claude-code-{VERSION}"
)


def _binary() -> str | None:
    if explicit := os.environ.get("LLMCONF_CLAUDE_BIN"):
        return explicit
    found = sorted(glob.glob(str(CACHE / "node_modules" / "@anthropic-ai" / "claude-code-*" / "claude")))
    return found[0] if found else None


@pytest.fixture(scope="session")
def claude_bin() -> str:
    binary = _binary()
    if binary is None or not os.access(binary, os.X_OK):
        reason = f"Claude Code CLI not installed in {CACHE}: run 'bash tests/e2e/install-claude.sh' (needs npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI these tests must run, not skip")
        pytest.skip(reason)
    return binary


@pytest.fixture
def api() -> FakeApi:
    with FakeApi() as server:
        yield server


@pytest.fixture
def claude(claude_bin: str, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `claude -p` in a worktree as a user would, with an empty HOME and no network extras."""
    home = tmp_path / "claude-home"
    home.mkdir()

    def _run(worktree: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        return subprocess.run(
            [claude_bin, "-p", "say hi", *args], cwd=worktree, env=env, capture_output=True, text=True, timeout=90
        )

    return _run
