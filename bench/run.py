"""Benchmark llmconf against the floor: whole processes, interleaved, at several fleet sizes.

    python bench/run.py [--sizes 10,100,1000,10000] [--runs 3] [--json OUT]

For each size N it builds, in a temp folder, N worktrees whose .claude/settings.local.json
hold what a real one does (permissions, hooks, other env vars), a config folder whose
worktrees.yaml declares them all under a few profiles (with `extends`, templates, a secret
and per-worktree overrides), and a manifest of the same desired state for bench/floor.py.
10% of the settings files differ from the declared state (a changed, a missing and a stray
key, and a missing file, in turn).

The children run as users run them: with bytecode caching on (PYTHONDONTWRITEBYTECODE, which
CI machines often set, is dropped from their environment), after one untimed warm-up round
that also compiles llmconf's modules.

Each round runs every job once, in the same order, so drift in the machine (thermal, other
load) hits every job alike; --runs rounds give min/median/max, and a ratio is the median of
each round's ratio (paired runs). The tree is put back before
each `apply` (untimed, then `sync` so the next fsync pays only for its own writes). Each job
is a whole process timed from fork to exit, with its peak RSS from os.wait4; a small helper
process forks them (see _SPAWNER), so that the harness's own memory is not counted as theirs.

Every child gets HOME, XDG_* and LLMCONF_SECRETS_FILE inside the temp folder, and the one
secret (a placeholder) is in that store: the benchmark never touches the real home.

Correctness is checked in the warm-up round and recorded in the JSON: llmconf's pending plan
names exactly the files the harness made differ; after llmconf's apply, `plan
--detailed-exitcode` exits 0; the floor writes the same files (parsed, and byte for byte) as
llmconf; and llmconf finds the floor's output converged too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import marshal
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FLOOR = Path(__file__).resolve().parent / "floor.py"
FORMAT_VERSION = "1"
MIB = 1024 * 1024

#: The one secret the profiles read (secret('bench')); a placeholder, kept in the children's store.
TOKEN = "bench-placeholder-not-a-key"
TEAM = "bench"

# --- the fixture: profiles, worktrees, settings files ------------------------------------

# Profiles as flattened fields {field path: value}, as llmconf's loader sees them; `None`
# unsets what a parent set. The harness writes them as YAML and also computes, on its own,
# what llmconf should render from them: the floor's manifest and the checks both rest on it.
_PROFILES: dict[str, dict[str, Any]] = {
    "bench-gateway": {
        "extends": None,
        "yaml": (
            "description: the bench gateway; its key comes from the secret store\n"
            "base_url: https://openrouter.ai/api\n"
            "auth_token: \"{{ secret('bench') }}\"\n"
            # The floor cannot read the catalog (YAML), so it writes no /model labels from it.
            "catalog_info: false\n"
            "env:\n"
            "  API_TIMEOUT_MS: 600000\n"
            '  OTEL_RESOURCE_ATTRIBUTES: "team={{ vars.team }},worktree={{ worktree.name }}"\n'
        ),
        "fields": {
            ("base_url",): "https://openrouter.ai/api",
            ("auth_token",): "{{ secret('bench') }}",
            ("env", "API_TIMEOUT_MS"): "600000",
            ("env", "OTEL_RESOURCE_ATTRIBUTES"): "team={{ vars.team }},worktree={{ worktree.name }}",
        },
    },
    "qwen": {
        "extends": "bench-gateway",
        "yaml": (
            "description: Qwen3-Coder through the gateway\n"
            "extends: bench-gateway\n"
            "models:\n"
            "  haiku: mistralai/devstral-2512\n"
            "  sonnet: qwen/qwen3-coder:exacto\n"
            "  opus: anthropic/claude-opus-4.5\n"
            "subagent: qwen/qwen3-coder:exacto\n"
        ),
        "fields": {
            ("models", "haiku"): "mistralai/devstral-2512",
            ("models", "sonnet"): "qwen/qwen3-coder:exacto",
            ("models", "opus"): "anthropic/claude-opus-4.5",
            ("subagent",): "qwen/qwen3-coder:exacto",
        },
    },
    "deepseek": {
        "extends": "bench-gateway",
        "yaml": (
            "description: DeepSeek V3.2 in every slot\n"
            "extends: bench-gateway\n"
            "models: {haiku: deepseek/deepseek-v3.2, sonnet: deepseek/deepseek-v3.2, opus: deepseek/deepseek-v3.2}\n"
            "default: opus\n"
        ),
        "fields": {
            ("models", "haiku"): "deepseek/deepseek-v3.2",
            ("models", "sonnet"): "deepseek/deepseek-v3.2",
            ("models", "opus"): "deepseek/deepseek-v3.2",
            ("default",): "opus",
        },
    },
    "glm": {
        "extends": "qwen",
        "yaml": (
            "# a child profile that unsets what its parent set (null)\n"
            "description: GLM-4.7 for sonnet, the rest as qwen\n"
            "extends: qwen\n"
            "models: {sonnet: z-ai/glm-4.7}\n"
            "env: {API_TIMEOUT_MS: null}\n"
        ),
        "fields": {("models", "sonnet"): "z-ai/glm-4.7", ("env", "API_TIMEOUT_MS"): None},
    },
    "direct": {
        "extends": None,
        "yaml": (
            "description: Anthropic direct, opus by default\n"
            "default: opus\n"
            "env:\n"
            '  DISABLE_NON_ESSENTIAL_MODEL_CALLS: "1"\n'
        ),
        "fields": {("default",): "opus", ("env", "DISABLE_NON_ESSENTIAL_MODEL_CALLS"): "1"},
    },
}
_ASSIGNED = ("qwen", "deepseek", "glm", "direct")

#: The keys llmconf owns in every worktree, whatever its profile (llmconf/target.py BACKEND_VARS).
_SLOTS = ("haiku", "sonnet", "opus")
_BACKEND_KEYS = (
    "env.ANTHROPIC_BASE_URL",
    "env.ANTHROPIC_AUTH_TOKEN",
    "env.ANTHROPIC_API_KEY",
    *(f"env.ANTHROPIC_DEFAULT_{s.upper()}_MODEL" for s in _SLOTS),
    "env.CLAUDE_CODE_SUBAGENT_MODEL",
    "env.ANTHROPIC_MODEL",
    "env.ANTHROPIC_SMALL_FAST_MODEL",
)

# How the 10% that differ differ, in turn: a stale value, a missing key, a stray key, no file.
_DIFF_KINDS = ("change", "add", "remove", "create")


@dataclasses.dataclass
class Worktree:
    name: str
    folder: Path
    profile: str
    overrides: dict[tuple[str, ...], str]
    overrides_yaml: list[str]
    desired: dict[str, str]  # settings key ("env.X" or "model") -> value, in llmconf's order
    text: str | None  # the settings file as made (None: no file)
    diff: str | None  # which of _DIFF_KINDS, or None when in sync

    @property
    def settings(self) -> Path:
        return self.folder / ".claude" / "settings.local.json"


def _resolve(profile: str) -> dict[tuple[str, ...], Any]:
    chain = []
    name: str | None = profile
    while name is not None:
        chain.append(_PROFILES[name])
        name = _PROFILES[name]["extends"]
    fields: dict[tuple[str, ...], Any] = {}
    for layer in reversed(chain):
        fields = _merge(fields, layer["fields"])
    return fields


def _merge(base: dict[tuple[str, ...], Any], layer: dict[tuple[str, ...], Any]) -> dict[tuple[str, ...], Any]:
    out = dict(base)
    for key, value in layer.items():
        if value is None:  # null unsets the field (or every key under it)
            for k in [k for k in out if k[: len(key)] == key]:
                del out[k]
        else:
            out[key] = value
    return out


def _render(text: str, name: str) -> str:
    # The only template forms the bench profiles use; anything else would be a harness bug.
    out = text.replace("{{ secret('bench') }}", TOKEN)
    out = out.replace("{{ vars.team }}", TEAM).replace("{{ worktree.name }}", name)
    assert "{{" not in out, text
    return out


def _desired(fields: dict[tuple[str, ...], Any], name: str) -> dict[str, str]:
    """What llmconf renders, in its order (targets/claude_code/settings.py to_keys), for the
    newest Claude Code: a default goes to ANTHROPIC_DEFAULT_MODEL."""
    f = {k: _render(v, name) for k, v in fields.items()}
    keys: dict[str, str] = {}
    if ("base_url",) in f:
        keys["env.ANTHROPIC_BASE_URL"] = f[("base_url",)]
        if ("auth_token",) in f:
            keys["env.ANTHROPIC_AUTH_TOKEN"] = f[("auth_token",)]
            keys["env.ANTHROPIC_API_KEY"] = ""
    for slot in _SLOTS:
        if ("models", slot) in f:
            keys[f"env.ANTHROPIC_DEFAULT_{slot.upper()}_MODEL"] = f[("models", slot)]
    if ("subagent",) in f:
        keys["env.CLAUDE_CODE_SUBAGENT_MODEL"] = f[("subagent",)]
    if ("default",) in f:
        keys["env.ANTHROPIC_DEFAULT_MODEL"] = f[("default",)]
    for k, v in f.items():
        if k[0] == "env":
            keys[f"env.{k[1]}"] = v
    return keys


def _overrides(i: int) -> tuple[dict[tuple[str, ...], str], list[str]]:
    """Per-worktree overrides for some worktrees, as fields and as worktrees.yaml lines."""
    fields: dict[tuple[str, ...], str] = {}
    lines = []
    if i % 7 == 0:
        fields[("models", "sonnet")] = "z-ai/glm-4.7"
        lines.append("    models: {sonnet: z-ai/glm-4.7}")
    env = {}
    if i % 13 == 0:
        env["BENCH_SHARD"] = "{{ worktree.name }}-shard"
    if i % 19 == 0:
        env["API_TIMEOUT_MS"] = "900000"
    if env:
        fields.update({("env", k): v for k, v in env.items()})
        lines.append("    env: {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in env.items()) + "}")
    return fields, lines


def _settings_doc(w: Worktree, i: int, desired: dict[str, str]) -> dict[str, Any]:
    """A settings file grown by hand: llmconf's keys among the team's own."""
    env: dict[str, str] = {"BASH_DEFAULT_TIMEOUT_MS": "120000", "MAX_THINKING_TOKENS": str(4000 + 1000 * (i % 5))}
    top_model = None
    for key, value in desired.items():
        if key.startswith("env."):
            env[key[4:]] = value
        else:
            top_model = value
    doc: dict[str, Any] = {
        "permissions": {
            "allow": [
                "Bash(npm run test:*)",
                "Bash(npm run lint)",
                "Bash(git diff:*)",
                "Bash(git log:*)",
                f"Read(../{w.name}-notes/**)",
                "WebFetch(domain:docs.anthropic.com)",
                "mcp__github__get_issue",
            ],
            "deny": ["Read(./.env)", "Read(./.env.*)", "Bash(rm -rf:*)"],
            "defaultMode": "acceptEdits",
        },
        "env": env,
        "hooks": {
            "PostToolUse": [
                {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": 'npx prettier --write "$FILE"'}]}
            ],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./scripts/guard.sh"}]}],
        },
        "enableAllProjectMcpServers": True,
    }
    if top_model is not None:
        doc["model"] = top_model
    return doc


def _make_differ(doc: dict[str, Any], desired: dict[str, str], kind: str) -> None:
    env = doc["env"]
    if kind == "change":
        plain = [k for k, v in desired.items() if v and "TOKEN" not in k]
        key = plain[len(plain) // 2]
        if key.startswith("env."):
            env[key[4:]] += "-stale"
        else:
            doc[key] += "-stale"
    elif kind == "add":
        key = list(desired)[-1]
        if key.startswith("env."):
            del env[key[4:]]
        else:
            del doc[key]
    elif kind == "remove":
        env["ANTHROPIC_SMALL_FAST_MODEL"] = "anthropic/claude-3.5-haiku"  # left by an old switch script


@dataclasses.dataclass
class Switch:
    """The `use` job: one in-sync worktree without overrides moves to another profile."""

    worktree: Worktree
    profile: str
    desired: dict[str, str]  # what the new profile renders for it
    old_line: str  # its line of worktrees.yaml, before and after
    new_line: str


@dataclasses.dataclass
class Fixture:
    root: Path
    config: Path
    manifest: Path
    worktrees: list[Worktree]
    env: dict[str, str]
    state_dir: Path  # llmconf's state, backups, journal and lock
    config_text: str  # worktrees.yaml as made
    switch: Switch

    @property
    def dirty(self) -> list[Worktree]:
        return [w for w in self.worktrees if w.diff is not None]


def child_env(root: Path) -> dict[str, str]:
    """The environment of every child: the real home, config, state and secrets out of reach."""
    # PYTHONDONTWRITEBYTECODE goes: users' Pythons keep the bytecode of llmconf's modules.
    drop = ("NO_COLOR", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMCONF_") and k not in drop}
    home = root / "home"
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        LLMCONF_SECRETS_FILE=str(home / "secrets.env"),
    )
    return env


def store_secret(root: Path, llmconf: list[str]) -> None:
    """The profiles' one secret, in llmconf's store, put there by `llmconf secret set` as a user
    does (a key from an LLMCONF_SECRET_* variable would make every plan and status run afresh:
    a run that read a secret from the environment is never replayed)."""
    out = subprocess.run([*llmconf, "secret", "set", "bench"], input=TOKEN, text=True, capture_output=True, env=child_env(root), cwd=root)
    if out.returncode != 0:
        raise RuntimeError(f"llmconf secret set exited {out.returncode}: {out.stderr.strip()}")


def make_fixture(root: Path, size: int) -> Fixture:
    """Build N worktrees, their config and the floor's manifest under root."""
    config = root / "config"
    (config / "profiles").mkdir(parents=True)
    for name, spec in _PROFILES.items():
        (config / "profiles" / f"{name}.yaml").write_text(spec["yaml"])
    lines = [
        "# llmconf benchmark fleet",
        "vars:",
        f"  team: {TEAM}",
        "worktrees:",
    ]
    worktrees = []
    for i in range(size):
        name = f"wt-{i:05d}"
        profile = _ASSIGNED[i % len(_ASSIGNED)]
        fields, override_lines = _overrides(i)
        desired = _desired(_merge(_resolve(profile), fields), name)
        # Every tenth worktree differs, from the second on so that even 3 worktrees hold one.
        diff = _DIFF_KINDS[(i // 10) % len(_DIFF_KINDS)] if i % 10 == 1 else None
        w = Worktree(name, root / "wt" / name, profile, fields, override_lines, desired, None, diff)
        doc = _settings_doc(w, i, desired)
        if diff is not None and diff != "create":
            _make_differ(doc, desired, diff)
        w.text = None if diff == "create" else json.dumps(doc, indent=2) + "\n"
        w.settings.parent.mkdir(parents=True)
        if w.text is not None:
            w.settings.write_text(w.text)
            w.settings.chmod(_mode(w))
        key = f"../wt/{name}"
        if override_lines:
            lines += [f"  {key}:", f"    profile: {profile}", *override_lines]
        else:
            lines.append(f"  {key}: {profile}")
        worktrees.append(w)
    config_text = "\n".join(lines) + "\n"
    (config / "worktrees.yaml").write_text(config_text)
    # `use` moves the first in-sync worktree without overrides to the next profile.
    w = next(w for w in worktrees if w.diff is None and not w.overrides)
    profile = _ASSIGNED[(_ASSIGNED.index(w.profile) + 1) % len(_ASSIGNED)]
    key = f"../wt/{w.name}"
    switch = Switch(w, profile, _desired(_resolve(profile), w.name), f"  {key}: {w.profile}", f"  {key}: {profile}")
    manifest = root / "floor-manifest.json"
    use = {
        "config": str(config / "worktrees.yaml"),
        "old": switch.old_line,
        "new": switch.new_line,
        "worktree": _entry(w, profile, switch.desired),
    }
    entries = [_entry(w, w.profile, w.desired) for w in worktrees]
    manifest.write_text(json.dumps({"worktrees": entries, "use": use}, indent=1))
    env = child_env(root)
    state = Path(env["XDG_STATE_HOME"]) / "llmconf"
    return Fixture(root, config, manifest, worktrees, env, state, config_text, switch)


def _entry(w: Worktree, profile: str, desired: dict[str, str]) -> dict[str, Any]:
    """One worktree in the floor's manifest."""
    return {
        "name": w.name,
        "profile": profile,
        "settings": str(w.settings),
        "set": desired,
        "unset": [k for k in _BACKEND_KEYS if k not in desired],
        # llmconf writes a file 0600 when it holds a token (llmconf/plan.py private).
        "private": bool(desired.get("env.ANTHROPIC_AUTH_TOKEN")),
    }


def _mode(w: Worktree) -> int:
    """A file's mode as an apply leaves it: 0600 when it holds a token (else llmconf plans the
    mode change), 0644 otherwise."""
    return 0o600 if w.desired.get("env.ANTHROPIC_AUTH_TOKEN") else 0o644


def reset(fx: Fixture) -> None:
    """Put back the files an apply or a use may have written, forget all llmconf's state, and
    flush to disk."""
    (fx.config / "worktrees.yaml").write_text(fx.config_text)
    for w in [*fx.dirty, fx.switch.worktree]:
        if w.text is None:
            w.settings.unlink(missing_ok=True)
        else:
            w.settings.write_text(w.text)
            w.settings.chmod(_mode(w))
    # All of it (backups and the journal too), so every apply starts from the same nothing;
    # but the index of which config applied which worktree stays, as it does for a user
    # after the first apply (it is written only when it changes).
    index = fx.state_dir / "configs.json"
    kept = index.read_bytes() if index.exists() else None
    shutil.rmtree(fx.state_dir, ignore_errors=True)
    if kept is not None:
        fx.state_dir.mkdir(parents=True, mode=0o700)
        index.write_bytes(kept)
        index.chmod(0o600)
    # So the timed job's fsyncs pay for its own writes, not for the reset's dirty pages.
    os.sync()


def make_example(root: Path) -> Path:
    """A copy of the repo's example config, applied, so that a plan of it has no changes."""
    folder = root / "example"
    folder.mkdir()
    shutil.copy2(REPO / "worktrees.yaml", folder / "worktrees.yaml")
    shutil.copytree(REPO / "examples", folder / "examples")
    shutil.copytree(REPO / "profiles", folder / "profiles")
    return folder


# --- running and timing processes --------------------------------------------------------


@dataclasses.dataclass
class Sample:
    seconds: float
    max_rss: int  # bytes
    code: int


def llmconf_command() -> list[str]:
    """The venv's llmconf script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).parent / "llmconf"
    if script.exists():
        return [str(script)]
    found = shutil.which("llmconf")
    return [found] if found else [sys.executable, "-m", "llmconf"]


# The timed children are forked by this small helper, not by the harness. On Linux a forked
# child's peak RSS starts at its parent's RSS at fork time and survives exec, so children of
# the harness (80 MiB with a 10,000-worktree fixture in memory) would all report 80 MiB.
# The helper runs with -I -S and imports only built-in modules, so it holds about 8 MiB, below
# any Python process it starts. It also times from fork to exit, without the harness's
# pipe round trips in the figure. Protocol: a 4-byte length, then a marshal payload, each way.
_SPAWNER = """
import marshal, os, time
def read(n):
    b = b""
    while len(b) < n:
        chunk = os.read(0, n - len(b))
        if not chunk:
            raise SystemExit(0)
        b += chunk
    return b
while True:
    argv, env, cwd, err = marshal.loads(read(int.from_bytes(read(4), "big")))
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
            os.execve(argv[0], argv, env)
        except BaseException as e:
            os.write(2, repr(e).encode())
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    out = marshal.dumps((time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
    os.write(1, len(out).to_bytes(4, "big") + out)
"""


class Spawner:
    """Runs one process at a time to its end: its wall time from fork to exit, and its peak RSS."""

    def __init__(self, scratch: Path) -> None:
        self._err = scratch / "child-stderr"
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SPAWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def run(self, argv: Sequence[str], env: dict[str, str], cwd: Path, expect: int = 0) -> Sample:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        payload = marshal.dumps((list(argv), env, str(cwd), str(self._err)))
        self._proc.stdin.write(len(payload).to_bytes(4, "big") + payload)
        self._proc.stdin.flush()
        size = int.from_bytes(self._proc.stdout.read(4), "big")
        seconds, max_rss, code = marshal.loads(self._proc.stdout.read(size))
        if code != expect:
            detail = self._err.read_text(errors="replace").strip()
            raise RuntimeError(f"{' '.join(argv)} exited {code}, expected {expect}: {detail[-2000:]}")
        # ru_maxrss is in KiB on Linux, bytes on macOS.
        return Sample(seconds, max_rss * (1 if sys.platform == "darwin" else 1024), code)

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait()


def run_output(argv: Sequence[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)


@dataclasses.dataclass(frozen=True)
class Job:
    id: str
    label: str
    argv: list[str]
    before: Callable[[], None] | None = None  # untimed set-up, e.g. re-making the tree
    after: Callable[[], None] | None = None  # untimed clean-up


# Rows of the table and what each llmconf figure is a ratio to.
RATIO_TO = {
    "version": "python_pass",
    "help": "python_pass",
    "plan_example": "python_pass",
    "plan_pending": "floor_plan_pending",
    "plan_nochange": "floor_plan_nochange",
    "status": "floor_status",
    "status_again": "floor_status",
    "apply": "floor_apply",
    "use": "floor_use",
}
PER_WORKTREE = (
    "plan_pending",
    "plan_nochange",
    "status",
    "apply",
    "floor_plan_pending",
    "floor_plan_nochange",
    "floor_status",
    "floor_apply",
)


def _stats(samples: list[Sample]) -> dict[str, Any]:
    times = [s.seconds for s in samples]
    return {
        "min_s": min(times),
        "median_s": statistics.median(times),
        "max_s": max(times),
        "runs_s": times,
        "max_rss_mib": max(s.max_rss for s in samples) / MIB,
    }


def _texts(fx: Fixture, worktrees: list[Worktree] | None = None) -> dict[str, tuple[str | None, int | None]]:
    out: dict[str, tuple[str | None, int | None]] = {}
    for w in fx.dirty if worktrees is None else worktrees:
        try:
            out[w.name] = (w.settings.read_text(), w.settings.stat().st_mode & 0o777)
        except FileNotFoundError:
            out[w.name] = (None, None)
    return out


def _check(job: str, fx: Fixture, lc: list[str], checks: dict[str, Any], seen: dict[str, Any]) -> None:
    """The warm-up round's checks, right after `job` ran."""
    env, cwd = fx.env, fx.root
    sw = fx.switch
    if job == "status":
        out = run_output([*lc, "status", "--json"], env, cwd)
        rows = {r["worktree"]: r for r in json.loads(out.stdout)["worktrees"]} if out.returncode == 0 else {}
        floor = run_output([sys.executable, str(FLOOR), "status", str(fx.manifest)], env, cwd).stdout.splitlines()
        pending = {line.split()[0] for line in floor[1:] if line.split()[-1] == "pending"}
        # Both name every worktree, and agree on which are pending and on each backend.
        checks["status_matches_floor"] = (
            len(rows) == len(fx.worktrees) == len(floor) - 1
            and {n for n, r in rows.items() if r["state"] != "in-sync"} == pending == {w.name for w in fx.dirty}
            and all(line.split()[2] == rows[line.split()[0]]["backend"] for line in floor[1:] if "direct" not in line)
        )
    elif job == "status_again":
        # Nothing changed since `status`: this run was a replay, and printed what a run afresh does.
        again = run_output([*lc, "status"], {**env, "LLMCONF_REPLAY": "explain"}, cwd)
        fresh = run_output([*lc, "status"], {**env, "LLMCONF_REPLAY": "0"}, cwd)
        checks["status_again_replayed"] = (
            "llmconf: replay: replayed" in again.stderr and again.stdout == fresh.stdout and again.returncode == fresh.returncode == 0
        )
    elif job == "apply":
        # llmconf must agree that its own apply converged.
        checks["apply_converged"] = run_output([*lc, "plan", "--detailed-exitcode"], env, cwd).returncode == 0
        seen["apply"] = _texts(fx)
    elif job == "floor_apply":
        floor_files, llmconf_files = _texts(fx), seen["apply"]
        checks["floor_equals_llmconf_bytes"] = floor_files == llmconf_files
        checks["floor_equals_llmconf_json"] = all(
            (json.loads(a[0]) if a[0] else None) == (json.loads(b[0]) if b[0] else None)
            for a, b in ((floor_files[n], llmconf_files[n]) for n in floor_files)
        )
        out = run_output([*lc, "plan", "--detailed-exitcode"], env, cwd)
        checks["floor_converged_for_llmconf"] = out.returncode == 0
    elif job == "use":
        folder = str(sw.worktree.folder)
        out = run_output([*lc, "plan", "--detailed-exitcode", folder], env, cwd)
        checks["use_converged"] = out.returncode == 0 and sw.new_line in (fx.config / "worktrees.yaml").read_text()
        seen["use"] = ((fx.config / "worktrees.yaml").read_text(), _texts(fx, [sw.worktree]))
    elif job == "floor_use":
        checks["floor_use_equals_llmconf"] = seen["use"] == (
            (fx.config / "worktrees.yaml").read_text(),
            _texts(fx, [sw.worktree]),
        )


def bench_size(
    size: int, runs: int, llmconf: list[str], workdir: Path | None, keep: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    """Build the fleet for one size, run every job `runs` times interleaved, check the results."""
    root = Path(tempfile.mkdtemp(prefix=f"llmconf-bench-{size}-", dir=workdir))
    spawner = Spawner(root)
    try:
        t0 = time.perf_counter()
        fx = make_fixture(root, size)
        store_secret(root, llmconf)
        example = make_example(root)
        log(f"  built {size} worktrees in {time.perf_counter() - t0:.1f}s ({len(fx.dirty)} differ) under {root}")
        env, cwd = fx.env, root
        lc = [*llmconf, "-C", str(fx.config)]
        py = [sys.executable]
        checks: dict[str, Any] = {}
        seen: dict[str, Any] = {}  # what llmconf wrote, to compare with the floor's

        # The example config is applied once so its plan has nothing to do.
        out = run_output([*llmconf, "-C", str(example), "apply", "--yes"], env, cwd)
        if out.returncode != 0:
            raise RuntimeError(f"llmconf apply of the example exited {out.returncode}: {out.stderr.strip()}")
        out = run_output([*llmconf, "-C", str(example), "plan", "--detailed-exitcode"], env, cwd)
        checks["example_converged"] = out.returncode == 0

        # Before anything is timed: does llmconf see exactly the differences the harness made?
        reset(fx)
        out = run_output([*lc, "plan", "--json"], env, cwd)
        if out.returncode != 0:
            raise RuntimeError(f"llmconf plan --json exited {out.returncode}: {out.stderr.strip()}")
        planned = {w["name"] for w in json.loads(out.stdout)["worktrees"] if w["action"] != "none"}
        checks["plan_matches_fixture"] = planned == {w.name for w in fx.dirty}

        sw = fx.switch
        use_argv = [*lc, "use", sw.profile, str(sw.worktree.folder), "--apply", "--yes"]

        def rewarm() -> None:
            # `use` saved the switched config in the config cache; put the tree back and let an
            # untimed plan cache the config as made, so the next round starts where this one did.
            reset(fx)
            run_output([*lc, "plan"], env, cwd)

        jobs = [
            Job("python_pass", "python -c pass", [*py, "-c", "pass"]),
            Job("version", "llmconf --version", [*llmconf, "--version"]),
            Job("help", "llmconf --help", [*llmconf, "--help"]),
            Job("plan_example", "llmconf plan (example, no change)", [*llmconf, "-C", str(example), "plan"]),
            Job("plan_pending", "llmconf plan (10% pending)", [*lc, "plan"], before=lambda: reset(fx)),
            Job("floor_plan_pending", "floor plan (10% pending)", [*py, str(FLOOR), "plan", str(fx.manifest)]),
            Job("status", "llmconf status", [*lc, "status"]),
            Job("status_again", "llmconf status (again, no change)", [*lc, "status"]),
            Job("floor_status", "floor status", [*py, str(FLOOR), "status", str(fx.manifest)]),
            Job("apply", "llmconf apply --yes (10%)", [*lc, "apply", "--yes"]),
            Job("plan_nochange", "llmconf plan (no change)", [*lc, "plan"]),
            Job("floor_plan_nochange", "floor plan (no change)", [*py, str(FLOOR), "plan", str(fx.manifest)]),
            Job(
                "floor_apply",
                "floor apply (10%)",
                [*py, str(FLOOR), "apply", str(fx.manifest)],
                before=lambda: reset(fx),
            ),
            Job("use", "llmconf use P WT --apply --yes", use_argv, before=lambda: reset(fx)),
            Job(
                "floor_use",
                "floor use (1 worktree)",
                [*py, str(FLOOR), "use", str(fx.manifest)],
                before=lambda: reset(fx),
                after=rewarm,
            ),
        ]
        samples: dict[str, list[Sample]] = {j.id: [] for j in jobs}
        # Round 0 is the warm-up: untimed (its samples are dropped), and the one that checks.
        for r in range(runs + 1):
            for job in jobs:
                if job.before is not None:
                    job.before()
                sample = spawner.run(job.argv, env, cwd)
                if r > 0:
                    samples[job.id].append(sample)
                if r == 0:
                    _check(job.id, fx, lc, checks, seen)
                if job.after is not None:
                    job.after()
            log("  warm-up round done" if r == 0 else f"  round {r}/{runs} done")
        result: dict[str, Any] = {
            "worktrees": size,
            "differ": len(fx.dirty),
            "jobs": {j.id: {"label": j.label, **_stats(samples[j.id])} for j in jobs},
            "checks": checks,
        }
        # Paired: each round's ratio of a job to its base (run moments apart), then their median,
        # so a burst of load on a shared machine skews one pair rather than one side.
        result["ratios"] = {
            job: statistics.median(a.seconds / b.seconds for a, b in zip(samples[job], samples[base]))
            for job, base in RATIO_TO.items()
        }
        return result
    finally:
        spawner.close()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


# --- reporting ------------------------------------------------------------------------------


def fit(points: list[tuple[int, float]]) -> dict[str, float] | None:
    """Least-squares t = fixed + per_worktree * N over the sizes run (None with one size)."""
    if len({n for n, _ in points}) < 2:
        return None
    mean_n = statistics.fmean(n for n, _ in points)
    mean_t = statistics.fmean(t for _, t in points)
    slope = sum((n - mean_n) * (t - mean_t) for n, t in points) / sum((n - mean_n) ** 2 for n, _ in points)
    return {"fixed_ms": (mean_t - slope * mean_n) * 1000, "per_worktree_us": slope * 1e6}


def targets(sizes: list[dict[str, Any]], fits: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, judged on this run: whole-run ratios at the smallest size run (10
    in a full run), per-worktree costs from the fit over the sizes, memory at the largest."""
    small, big = sizes[0], sizes[-1]
    out = []

    def target(name: str, value: float | None, limit: float, unit: str, at: dict[str, Any]) -> None:
        met = None if value is None else value <= limit
        out.append({"target": name, "value": value, "limit": limit, "unit": unit, "met": met, "at_worktrees": at["worktrees"]})

    target("llmconf --version vs python -c pass", small["ratios"]["version"], 1.5, "x", small)
    target("llmconf --help vs python -c pass", small["ratios"]["help"], 1.5, "x", small)
    target("no-change plan of the example config vs python -c pass", small["ratios"]["plan_example"], 2.0, "x", small)
    for job, what in (
        ("plan_nochange", "plan (no change)"),
        ("plan_pending", "plan (10% pending)"),
        ("status", "status"),
        ("status_again", "status run again, nothing changed"),
        ("apply", "apply (10% changed)"),
        ("use", "use --apply (1 worktree)"),
    ):
        target(f"{what} vs the floor", small["ratios"][job], 2.0, "x", small)
    for job, floor, limit in (
        ("plan_nochange", "floor_plan_nochange", 1.5),
        ("apply", "floor_apply", 1.5),
        ("status", "floor_status", 2.0),
    ):
        # At small sizes the slopes are noise (even negative): only a positive floor slope gives a ratio.
        per_wt = None
        if job in fits and floor in fits and fits[floor]["per_worktree_us"] > 0:
            per_wt = fits[job]["per_worktree_us"] / fits[floor]["per_worktree_us"]
        target(f"{job} per-worktree cost vs the floor's", per_wt, limit, "x", big)
    peak = max(big["jobs"][j]["max_rss_mib"] for j in ("plan_pending", "plan_nochange", "status", "apply"))
    target("peak memory of plan/status/apply", peak, 150.0, "MiB", big)
    return out


def table(report: dict[str, Any]) -> str:
    """The report as text: one block per size, then the fits and the targets."""
    lines = []
    for s in report["sizes"]:
        lines.append(f"\n{s['worktrees']} worktrees ({s['differ']} differ), {report['runs']} runs")
        lines.append(f"  {'job':36} {'min ms':>9} {'median ms':>10} {'max ms':>9} {'RSS MiB':>8} {'ratio':>7}  to")
        for job_id, j in s["jobs"].items():
            ratio = s["ratios"].get(job_id)
            base = s["jobs"][RATIO_TO[job_id]]["label"] if job_id in RATIO_TO else ""
            lines.append(
                f"  {j['label']:36} {j['min_s'] * 1000:9.1f} {j['median_s'] * 1000:10.1f} {j['max_s'] * 1000:9.1f}"
                f" {j['max_rss_mib']:8.1f} {'' if ratio is None else f'{ratio:6.2f}x'}  {base}"
            )
        failed = [k for k, v in s["checks"].items() if v is not True]
        lines.append("  checks: " + ("all passed" if not failed else "FAILED: " + ", ".join(failed)))
    if report["fit"]:
        lines.append("\nfit over sizes (median): fixed + per worktree")
        for job_id, f in report["fit"].items():
            lines.append(f"  {job_id:22} {f['fixed_ms']:9.1f} ms + {f['per_worktree_us']:8.1f} us/worktree")
    lines.append("\ntargets (the issue sets whole runs at 10 worktrees, per-worktree costs and memory at 10,000)")
    for t in report["targets"]:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}{t['unit']}"
        lines.append(
            f"  {t['target']:56} {value:>10}  limit {t['limit']:g}{t['unit']:4} {verdict:7} at {t['at_worktrees']} worktrees"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


BYTECODE = "children run with bytecode caching on (PYTHONDONTWRITEBYTECODE unset), after an untimed warm-up round"
EDITABLE = (
    "note: llmconf is an editable install in this Python's environment: every Python started here, "
    "`python -c pass` and the floor included, imports its finder at start-up (pathlib, re and more), "
    "which hides that part of llmconf's start-up in the ratios; `pip install .` into a fresh venv "
    "and run the bench with that venv's Python to measure what users get"
)


def editable_install() -> bool:
    """Whether llmconf is installed in editable mode (pip install -e) in this Python's environment."""
    import sysconfig

    return any(Path(sysconfig.get_paths()["purelib"]).glob("__editable__*llmconf*.pth"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,10000", help="worktree counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="rounds; each runs every job once")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the report as JSON here")
    parser.add_argument("--llmconf", help="llmconf executable (default: the llmconf script beside this Python)")
    parser.add_argument("--workdir", type=Path, help="where to make the temp folders (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folders, to inspect or profile them")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 1 or args.runs < 1:
        parser.error("--sizes needs positive counts and --runs at least 1")
    llmconf = llmconf_command()
    if args.llmconf:
        # The spawner execs by path, without a PATH search.
        found = shutil.which(args.llmconf)
        if found is None:
            parser.error(f"--llmconf: {args.llmconf} is not an executable")
        llmconf = [os.path.abspath(found)]

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="llmconf-bench-") as tmp:
        version = run_output([*llmconf, "--version"], child_env(Path(tmp)), Path(tmp)).stdout.strip()
    log(f"{version} ({' '.join(llmconf)}), {os.cpu_count()} CPUs, Python {platform.python_version()}")
    log(BYTECODE)
    results = []
    for size in sorted(sizes):
        log(f"size {size}:")
        results.append(bench_size(size, args.runs, llmconf, args.workdir, args.keep, log))
    fits = {}
    for job in PER_WORKTREE:
        f = fit([(s["worktrees"], s["jobs"][job]["median_s"]) for s in results])
        if f is not None:
            fits[job] = f
    report = {
        "format_version": FORMAT_VERSION,
        "llmconf": version,
        "command": ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])],
        "machine": machine(),
        "bytecode_cache": True,
        "editable_install": editable_install(),
        "warm_up_rounds": 1,
        "runs": args.runs,
        "sizes": results,
        "fit": fits,
        "targets": targets(results, fits),
        "checks_passed": all(v is True for s in results for v in s["checks"].values()),
    }
    print(BYTECODE)
    if report["editable_install"]:
        print(EDITABLE)
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["checks_passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
