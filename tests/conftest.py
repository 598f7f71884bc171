from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmconf import cli
from llmconf import console as ui

pytest.register_assert_rewrite("tests.helpers")  # before a test module imports it

SECRET = 'sk-or-v1-TEST"quote$dollar{{jinja}}#hash space'


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real home, config, state or secrets."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("LLMCONF_SECRETS_FILE", str(home / "secrets.env"))
    # The same Claude Code rules on every machine: none installed, so the newest known.
    monkeypatch.setenv("LLMCONF_CLAUDE", str(home / "no-claude-installed"))
    for name in list(os.environ):
        if name.startswith("LLMCONF_SECRET_") or name in ("NO_COLOR", "DEMO_TOKEN", "COLUMNS"):
            monkeypatch.delenv(name)
    return home


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Create files (and their folders) under root from {relative path: text}."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@dataclass
class Result:
    code: int
    out: str
    err: str


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Local time is UTC for the test (usage counts days in local time), and back after it."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in-process from tmp_path, as a user would type it."""
    monkeypatch.chdir(tmp_path)

    def _run(*argv: str, stdin: str = "", tty: bool = False, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        out, err = io.StringIO(), io.StringIO()
        stdin_io = _Tty(stdin) if tty else io.StringIO(stdin)
        monkeypatch.setattr(ui.sys, "stdin", stdin_io)
        monkeypatch.setattr(ui.sys, "stdout", out)
        monkeypatch.setattr(ui.sys, "stderr", err)
        code = cli.main(list(argv))
        return Result(code, out.getvalue(), err.getvalue())

    return _run


def normalise(text: str, root: Path) -> str:
    """Make output stable for snapshots: the tmp root becomes <tmp>."""
    return re.sub(re.escape(str(root)), "<tmp>", text)


@pytest.fixture
def every_shipped_profile(tmp_path, run, monkeypatch):
    """Apply each shipped profile to a worktree of its own name; returns the settings by name
    (None where nothing is written). The key renders as KEY-PLACEHOLDER."""
    from llmconf.config.load import shipped_profiles_dir

    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", "KEY-PLACEHOLDER")
    names = sorted(p.stem for p in shipped_profiles_dir().glob("*.yaml"))
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n" + "".join(f"  {n}: {n}\n" for n in names)})
    for n in names:
        (tmp_path / n).mkdir()
    assert run("apply", "--yes").code == 0
    files = {n: tmp_path / n / ".claude" / "settings.local.json" for n in names}
    return {n: f.read_text() if f.exists() else None for n, f in files.items()}


@pytest.fixture
def store_secret(run):
    def _store(name: str = "openrouter", value: str = SECRET) -> None:
        assert run("secret", "set", name, stdin=value + "\n").code == 0

    return _store
