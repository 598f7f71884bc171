"""doctor --online sends what the real Claude Code sends, in the same worktree: the same path,
the same credential header and the same model, slot by slot. The worktree is a linked git
worktree whose main checkout holds another gateway: from 2.1.211 a plain claude would take that
one, so llmconf delivers through --settings ('llmconf exec'), and doctor checks the delivery."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import write_tree
from tests.e2e.conftest import claude_env
from tests.e2e.fakeapi import FakeApi, Request
from tests.helpers import make_repo

SLOTS = ("haiku", "sonnet", "opus", "fable")


def header(request: Request) -> str:
    return ",".join(name for name, value in (("Authorization", request.authorization), ("x-api-key", request.x_api_key)) if value)


def test_doctor_sends_what_claude_code_sends(tmp_path, run, claude_bin, claude_version, monkeypatch):
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)  # llmconf plans (and picks the delivery) for this client
    with FakeApi() as main_api, FakeApi() as api:
        make_repo(tmp_path, "Forgerank", linked=("forgerank-glm",), files={".gitignore": ".claude/settings.local.json\n"})
        assert run("secret", "set", "key-main", stdin="secret-main\n").code == 0
        assert run("secret", "set", "key-glm", stdin="secret-glm\n").code == 0
        models = {slot: f"glm/{slot}-model" for slot in SLOTS}
        write_tree(
            tmp_path,
            {
                "cfg/profiles/main.yaml": f"base_url: {main_api.url}\nauth_token: \"{{{{ secret('key-main') }}}}\"\n"
                "models: {haiku: m/h, sonnet: m/s, opus: m/o}\n",
                "cfg/profiles/glm.yaml": f"base_url: {api.url}\nauth_token: \"{{{{ secret('key-glm') }}}}\"\nmodels: {json.dumps(models)}\n",
                "cfg/worktrees.yaml": "worktrees:\n  ../Forgerank: main\n  ../forgerank-glm: glm\n",
            },
        )
        applied = run("-C", str(tmp_path / "cfg"), "apply", "--yes")
        assert applied.code == 0, applied.err
        home = tmp_path / "claude-home"
        home.mkdir()
        keep = {k: os.environ[k] for k in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
        for slot in SLOTS:
            done = subprocess.run(
                [sys.executable, "-m", "llmconf", "exec", "--", claude_bin, "-p", "say hi", "--model", slot],
                cwd=tmp_path / "forgerank-glm", env={**claude_env(home), **keep}, capture_output=True, text=True, timeout=90,
            )
            assert done.returncode == 0, (slot, done.stderr)
        by_claude = [(r.path, header(r), r.model, r.anthropic_version) for r in api.messages]
        assert [m for _, _, m, _ in by_claude] == [models[s] for s in SLOTS]  # the delivery's gateway and models
        seen = len(api.requests)
        doctor = run("-C", str(tmp_path / "cfg"), "doctor", "--online", "--json", str(tmp_path / "forgerank-glm"))
        report = json.loads(doctor.out)["worktrees"][0]
        # From 2.1.211 a plain claude there would take the main checkout's gateway: that finding
        # is the one error, and the checks go through the delivery, as 'llmconf exec' does.
        root_local = tuple(map(int, claude_version.split("."))) >= (2, 1, 211)
        assert [f["message"][:31] for f in report["findings"]] == (["a plain claude (not started thr"] if root_local else [])
        assert doctor.code == (1 if root_local else 0)
        live = report["live"]["slots"]
        assert [(s["slot"], s["status"]) for s in live] == [(slot, "ok") for slot in SLOTS]
        by_doctor = [(r.path, header(r), r.model, r.anthropic_version) for r in api.requests[seen:] if r.method == "POST"]
        assert sorted(by_doctor, key=lambda r: str(r[2])) == sorted(by_claude, key=lambda r: str(r[2]))
        assert main_api.requests == []  # neither went to the main checkout's gateway
        assert "secret-glm" not in doctor.out + doctor.err
