"""The benchmark runs end to end at a tiny size, so it cannot rot. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "run.py"
JOBS = {
    "python_pass",
    "version",
    "help",
    "plan_example",
    "plan_pending",
    "floor_plan_pending",
    "status",
    "apply",
    "plan_nochange",
    "floor_plan_nochange",
    "floor_apply",
}


def _bench_module() -> ModuleType:
    # bench/ is a folder of scripts, not a package: load run.py by path for its helpers.
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_checks_and_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    work = tmp_path / "work"
    work.mkdir()
    # 3 worktrees hold one that differs; 40 hold one of each kind of difference (change, add, remove, create).
    argv = [sys.executable, str(BENCH), "--sizes", "3,40", "--runs", "1", "--json", str(out)]
    result = subprocess.run(
        [*argv, "--workdir", str(work), "--keep"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())

    assert report["format_version"] == "1"
    assert report["checks_passed"] is True
    assert [s["worktrees"] for s in report["sizes"]] == [3, 40]
    assert [s["differ"] for s in report["sizes"]] == [1, 4]
    for size in report["sizes"]:
        assert set(size["jobs"]) == JOBS
        for job in size["jobs"].values():
            assert len(job["runs_s"]) == 1
            assert job["min_s"] <= job["median_s"] <= job["max_s"]
            assert job["max_rss_mib"] > 0
        assert size["checks"] == {
            "example_converged": True,
            "plan_matches_fixture": True,
            "apply_converged": True,
            "floor_equals_llmconf_bytes": True,
            "floor_equals_llmconf_json": True,
            "floor_converged_for_llmconf": True,
        }
        assert set(size["ratios"]) == {"version", "help", "plan_pending", "plan_nochange", "status", "apply"}
    assert set(report["fit"]) == {
        "plan_pending",
        "plan_nochange",
        "status",
        "apply",
        "floor_plan_pending",
        "floor_plan_nochange",
        "floor_apply",
    }
    assert [t["target"] for t in report["targets"]] == [
        "llmconf --version vs python -c pass",
        "llmconf --help vs python -c pass",
        "no-change plan of the example config",
        "plan per-worktree cost vs floor's",
        "apply (10% changed) wall time vs floor's",
        "peak memory of plan/status/apply",
    ]
    assert "targets (judged at 40 worktrees; the issue sets them at 10,000)" in result.stdout.splitlines()

    # Independently of the harness's own flags: the last tree it left (floor-applied) is one llmconf
    # finds converged, and the fleet of 40 really is 40 settings files.
    bench = _bench_module()
    (root,) = work.glob("llmconf-bench-40-*")
    assert len(list((root / "wt").glob("*/.claude/settings.local.json"))) == 40
    check = subprocess.run(
        [*bench.llmconf_command(), "-C", str(root / "config"), "plan", "--detailed-exitcode"],
        env=bench.child_env(root),
        capture_output=True,
        text=True,
    )
    assert (check.returncode, check.stdout.strip()) == (0, "No changes.")
