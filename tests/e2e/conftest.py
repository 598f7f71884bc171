from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.fakeapi import FakeApi

HERE = Path(__file__).parent
#: The pinned Claude Code versions, newest first (tests/e2e/claude-versions; the one place).
VERSIONS = (os.environ.get("LLMCONF_CLAUDE_VERSIONS") or (HERE / "claude-versions").read_text()).split()
NEWEST = VERSIONS[0]
# Resolved at import, before the autouse fixture points HOME at a temp folder.
CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llmconf-e2e"


#: The other agents' pinned npm packages and versions (tests/e2e/agent-versions, "package version").
AGENT_PINS: dict[str, str] = dict(
    line.split() for line in (HERE / "agent-versions").read_text().splitlines() if line.strip() and not line.startswith("#")
)


def agent_binary(package: str, command: str) -> str:
    """The command an agent's pinned npm package installed (tests/e2e/install-agents.sh), or skip
    (fail under CI=true) when it is not there."""
    return npm_binary(package, AGENT_PINS[package], command, "tests/e2e/install-agents.sh")


def npm_binary(package: str, version: str, command: str, installer: str) -> str:
    """`command` of npm `package`@`version` as `installer` puts it in the e2e cache
    (<name>-<version>/node_modules/.bin), or skip (fail under CI=true) when it is not there."""
    binary = CACHE_ROOT / f"{package.rsplit('/', 1)[-1]}-{version}" / "node_modules" / ".bin" / command
    if not os.access(binary, os.X_OK):
        reason = f"{package} {version} not installed in {CACHE_ROOT}: run 'bash {installer}' (needs npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI these tests must run, not skip")
        pytest.skip(reason)
    return str(binary)


def binary_of(version: str) -> str | None:
    found = sorted(glob.glob(str(CACHE_ROOT / f"claude-code-{version}" / "node_modules" / "@anthropic-ai" / "claude-code-*" / "claude")))
    return found[0] if found else None


def _require(version: str) -> str:
    binary = binary_of(version)
    if binary is None or not os.access(binary, os.X_OK):
        reason = f"Claude Code {version} not installed in {CACHE_ROOT}: run 'bash tests/e2e/install-claude.sh' (needs npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI these tests must run, not skip")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="session", params=VERSIONS)
def claude_version(request: pytest.FixtureRequest) -> str:
    """Each pinned Claude Code version in turn: every test that uses it runs on each."""
    return request.param


@pytest.fixture(scope="session")
def claude_bin(claude_version: str) -> str:
    return _require(claude_version)


@pytest.fixture
def api() -> FakeApi:
    with FakeApi() as server:
        yield server


def claude_env(home: Path, path: str | None = None) -> dict[str, str]:
    """What `claude` runs with: an empty HOME, no network extras, the caller's PATH."""
    return {
        "PATH": path or os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }


@pytest.fixture
def claude(claude_bin: str, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `claude -p` in a worktree as a user would, with an empty HOME and no network extras."""
    home = tmp_path / "claude-home"
    home.mkdir()

    def _run(worktree: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [claude_bin, "-p", "say hi", *args], cwd=worktree, env=claude_env(home), capture_output=True, text=True, timeout=90
        )

    return _run


def run_agent(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 90) -> subprocess.CompletedProcess[str]:
    """Run one agent to its end in its own process group; kill the group after (or on timeout)."""
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{argv[0]} still running after {timeout}s (retrying a gateway?):\n{err[-3000:]}")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
