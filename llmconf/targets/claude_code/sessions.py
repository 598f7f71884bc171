"""Which Claude Code sessions run in a worktree now: after an apply, each is told it runs on
the old settings (Claude Code reads them at start), and doctor lists them.

A module of its own so that apply does not load doctor's (effective.py) for it.
"""

from __future__ import annotations

import os
from pathlib import Path


def _read_proc(path: str) -> bytes:
    """A /proc file's bytes (at most 64 KiB: a command line, a stat line)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def running_sessions(worktrees: list[Path]) -> dict[Path, list[tuple[int, float]]]:
    """claude processes whose working folder is in one of the worktrees: {worktree: [(pid, started)]}.

    Linux only (/proc); elsewhere nothing is found. `started` is a Unix time."""
    found: dict[Path, list[tuple[int, float]]] = {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        boot = next(float(line.split()[1]) for line in open("/proc/stat") if line.startswith("btime"))
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError):
        return found
    roots = sorted(worktrees, key=lambda p: len(p.parts), reverse=True)
    for pid in pids:
        # Plain os calls, not pathlib: a desktop runs hundreds of processes, and this looks at
        # each one after every apply.
        try:
            argv = _read_proc(f"/proc/{pid}/cmdline").split(b"\0")
            names = {os.path.basename(a.decode(errors="replace")) for a in argv[:2] if a}
            if not names & {"claude", "claude.exe", "cli.js"}:
                continue
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            stat = _read_proc(f"/proc/{pid}/stat").decode(errors="replace")
            started = boot + int(stat.rsplit(")", 1)[1].split()[19]) / ticks
        except (OSError, ValueError, IndexError):
            continue
        for root in roots:
            if cwd == root or root in cwd.parents:
                found.setdefault(root, []).append((pid, started))
                break
    return found
