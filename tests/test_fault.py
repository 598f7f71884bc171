"""SIGKILL in the middle of `llmconf apply`: every settings file is its old or its new version.

One config declares 44 worktrees, 40 with a settings file grown by hand (permissions, hooks,
other env vars, an old switch script's keys, in several layouts) and 4 without one; a full
apply changes every one of them. Each trial puts the old files back, starts
`python -m llmconf apply --yes`, kills it with SIGKILL after a random delay spread over the
time apply spends writing, and checks what is on disk: every file byte-equal (and
mode-equal) to its old or its new version, so valid JSON and never partial; nothing extra
but the temp files an atomic write may leave behind; and the next apply converges.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SECRET

GROWN = 40  # worktrees with a hand-grown settings file
FRESH = 4  # worktrees without one: apply creates it
TRIALS = 52
SEED = 20260124
SETTINGS = Path(".claude/settings.local.json")
# What fs.write_atomic names its temp file; a SIGKILL between creating and renaming it leaves one.
TEMP = re.compile(r"\.settings\.local\.json\..+\.tmp")

GATEWAY = """\
base_url: https://openrouter.ai/api
auth_token: "{{ secret('gw') }}"
models:
  haiku: mistralai/devstral-2512
  sonnet: "qwen/qwen3-coder:{{ worktree.name }}"
  opus: anthropic/claude-opus-4.5
env: {API_TIMEOUT_MS: "600000"}
"""
DIRECT = "default: opus\n"  # Anthropic direct: the old gateway keys go


def _grown(i: int) -> str:
    """A settings file as people grow them: the old switch script's keys amid their own, in varied layouts."""
    doc = {
        "permissions": {"allow": [f"Bash(npm run test:{i}*)", "Read(~/.zshrc)"], "deny": ["Bash(rm -rf:*)"]},
        "env": {
            "BASH_DEFAULT_TIMEOUT_MS": str(1000 * i),
            "ANTHROPIC_BASE_URL": "https://openrouter.ai/api",
            "ANTHROPIC_AUTH_TOKEN": f"sk-old-{i}",
            "ANTHROPIC_DEFAULT_SONNET_MODEL": "qwen/qwen3-coder-480b-a35b",
            "MY_VAR": "ünïcode ✓",
        },
        "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "make fmt"}]}]},
        "includeCoAuthoredBy": i % 2 == 0,
    }
    if i % 3 == 0:
        doc["env"]["ANTHROPIC_MODEL"] = "anthropic/claude-opus-4"  # a stray one llmconf removes
    indent = (2, 4, "\t", None)[i % 4]
    text = json.dumps(doc, indent=indent, ensure_ascii=i % 5 == 0) + "\n"
    return text.replace("\n", "\r\n") if i % 7 == 0 else text


@dataclass(frozen=True)
class Version:
    data: bytes | None  # None: no file
    mode: int | None

    @classmethod
    def of(cls, path: Path) -> Version:
        try:
            return cls(path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            return cls(None, None)


@dataclass
class Fleet:
    cfg: Path
    state: Path  # $XDG_STATE_HOME/llmconf
    env: dict[str, str]
    files: list[Path]  # every worktree's settings file
    old: dict[Path, Version]
    new: dict[Path, Version]

    def reset(self) -> None:
        """Back to before any apply: old bytes and modes, no temp files, no state."""
        shutil.rmtree(self.state, ignore_errors=True)
        for path in self.files:
            for temp in path.parent.glob(".settings.local.json.*.tmp"):
                temp.unlink()
            old = self.old[path]
            if old.data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(old.data)
                os.chmod(path, old.mode)  # type: ignore[arg-type]

    def start(self) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "llmconf", "-C", str(self.cfg), "apply", "--yes"]
        return subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def extra_files(self, expected: set[Path]) -> list[Path]:
        """Files under the config folder that are neither config nor a settings file."""
        return sorted(p for p in self.cfg.rglob("*") if p.is_file() and p not in expected)


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> Fleet:
    home = tmp_path / "home"
    for name, value in {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_STATE_HOME": home / ".local/state",
        "LLMCONF_SECRETS_FILE": home / "secrets.env",
    }.items():
        monkeypatch.setenv(name, str(value))
    cfg = tmp_path / "cfg"
    (cfg / "profiles").mkdir(parents=True)
    (cfg / "profiles/gw.yaml").write_text(GATEWAY)
    (cfg / "profiles/direct.yaml").write_text(DIRECT)
    lines, files = ["worktrees:"], []
    for i in range(GROWN + FRESH):
        name = f"wt{i:02d}"
        lines.append(f"  {name}: {'direct' if i % 4 == 1 and i < GROWN else 'gw'}")
        (cfg / name / ".claude").mkdir(parents=True)
        if i < GROWN:
            (cfg / name / SETTINGS).write_text(_grown(i), newline="")
            os.chmod(cfg / name / SETTINGS, 0o644)
        files.append(cfg / name / SETTINGS)
    (cfg / "worktrees.yaml").write_text("\n".join(lines) + "\n")
    assert run("secret", "set", "gw", stdin=SECRET + "\n").code == 0

    old = {p: Version.of(p) for p in files}
    applied = run("-C", str(cfg), "apply", "--yes")  # the one clean apply that says what "new" is
    assert applied.code == 0, applied.err
    assert applied.out.splitlines()[-1] == f"Apply complete: 294 added, 60 changed, 44 removed, 30 file modes made 0600 (in {GROWN + FRESH} files).", applied.out  # 4 labels per gw worktree; the grown 0644 files with a key
    new = {p: Version.of(p) for p in files}
    assert all(old[p] != new[p] and new[p].data is not None for p in files)
    token = json.dumps(SECRET)[1:-1].encode()
    assert all((new[p].mode == 0o600) == (token in new[p].data) for p in files)  # type: ignore[operator]
    state = home / ".local/state/llmconf"
    return Fleet(cfg, state, dict(os.environ), files, old, new)


def _calibrate(fleet: Fleet) -> tuple[float, float, float]:
    """When an unkilled apply first and last replaces a settings file, and when it ends (seconds)."""
    fleet.reset()
    before = {p: (p.stat().st_ino if p.exists() else None) for p in fleet.files}
    seen: dict[Path, float] = {}
    start = time.monotonic()
    proc = fleet.start()
    while proc.poll() is None:
        for path in fleet.files:
            if path not in seen:
                try:
                    ino = path.stat().st_ino
                except FileNotFoundError:
                    continue
                if ino != before[path]:  # an atomic write renames a new inode over the old one
                    seen[path] = time.monotonic() - start
        time.sleep(0.0005)
    end = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr.close()  # type: ignore[union-attr]
    assert {p: Version.of(p) for p in fleet.files} == fleet.new
    times = sorted(seen.values()) or [end]
    return times[0], times[-1], end


def _replaced(before: dict[Path, int | None]) -> int:
    """How many of these files an atomic write has replaced (a new inode) since `before`."""
    n = 0
    for path, ino in before.items():
        try:
            n += path.stat().st_ino != ino
        except FileNotFoundError:
            pass
    return n


def test_sigkill_during_apply_leaves_each_file_old_or_new_and_the_next_apply_converges(fleet: Fleet, run):
    runs = [_calibrate(fleet) for _ in range(2)]
    first, last, end = (min(r[0] for r in runs), max(r[1] for r in runs), max(r[2] for r in runs))
    rng = random.Random(SEED)
    expected = {fleet.cfg / "worktrees.yaml", *fleet.cfg.glob("profiles/*.yaml"), *fleet.files}
    outcomes: list[tuple[float, int]] = []  # (delay, how many files were new)
    temps = 0  # trials that left a temp file behind
    for trial in range(TRIALS):
        fleet.reset()
        # Three trials in four kill apply as it writes settings files: once the k-th file is
        # replaced, k at random (watched, not timed, so that a loaded machine cannot make the
        # kills miss). The rest kill after a random delay from start-up to past the end (while
        # loading, saving state or backing up, or not at all).
        watch = trial % 4 != 0
        k = rng.randint(1, len(fleet.files) - 1)
        delay = rng.uniform(0, end * 1.1)
        before = {p: (p.stat().st_ino if p.exists() else None) for p in fleet.files}
        proc = fleet.start()
        if watch:
            start = time.monotonic()
            while proc.poll() is None and _replaced(before) < k:
                time.sleep(0.0002)
            delay = time.monotonic() - start
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]
        assert proc.returncode in (-signal.SIGKILL, 0), f"trial {trial}: exit {proc.returncode}"

        now = {p: Version.of(p) for p in fleet.files}
        for path, version in now.items():
            where = f"trial {trial} (delay {delay:.3f}s): {path.relative_to(fleet.cfg)}"
            assert version in (fleet.old[path], fleet.new[path]), f"{where} is neither its old nor its new version"
            if version.data is not None:
                assert isinstance(json.loads(version.data), dict), where
        extra = fleet.extra_files(expected)
        assert all(TEMP.fullmatch(p.name) and p.parent.name == ".claude" for p in extra), f"trial {trial}: {extra}"
        temps += bool(extra)
        outcomes.append((delay, sum(now[p] == fleet.new[p] for p in fleet.files)))

        converged = run("-C", str(fleet.cfg), "apply", "--yes")
        assert converged.code == 0, f"trial {trial}: {converged.err}"
        settled = run("-C", str(fleet.cfg), "plan", "--detailed-exitcode")
        assert settled.code == 0, f"trial {trial}: {settled.out}{settled.err}"
        assert {p: Version.of(p) for p in fleet.files} == fleet.new, f"trial {trial}: not converged"
        assert fleet.extra_files(expected) == []  # the next apply cleared what the kill left

    total = len(fleet.files)
    mixed = [o for o in outcomes if 0 < o[1] < total]
    summary = f"writes at {first:.3f}-{last:.3f}s of {end:.3f}s; {temps} left a temp file; (delay, new): {outcomes}"
    assert len(mixed) >= 5, f"too few trials killed apply mid-write, the test proves little: {summary}"
