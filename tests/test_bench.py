"""The benchmark runs end to end at a tiny size, so it cannot rot. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import sysconfig
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
    "status_again",
    "floor_status",
    "apply",
    "plan_nochange",
    "floor_plan_nochange",
    "floor_apply",
    "use",
    "floor_use",
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
    assert report["bytecode_cache"] is True and report["warm_up_rounds"] == 1
    assert "bytecode caching on" in result.stdout and "warm-up round done" in result.stderr
    # An editable install (pip install -e, as in a dev venv) is said, in the report and the output.
    purelib = Path(sysconfig.get_paths()["purelib"])
    editable = any(p.name.startswith("__editable__") and "llmconf" in p.name and p.suffix == ".pth" for p in purelib.iterdir())
    assert report["editable_install"] is editable
    assert ("llmconf is an editable install" in result.stdout) is editable
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
            "status_matches_floor": True,
            "status_again_replayed": True,
            "use_converged": True,
            "floor_use_equals_llmconf": True,
        }
        assert set(size["ratios"]) == {
            "version",
            "help",
            "plan_example",
            "plan_pending",
            "plan_nochange",
            "status",
            "status_again",
            "apply",
            "use",
        }
    assert set(report["fit"]) == {
        "plan_pending",
        "plan_nochange",
        "status",
        "apply",
        "floor_plan_pending",
        "floor_plan_nochange",
        "floor_status",
        "floor_apply",
    }
    assert [(t["target"], t["at_worktrees"]) for t in report["targets"]] == [
        ("llmconf --version vs python -c pass", 3),
        ("llmconf --help vs python -c pass", 3),
        ("no-change plan of the example config vs python -c pass", 3),
        ("plan (no change) vs the floor", 3),
        ("plan (10% pending) vs the floor", 3),
        ("status vs the floor", 3),
        ("status run again, nothing changed vs the floor", 3),
        ("apply (10% changed) vs the floor", 3),
        ("use --apply (1 worktree) vs the floor", 3),
        ("plan_nochange per-worktree cost vs the floor's", 40),
        ("apply per-worktree cost vs the floor's", 40),
        ("status per-worktree cost vs the floor's", 40),
        ("peak memory of plan/status/apply", 40),
    ]

    # Independently of the harness's own flags: the last tree it left is the fleet as made (4 of 40
    # differ, one of them without a file); the floor applies it by hand, and llmconf finds it converged.
    bench = _bench_module()
    (root,) = work.glob("llmconf-bench-40-*")
    manifest = root / "floor-manifest.json"
    floor = [sys.executable, str(REPO / "bench" / "floor.py")]
    assert len(list((root / "wt").glob("*/.claude/settings.local.json"))) == 39
    subprocess.run([*floor, "apply", str(manifest)], check=True, capture_output=True)
    assert len(list((root / "wt").glob("*/.claude/settings.local.json"))) == 40
    plan = [*bench.llmconf_command(), "-C", str(root / "config"), "plan", "--detailed-exitcode"]
    check = subprocess.run(plan, env=bench.child_env(root), capture_output=True, text=True)
    assert (check.returncode, check.stdout.strip()) == (0, "No changes.")

    # The floor's status and use, run by hand on that converged tree, do what they say.
    lines = subprocess.run([*floor, "status", str(manifest)], capture_output=True, text=True).stdout.splitlines()
    assert lines[0].split() == ["WORKTREE", "PROFILE", "BACKEND", "HAIKU", "SONNET", "OPUS", "DEFAULT", "SUBAGENT", "STATE"]
    assert [line.split()[0] for line in lines[1:]] == [f"wt-{i:05d}" for i in range(40)]
    assert {line.split()[-1] for line in lines[1:]} == {"in-sync"}
    use = json.loads(manifest.read_text())["use"]
    subprocess.run([*floor, "use", str(manifest)], check=True, capture_output=True)
    declared = (root / "config" / "worktrees.yaml").read_text().splitlines()
    assert use["new"] in declared and use["old"] not in declared
    written = json.loads(Path(use["worktree"]["settings"]).read_text())
    assert all(written["env"][k[4:]] == v for k, v in use["worktree"]["set"].items())
    check = subprocess.run(plan, env=bench.child_env(root), capture_output=True, text=True)
    assert (check.returncode, check.stdout.strip()) == (0, "No changes.")
