"""Generated Claude Code transcripts, in the shape 2.1.332 writes them, with the sums they should
give worked out as they are written (for the usage tests, the ccusage test and the bench)."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101")
TOKEN_FIELDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))  # as Claude Code writes them (JSON.stringify)


def user_line(cwd: str, session: str, ts: str, text: str) -> str:
    return _dump({
        "parentUuid": None, "isSidechain": False, "type": "user", "message": {"role": "user", "content": text},
        "uuid": f"u-{ts}", "timestamp": ts, "userType": "external", "cwd": cwd, "sessionId": session,
        "version": "2.1.332", "gitBranch": "main",
    })


def assistant_line(
    cwd: str, session: str, ts: str, model: str, usage: dict[str, int], message_id: str, request_id: str | None,
    block: dict[str, Any] | None = None,
) -> str:
    """One assistant line; `usage`: input, output, cache_write_5m, cache_write_1h, cache_read."""
    doc: dict[str, Any] = {
        "parentUuid": "p", "isSidechain": False,
        "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model,
            "content": [block or {"type": "text", "text": "done"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {
                "input_tokens": usage["input"],
                "cache_creation_input_tokens": usage["cache_write_5m"] + usage["cache_write_1h"],
                "cache_read_input_tokens": usage["cache_read"],
                "output_tokens": usage["output"],
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": "standard",
                "cache_creation": {"ephemeral_1h_input_tokens": usage["cache_write_1h"], "ephemeral_5m_input_tokens": usage["cache_write_5m"]},
                "speed": "standard",
            },
        },
        "type": "assistant", "uuid": f"a-{message_id}-{ts}", "timestamp": ts, "userType": "external",
        "cwd": cwd, "sessionId": session, "version": "2.1.332", "gitBranch": "main",
    }
    if request_id is not None:
        doc["requestId"] = request_id
    return _dump(doc)


@dataclass
class Expected:
    """What the generated transcripts hold, each message once: token sums per (cwd, model, day)
    and the sessions per cwd."""

    tokens: dict[tuple[str, str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 5))
    messages: int = 0
    sessions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, cwd: str, session: str, model: str, day: str, usage: dict[str, int]) -> None:
        row = self.tokens[(cwd, model, day)]
        for i, name in enumerate(TOKEN_FIELDS):
            row[i] += usage[name]
        self.messages += 1
        self.sessions[cwd].add(session)

    def total(self, keep: Any = lambda cwd, model, day: True) -> list[int]:
        """The token sums of the rows `keep` takes."""
        out = [0] * 5
        for (cwd, model, day), row in self.tokens.items():
            if keep(cwd, model, day):
                out = [a + b for a, b in zip(out, row)]
        return out


def random_usage(rng: random.Random) -> dict[str, int]:
    return {
        "input": rng.randint(1, 5000), "output": rng.randint(1, 3000), "cache_write_5m": rng.choice([0, rng.randint(1, 20000)]),
        "cache_write_1h": rng.choice([0, 0, rng.randint(1, 9000)]), "cache_read": rng.randint(0, 150000),
    }


def write_session(
    path: Path, rng: random.Random, cwd: str, session: str, models: tuple[str, ...], day: str, n: int,
    expected: Expected, filler: int = 0, start_minute: int = 0,
) -> list[str]:
    """A session file of `n` messages, each written once per content block (one to three lines
    with the same IDs, as streaming does), with user lines between; `filler` bytes of tool
    output per user line. Returns its assistant lines."""
    lines: list[str] = []
    assistants: list[str] = []
    for i in range(n):
        minute = start_minute + i
        ts = f"{day}T{minute // 60 % 24:02d}:{minute % 60:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
        lines.append(user_line(cwd, session, ts, "x" * filler if filler else f"step {i}"))
        model = models[i % len(models)]
        usage = random_usage(rng)
        message_id, request_id = f"msg_{session}_{minute}", f"req_{session}_{minute}"
        for block in range(rng.randint(1, 3)):
            line = assistant_line(cwd, session, ts, model, usage, message_id, request_id, {"type": "text", "text": f"part {block}"})
            lines.append(line)
            assistants.append(line)
        expected.add(cwd, session, model, day, usage)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write("".join(line + "\n" for line in lines))
    return assistants


def project_folder(projects: Path, cwd: str) -> Path:
    """Where Claude Code keeps a folder's sessions: its path with / and . as -."""
    return projects / cwd.replace("/", "-").replace(".", "-")
