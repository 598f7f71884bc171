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
    if sys.argv[1:] in ([], ["--help"], ["-h"]):
        return _help()
    gc.disable()
    argv = sys.argv[1:]
    from llmconf import replay

    recorder = None
    if replay.wanted(argv):  # plan or status: the last run's output, when nothing it read changed
        code = replay.replay(argv)
        if code is not None:
            return code
        from llmconf.recorder import Recorder, record

        try:
            recorder = Recorder(argv)
        except OSError:  # no working folder (deleted under the shell): nothing to key a record on
            pass
        else:
            recorder.start()  # before llmconf's modules are imported: they may keep os.environ
    _english_argparse()
    from llmconf import cli

    try:
        args = cli._parse(argv)
    except BaseException:  # a usage error (SystemExit) is not recorded
        if recorder is not None:
            recorder.stop()
        raise
    if recorder is not None and args.command not in replay.COMMANDS:
        recorder.stop()
        recorder = None
    return cli.run(args) if recorder is None else record(recorder, lambda: cli.run(args))


def _help() -> int:
    """llmconf's own help, as argparse prints it, from the help cache when it holds the text
    for this build of cli.py, this Python and this width; else made by argparse and kept.

    argparse (and the re and gettext it imports) is two thirds of a --help: a kept text is
    printed with nothing imported. The text depends only on the command table in cli.py (its
    size and mtime are in the key, as in a .pyc's), on the Python (argparse's layout), and on
    the width argparse wraps to (found as shutil.get_terminal_size finds it)."""
    import os

    from llmconf import __version__, replay

    cli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli.py")
    try:
        st = os.stat(cli)
    except OSError:
        st = None
    key = f"{__version__} {sys.version!r} {st and (st.st_mtime_ns, st.st_size)} {replay.terminal_columns()}\n"
    path = os.path.join(replay.cache_root(), "help.txt")
    raw = replay.read_private(path, 65536)
    try:
        kept = None if raw is None else raw.decode("utf-8")
    except UnicodeDecodeError:
        kept = None
    if kept is not None and kept.startswith(key):
        sys.stdout.write(kept[len(key) :])
        return 0
    _english_argparse()
    from llmconf import caches
    from llmconf.cli import _parser

    text = _parser(None).format_help()  # the top level's help lists the commands, not their arguments
    caches.write_text(path, key + text)
    sys.stdout.write(text)
    return 0


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
