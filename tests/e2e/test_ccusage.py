"""llmconf usage counts the same tokens as ccusage (the popular Node tool) on the same
transcripts: per day and per model, duplicates, a garbled and a truncated line included.

ccusage is installed by tests/install-tools.sh (version in tests/e2e/ccusage-version); without
it this test skips, and under CI=true it fails.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

from tests.conftest import write_tree
from tests.e2e.conftest import npm_binary
from tests.transcripts import CLAUDE_MODELS, Expected, assistant_line, project_folder, random_usage, write_session

VERSION = (Path(__file__).parent / "ccusage-version").read_text().strip()


def ccusage_bin() -> str:
    return npm_binary("ccusage", VERSION, "ccusage", "tests/install-tools.sh")


def _ccusage(binary: str, config: Path, *argv: str) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(config.parent), "CLAUDE_CONFIG_DIR": str(config), "TZ": "UTC"}
    done = subprocess.run([binary, *argv, "--json", "--offline", "--timezone", "UTC"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_usage_counts_what_ccusage_counts(tmp_path, run, monkeypatch, utc):
    binary = ccusage_bin()
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n  ../b: anthropic\n", "a/.keep": "", "b/.keep": ""})
    projects = config / "projects"
    rng = random.Random(2026)
    expected = Expected()
    files = []
    for i in range(8):
        cwd = str(tmp_path / ("a" if i % 2 else "b")) + ("/sub" if i % 3 == 0 else "")
        path = project_folder(projects, cwd) / f"s{i}.jsonl"
        files.append(path)
        write_session(path, rng, cwd, f"s{i}", CLAUDE_MODELS[i % 3 :] + CLAUDE_MODELS[: i % 3], f"2026-01-0{1 + i % 4}", 25, expected,
                      start_minute=30 * i)
    # A resumed session's copy of an earlier message, a garbled line, messages without a
    # request ID (counted at every line by both), and a last line cut short.
    copied = files[0].read_text().splitlines()[5]
    usage = random_usage(rng)
    no_id = assistant_line(str(tmp_path / "a"), "s1", "2026-01-02T12:00:00.000Z", CLAUDE_MODELS[0], usage, "m-noid", None)
    with files[1].open("a") as f:
        f.write(copied + "\n" + '{"message":{"usage":{"input_tokens":\n' + no_id + "\n" + no_id + "\n")
    for _ in range(2):
        expected.add(str(tmp_path / "a"), "s1", CLAUDE_MODELS[0], "2026-01-02", usage)
    cut = assistant_line(str(tmp_path / "b"), "s2", "2026-01-03T12:00:00.000Z", CLAUDE_MODELS[1], usage, "m-cut", "r-cut")
    with files[2].open("a") as f:
        f.write(cut[:200])

    ours = run("-C", str(tmp_path / "cfg"), "usage", "--by", "day", "--json")
    assert ours.code == 0, ours.err
    by_day = {r["day"]: r["tokens"] for r in json.loads(ours.out)["rows"]}
    theirs = _ccusage(binary, config, "daily")
    their_days = {
        d["date"]: {"input": d["inputTokens"], "output": d["outputTokens"], "cache_write": d["cacheCreationTokens"], "cache_read": d["cacheReadTokens"]}
        for d in theirs["daily"]
    }
    assert {day: _same_shape(t) for day, t in by_day.items()} == their_days
    # Both agree with the sums worked out as the files were written.
    total = expected.total()
    assert theirs["totals"]["inputTokens"] == total[0] and theirs["totals"]["outputTokens"] == total[1]
    assert theirs["totals"]["cacheCreationTokens"] == total[2] + total[3] and theirs["totals"]["cacheReadTokens"] == total[4]

    by_model = {r["model"]: _same_shape(r["tokens"]) for r in json.loads(run("-C", str(tmp_path / "cfg"), "usage", "--by", "model", "--json").out)["rows"]}
    their_models: dict[str, dict[str, int]] = {}
    for d in theirs["daily"]:
        for m in d["modelBreakdowns"]:
            row = their_models.setdefault(m["modelName"], {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0})
            for ours_name, their_name in (("input", "inputTokens"), ("output", "outputTokens"), ("cache_write", "cacheCreationTokens"), ("cache_read", "cacheReadTokens")):
                row[ours_name] += m[their_name]
    assert by_model == their_models
    assert sorted(by_model) == sorted(CLAUDE_MODELS)
    sessions = _ccusage(binary, config, "session")
    ours_total = json.loads(ours.out)["total"]["tokens"]
    assert _same_shape(ours_total) == {
        "input": sessions["totals"]["inputTokens"], "output": sessions["totals"]["outputTokens"],
        "cache_write": sessions["totals"]["cacheCreationTokens"], "cache_read": sessions["totals"]["cacheReadTokens"],
    }


def _same_shape(tokens: dict) -> dict[str, int]:
    """Ours as ccusage counts them: one cache-write figure."""
    return {
        "input": tokens["input"], "output": tokens["output"], "cache_write": tokens["cache_write_5m"] + tokens["cache_write_1h"],
        "cache_read": tokens["cache_read"],
    }
