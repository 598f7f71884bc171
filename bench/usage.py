"""Benchmark `llmconf usage` against ccusage on generated Claude Code transcripts.

    python bench/usage.py [--size MB] [--ccusage PATH] [--json OUT] [--workdir DIR] [--keep]

Writes --size megabytes (default 1024) of transcripts in the shape Claude Code 2.1.332 writes
them (user lines with tool output between assistant lines, each message once per content
block) for 40 folders, a config folder declaring those folders as worktrees, then times, as
whole processes:
  1. `llmconf usage --json` with no index yet, and `ccusage daily --json --offline`;
  2. after 1% more lines are appended (to one file in ten), both again.
A config that llmconf has read once before is used (untimed `llmconf status`). Both must report the same token totals each time (checked, recorded under `checks`; a
mismatch exits 1). Every child runs with HOME, XDG_* and CLAUDE_CONFIG_DIR inside the work
folder and TZ=UTC: the benchmark never reads or writes your home.
Without ccusage (tests/install-tools.sh installs it) only llmconf is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101")
FOLDERS = 40
MESSAGES_PER_FILE = 200


def default_ccusage() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llmconf-e2e"
    version = (REPO / "tests" / "e2e" / "ccusage-version").read_text().strip()
    return cache / f"ccusage-{version}" / "node_modules" / ".bin" / "ccusage"


class Writer:
    """Transcript lines, made from templates (json.dumps per line would make generating 1 GB
    slower than reading it)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0
        self.filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(8192))

    def message(self, cwd: str, session: str, ts: str, model: str) -> str:
        """One user line (tool output) and the assistant lines of one message."""
        rng = self.rng
        self.serial += 1
        n = self.serial
        out = rng.randint(200, 6000)
        user = (
            '{"parentUuid":"p%d","isSidechain":false,"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_%d",'
            '"type":"tool_result","content":%s}]},"uuid":"u%d","timestamp":"%s","userType":"external","cwd":%s,"sessionId":"%s",'
            '"version":"2.1.332","gitBranch":"main"}'
        ) % (n, n, json.dumps(self.filler[:out]), n, ts, json.dumps(cwd), session)
        usage = (
            '{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d,'
            '"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard",'
            '"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":%d},"inference_geo":"","iterations":[],"speed":"standard"}'
        )
        written = rng.randint(0, 20000)
        usage %= (rng.randint(1, 50), written, rng.randint(0, 150000), rng.randint(1, 3000), written)
        lines = [user]
        for block in range(rng.randint(1, 3)):
            text = json.dumps(self.filler[: rng.randint(100, 1500)])
            lines.append(
                '{"parentUuid":"u%d","isSidechain":false,"message":{"id":"msg_%d","type":"message","role":"assistant","model":"%s",'
                '"content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":%s},'
                '"requestId":"req_%d","type":"assistant","uuid":"a%d-%d","timestamp":"%s","userType":"external","cwd":%s,'
                '"sessionId":"%s","version":"2.1.332","gitBranch":"main"}' % (n, n, model, text, usage, n, n, block, ts, json.dumps(cwd), session)
            )
        return "\n".join(lines) + "\n"


def generate(projects: Path, root: Path, size: int, rng: random.Random) -> list[Path]:
    """Transcripts of about `size` bytes under `projects`, for FOLDERS folders under `root`."""
    writer = Writer(rng)
    files: list[Path] = []
    written = 0
    i = 0
    while written < size:
        folder = root / f"wt{i % FOLDERS:02d}"
        project = projects / str(folder).replace("/", "-")
        project.mkdir(parents=True, exist_ok=True)
        path = project / f"session-{i:05d}.jsonl"
        day = 1 + i % 28
        with path.open("w") as f:
            for m in range(MESSAGES_PER_FILE):
                minute = (i * 7 + m) % 1440
                ts = f"2026-01-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:{m % 60:02d}.000Z"
                text = writer.message(str(folder), f"session-{i:05d}", ts, MODELS[(i + m) % 3])
                f.write(text)
                written += len(text)
                if written >= size:
                    break
        files.append(path)
        i += 1
    return files


def append(files: list[Path], fraction: float, rng: random.Random, root: Path) -> int:
    """About `fraction` more lines, appended to one file in ten (sessions that went on)."""
    writer = Writer(rng)
    writer.serial = 10**9  # new message IDs
    lines = sum(1 for f in files for _ in f.open("rb"))
    want = int(lines * fraction)
    added = 0
    chosen = files[::10]
    while added < want:
        for path in chosen:
            text = writer.message(str(root / "wt00"), path.stem, "2026-02-01T12:00:00.000Z", MODELS[0])
            with path.open("a") as f:
                f.write(text)
            added += text.count("\n")
            if added >= want:
                break
    return added


def _env(work: Path) -> dict[str, str]:
    home = work / "home"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"), "XDG_STATE_HOME": str(home / ".local/state"),
        "LLMCONF_SECRETS_FILE": str(home / "secrets.env"), "CLAUDE_CONFIG_DIR": str(work / "claude"), "TZ": "UTC",
    }


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in KiB, stdout) of one whole process, from fork to exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err.read().decode(errors='replace')[-2000:]}")
        return seconds, usage.ru_maxrss, out.read().decode()


def _totals_ours(out: str) -> list[int]:
    t = json.loads(out)["total"]["tokens"]
    return [t["input"], t["output"], t["cache_write_5m"] + t["cache_write_1h"], t["cache_read"]]


def _totals_theirs(out: str) -> list[int]:
    t = json.loads(out)["totals"]
    return [t["inputTokens"], t["outputTokens"], t["cacheCreationTokens"], t["cacheReadTokens"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1024, help="megabytes of transcripts (default 1024)")
    parser.add_argument("--ccusage", type=Path, default=default_ccusage(), help="the ccusage to compare with")
    parser.add_argument("--llmconf", default=f"{sys.executable} -m llmconf", help="how to run llmconf")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--workdir", type=Path, help="work here (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="llmconf-usage-bench-", dir=args.workdir))
    try:
        return _run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    rng = random.Random(17)
    projects = work / "claude" / "projects"
    trees = work / "trees"
    cfg = work / "cfg"
    cfg.mkdir(parents=True)
    (cfg / "worktrees.yaml").write_text("worktrees:\n" + "".join(f"  {trees}/wt{i:02d}: anthropic\n" for i in range(FOLDERS)))
    for i in range(FOLDERS):
        (trees / f"wt{i:02d}").mkdir(parents=True)
    start = time.perf_counter()
    files = generate(projects, trees, int(args.size * 1024 * 1024), rng)
    size = sum(f.stat().st_size for f in files)
    print(f"generated {size / 1024 / 1024:.1f} MiB in {len(files)} files ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    env = _env(work)
    ours = [*args.llmconf.split(), "-C", str(cfg), "usage", "--json"]
    theirs = [str(args.ccusage), "daily", "--json", "--offline", "--timezone", "UTC"]
    have_ccusage = os.access(args.ccusage, os.X_OK)
    if not have_ccusage:
        print(f"ccusage not found at {args.ccusage}: timing llmconf alone", file=sys.stderr)
    # A config llmconf has read before (its config and catalog caches warm), as a user's is: the
    # first run is the first over these transcripts, not the first of llmconf.
    subprocess.run([*args.llmconf.split(), "-C", str(cfg), "status"], env=env, cwd=REPO, check=True, capture_output=True)
    subprocess.run(["sync"], check=False)
    results: dict[str, Any] = {"size_bytes": size, "files": len(files), "jobs": {}, "checks": {}}
    for phase in ("first run", "re-run (+1% lines)"):
        if phase != "first run":
            added = append(files, 0.01, rng, trees)
            results["appended_lines"] = added
            subprocess.run(["sync"], check=False)
        seconds, rss, out = _timed(ours, env, REPO)
        results["jobs"][f"llmconf usage, {phase}"] = {"seconds": seconds, "max_rss_kib": rss}
        if have_ccusage:
            their_seconds, their_rss, their_out = _timed(theirs, env, REPO)
            results["jobs"][f"ccusage daily, {phase}"] = {"seconds": their_seconds, "max_rss_kib": their_rss}
            results["checks"][f"same token totals, {phase}"] = _totals_ours(out) == _totals_theirs(their_out)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(results["checks"].values()) else 1


def _print(results: dict[str, Any]) -> None:
    jobs = results["jobs"]
    print(f"{results['size_bytes'] / 1024 / 1024:.0f} MiB of transcripts in {results['files']} files")
    print(f"{'job':<40} {'seconds':>8} {'max RSS MiB':>12}")
    for name, job in jobs.items():
        print(f"{name:<40} {job['seconds']:>8.2f} {job['max_rss_kib'] / 1024:>12.0f}")
    for phase in ("first run", "re-run (+1% lines)"):
        ours, theirs = jobs.get(f"llmconf usage, {phase}"), jobs.get(f"ccusage daily, {phase}")
        if ours and theirs:
            print(f"{phase}: llmconf is {theirs['seconds'] / ours['seconds']:.1f}x as fast as ccusage")
    for name, ok in results["checks"].items():
        print(f"check: {name}: {'ok' if ok else 'FAILED'}")


if __name__ == "__main__":
    raise SystemExit(main())
