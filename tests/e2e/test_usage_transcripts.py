"""llmconf usage reads what the real Claude Code writes: a session in a worktree's subfolder is
that worktree's, with the gateway's token counts, each message once (issue 17)."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

from tests.conftest import write_tree
from tests.e2e.conftest import claude_env
from tests.helpers import Received, Reply, make_repo, serve

#: What the gateway says each call used: cache writes split 5-minute/1-hour, as Anthropic's API does.
USAGE = {
    "input_tokens": 11, "output_tokens": 7, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 2000,
    "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
}
MODEL = "test/sonnet-model"


class Gateway:
    """A Messages API that streams a thinking block then a text block (Claude Code writes one
    transcript line per block, the same message in each) and sends a request-id header, as
    Anthropic's API does."""

    def __init__(self) -> None:
        self.calls = 0
        self._ids = itertools.count(1)

    def __call__(self, received: Received) -> Reply:
        if received.method != "POST" or received.path.split("?")[0] != "/v1/messages":
            return Reply.json({"type": "error", "error": {"type": "not_found_error", "message": received.path}}, 404)
        body = json.loads(received.body or b"{}")
        n = next(self._ids)
        self.calls += 1
        message = {
            "id": f"msg_{n}", "type": "message", "role": "assistant", "model": body.get("model"), "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {**USAGE, "output_tokens": 1},
        }
        events = [
            ("message_start", {"type": "message_start", "message": message}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "hello"}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": USAGE["output_tokens"]}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        data = "".join(f"event: {name}\ndata: {json.dumps(doc)}\n\n" for name, doc in events).encode()
        return Reply(200, data, {"Content-Type": "text/event-stream", "request-id": f"req_{n}"})


def test_usage_attributes_a_real_session_to_its_worktree_with_the_gateways_tokens(tmp_path, run, claude_bin, monkeypatch):
    gateway = Gateway()
    home = tmp_path / "claude-home"
    home.mkdir()
    monkeypatch.setenv("LLMCONF_CLAUDE", claude_bin)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))  # where that claude wrote, for llmconf
    make_repo(tmp_path, "a", files={"src/main.py": ""})
    with serve(gateway) as server:
        write_tree(tmp_path, {
            "cfg/profiles/gw.yaml": f"base_url: {server.url}\nauth_token: not-a-real-key\nmodels: {{sonnet: {MODEL}}}\n",
            "cfg/worktrees.yaml": "worktrees:\n  ../a: gw\n  ../b: gw\n",
            "b/.keep": "",
        })
        assert run("-C", str(tmp_path / "cfg"), "apply", "--yes").code == 0
        result = subprocess.run(
            # From a subfolder, with a's settings by --settings (2.1.197 started there did not read
            # them from a's root): the transcript records the subfolder as cwd.
            [claude_bin, "-p", "say hi", "--model", "sonnet", "--settings", str(tmp_path / "a/.claude/settings.local.json")],
            cwd=tmp_path / "a" / "src", env=claude_env(home),
            capture_output=True, text=True, timeout=90,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello"
    (transcript,) = (home / ".claude" / "projects").glob("*/*.jsonl")
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    written = [d for d in lines if d.get("type") == "assistant"]
    assert len(written) == 2 * gateway.calls  # one line per content block: the duplicates usage must skip
    assert {(d["message"]["id"], d["requestId"], d["cwd"]) for d in written} == {
        (f"msg_{n}", f"req_{n}", str(tmp_path / "a" / "src")) for n in range(1, gateway.calls + 1)
    }
    done = run("-C", str(tmp_path / "cfg"), "usage", "--json")
    assert done.code == 0, done.err
    doc = json.loads(done.out)
    (row,) = doc["rows"]
    n = gateway.calls
    assert (row["worktree"], row["models"], row["sessions"], row["messages"]) == ("a", [MODEL], 1, n)
    assert row["tokens"] == {
        "input": 11 * n, "output": 7 * n, "cache_write_5m": 100 * n, "cache_write_1h": 200 * n, "cache_read": 2000 * n,
        "total": 2318 * n,
    }
    assert (row["cost_usd"], row["unpriced"]) == (None, [MODEL])  # the catalog does not know it: ?, never $0
    assert doc["misrouted"] == []  # the profile maps that model
    assert doc["skipped"] == {"garbled": 0, "truncated": 0, "unreadable": 0, "unknown": 0}
    assert Path(doc["transcripts"]["folders"][0]) == home / ".claude" / "projects"
