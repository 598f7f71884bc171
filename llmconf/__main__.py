"""`llmconf` as a process: the one place with a process-wide policy."""

from __future__ import annotations

import gc
import sys


def main() -> int:
    """Run the CLI with the cyclic garbage collector off (as Mercurial's nogc does).

    Loading and planning thousands of worktrees allocates a few hundred thousand containers
    that live until the command ends, and form no reference cycles. With the collector on,
    CPython walks every live container again each time enough pile up: about 100 ms of an
    850 ms plan at 10,000 worktrees, for nothing. Reference counting still frees everything;
    a short-lived command does not feel the cycles it leaves. The library itself (and a test
    calling cli.main in-process) never touches the collector.
    """
    if sys.argv[1:] == ["--version"]:  # what argparse would print, without importing it
        from llmconf import __version__

        sys.stdout.write(f"llmconf {__version__}\n")
        return 0
    gc.disable()
    _english_argparse()
    from llmconf.cli import main as cli_main

    return cli_main(sys.argv[1:])


def _english_argparse() -> None:
    """argparse's own words ("usage:", "options") as written, as all of llmconf's are.

    argparse passes each through gettext, which searches the disk for a message catalogue on
    every call (Python ships none for argparse): 76 searches to build one command's parser, a
    tenth of a cached plan's instructions at 10 worktrees. Only the process entry point does
    this; a program that imports llmconf.cli keeps its own argparse as it was.
    """
    import argparse

    argparse._ = str  # type: ignore[attr-defined]
    argparse.ngettext = lambda singular, plural, n: singular if n == 1 else plural  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
