"""status fits the terminal (issue 13, trap 10): shorter cells, then fewer columns, then cut
cells, with a line saying what was left out; --wide and a pipe get every column in full."""

from __future__ import annotations

import io

import pytest

from tests.conftest import write_tree

GATEWAY = (
    "base_url: https://openrouter.ai/api\n"
    "models: {haiku: mistralai/devstral-2512, sonnet: qwen/qwen3-coder:exacto, opus: anthropic/claude-opus-4.5}\n"
)
WIDE_HEADER = "WORKTREE       PROFILE    BACKEND                    HAIKU                    SONNET                   OPUS"


@pytest.fixture
def fleet(tmp_path):
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n  feature-login: gw\n  main: anthropic\n",
            "profiles/gw.yaml": GATEWAY,
            "feature-login/.keep": "",
            "main/.keep": "",
        },
    )
    return tmp_path


def _table(out: str) -> list[str]:
    return out.split("\n\n")[0].splitlines()  # the worktree table, before the profiles table


def test_at_80_columns_status_shortens_then_drops_columns_and_says_which(fleet, run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run("status")
    assert result.code == 0, result.err
    assert _table(result.out) == [
        "WORKTREE       PROFILE    BACKEND        DEFAULT           STATE    EFFECTIVE",
        "feature-login  gw         openrouter.ai  claude-opus-4.5…  missing  differs",
        "main           anthropic  direct         - (opus)          in-sync  as declared",
        "(fitted to 80 columns: haiku, opus, sonnet, cost hidden; --wide shows all)",
    ]


def test_with_room_to_spare_only_the_cells_shorten_and_every_column_stays(fleet, run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    lines = _table(run("status").out)
    assert lines[0].split() == [
        "WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "DEFAULT", "COST", "STATE", "EFFECTIVE",
    ]
    assert lines[1].split()[:6] == ["feature-login", "gw", "openrouter.ai", "devstral-2512", "qwen3-coder:exacto", "claude-opus-4.5"]
    assert lines[-1] == "(fitted to 150 columns; --wide shows all)"
    assert max(map(len, lines)) <= 150


def test_a_narrow_terminal_drops_the_backend_last_and_cuts_cells_keeping_state_and_effective(fleet, run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    lines = _table(run("status").out)
    assert lines[:3] == [
        "WORKTREE  PROFILE   DEFAULT   STATE    EFFECTIVE",
        "feature…  gw        claude-…  missing  differs",
        "main      anthrop…  - (opus)  in-sync  as declared",
    ]
    assert lines[3] == "(fitted to 50 columns: haiku, opus, sonnet, cost, backend hidden; --wide shows all)"


@pytest.mark.parametrize("argv", [("status", "--wide"), ("status",)], ids=["wide", "pipe"])
def test_wide_and_a_pipe_get_every_column_in_full(fleet, run, monkeypatch, argv):
    if argv == ("status", "--wide"):
        monkeypatch.setenv("COLUMNS", "80")  # --wide wins over a narrow terminal
    lines = _table(run(*argv).out)  # the run fixture's stdout is no terminal: a pipe
    assert lines[0].startswith(WIDE_HEADER)
    assert "https://openrouter.ai/api" in lines[1] and "anthropic/claude-opus-4.5 (opus)" in lines[1]
    assert not lines[-1].startswith("(fitted")


def test_on_a_terminal_without_columns_the_terminal_width_is_used(fleet, run, monkeypatch):
    import shutil

    from llmconf import console

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(shutil, "get_terminal_size", lambda: shutil.os.terminal_size((80, 24)))
    ui = console.Ui(stdout=Terminal())
    assert ui.width() == 80
    assert console.Ui(stdout=io.StringIO()).width() is None
    monkeypatch.setenv("COLUMNS", "100")
    assert console.Ui(stdout=io.StringIO()).width() == 100  # set by hand: honoured even in a pipe
