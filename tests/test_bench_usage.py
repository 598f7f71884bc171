"""bench/usage.py runs end to end at a tiny size, so it cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import CACHE_ROOT
from tests.e2e.test_ccusage import VERSION

REPO = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "bench.json"
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    argv = [sys.executable, str(REPO / "bench" / "usage.py"), "--size", "0.5", "--json", str(out), "--workdir", str(work), *extra]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(work.iterdir()) == []  # the work folder goes
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_the_usage_bench_times_llmconf_alone_without_ccusage(tmp_path):
    report = _run(tmp_path, "--ccusage", str(tmp_path / "no-ccusage"))
    assert list(report["jobs"]) == ["llmconf usage, first run", "llmconf usage, re-run (+1% lines)"]
    assert report["checks"] == {}
    assert 0.5 * 1024 * 1024 <= report["size_bytes"] < 0.6 * 1024 * 1024
    assert report["appended_lines"] > 0
    for job in report["jobs"].values():
        assert job["seconds"] > 0 and job["max_rss_kib"] > 0


def test_the_usage_bench_checks_ccusage_counts_the_same(tmp_path):
    ccusage = CACHE_ROOT / f"ccusage-{VERSION}" / "node_modules" / ".bin" / "ccusage"
    if not ccusage.exists():
        import pytest

        pytest.skip("ccusage not installed: run 'bash tests/install-tools.sh'")
    report = _run(tmp_path, "--ccusage", str(ccusage))
    assert list(report["jobs"]) == [
        "llmconf usage, first run", "ccusage daily, first run", "llmconf usage, re-run (+1% lines)", "ccusage daily, re-run (+1% lines)",
    ]
    assert report["checks"] == {"same token totals, first run": True, "same token totals, re-run (+1% lines)": True}
