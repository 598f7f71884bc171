"""What `pip install .` puts on disk: every package, and a command that starts fast."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from llmconf import __version__

REPO = Path(__file__).resolve().parents[1]


def test_every_package_is_installed():
    """A folder of llmconf missing from the list is missing from a regular install (targets.opencode was)."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = [REPO / "llmconf", *(p for p in (REPO / "llmconf").rglob("*") if p.is_dir() and "__pycache__" not in p.parts)]
    found = {".".join(p.relative_to(REPO).parts) for p in folders}
    assert found | set(setuptools["package-dir"]) == set(setuptools["packages"])


def test_the_command_imports_only_what_its_job_needs():
    """The installed script runs main() without pip's wrapper and its `import re`: --version
    loads no module beyond the interpreter's own start-up and llmconf's two."""
    script = REPO / "scripts" / "llmconf"
    assert script.read_text().startswith("#!python\n") and os.access(script, os.X_OK)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # -S: no site, so no editable-install finder (which imports re itself) muddles the list.
    out = subprocess.run([sys.executable, "-S", "-X", "importtime", str(script), "--version"], capture_output=True, text=True, env=env)
    assert out.stdout == f"llmconf {__version__}\n"
    bare = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", "pass"], capture_output=True, text=True)
    names = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines()[1:]}
    assert names - {line.rsplit("|", 1)[1].strip() for line in bare.stderr.splitlines()[1:]} == {"llmconf", "llmconf.__main__", "__future__", "gc"}


def _help(home: Path, columns: int, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home), "COLUMNS": str(columns), "LINES": "40"}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "llmconf", *argv], capture_output=True, text=True, env=env)


def test_help_is_argparse_text_kept_per_width(tmp_path, monkeypatch):
    """--help prints what argparse prints; from the second run on, from the help cache, with
    argparse not even imported; another width is another text."""
    from llmconf import cli

    for columns in (100, 60):
        monkeypatch.setenv("COLUMNS", str(columns))
        want = cli._parser().format_help()
        first = _help(tmp_path, columns, "--help")
        assert (first.returncode, first.stdout) == (0, want)
        assert "| argparse" in first.stderr
        for argv in (["--help"], ["-h"], []):
            again = _help(tmp_path, columns, *argv)
            assert (again.returncode, again.stdout) == (0, want)
            assert "| argparse" not in again.stderr and "| re\n" not in again.stderr
    assert _help(tmp_path, 100, "--help").stdout != _help(tmp_path, 60, "--help").stdout
    # A damaged entry is a miss: the text is made again.
    (tmp_path / "llmconf" / "help.txt").write_text("junk")
    monkeypatch.setenv("COLUMNS", "60")
    assert _help(tmp_path, 60).stdout == cli._parser().format_help()
