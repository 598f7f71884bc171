"""A fake Anthropic Messages API on 127.0.0.1: records every request, answers like the real one.

Stdlib only. POST /v1/messages gets a short text reply, streamed as server-sent events when
the request asks for it (message_start, content_block_start, content_block_delta,
content_block_stop, message_delta, message_stop), else as one JSON message. Anything else
gets a 404 after it is recorded, so a test sees every request that reached the server.
POST <any prefix>/chat/completions (OpenAI's chat completions, what opencode speaks) gets the
same reply as chunks ending in `data: [DONE]` when streamed, else as one JSON completion.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import LocalServer, Received, Reply, serve

REPLY = "ok from the fake gateway"
#: One count across every server, so requests to several gateways can be put in order.
_SEQ = itertools.count()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorization: str | None
    x_api_key: str | None
    model: str | None
    stream: bool
    seq: int = 0  # when it arrived, counted across every FakeApi in the process
    anthropic_version: str | None = None


@dataclass
class FakeApi:
    """Start with `with FakeApi() as api:`; `api.url` is the base URL to configure."""

    requests: list[Request] = field(default_factory=list)
    _local: LocalServer | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def url(self) -> str:
        assert self._local is not None
        return self._local.url

    @property
    def messages(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0] == "/v1/messages"]

    @property
    def chats(self) -> list[Request]:
        """The OpenAI chat completions requests, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0].endswith("/chat/completions")]

    def __enter__(self) -> FakeApi:
        self._local = self._stack.enter_context(serve(self._answer))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _answer(self, received: Received) -> Reply:
        body = _body(received.body) if received.method == "POST" else {}
        self.requests.append(
            Request(
                received.method,
                received.path,
                received.headers.get("Authorization"),
                received.headers.get("x-api-key"),
                body.get("model"),
                bool(body.get("stream")),
                next(_SEQ),
                received.headers.get("anthropic-version"),
            )
        )
        if received.method != "POST":
            return _not_found(received.path)
        path = received.path.split("?")[0]
        if path.endswith("/chat/completions"):
            return _chat(body.get("model", "unknown"), bool(body.get("stream")))
        if path == "/v1/messages/count_tokens":
            return Reply.json({"input_tokens": 10})
        if path != "/v1/messages":
            return _not_found(path)
        model = body.get("model", "unknown")
        if body.get("stream"):
            return _stream(model)
        return Reply.json(_message(model))


def _body(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _not_found(path: str) -> Reply:
    return Reply.json({"type": "error", "error": {"type": "not_found_error", "message": path}}, 404)


def _stream(model: str) -> Reply:
    message = {**_message(model), "content": [], "stop_reason": None}
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": REPLY}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    data = "".join(f"event: {name}\ndata: {json.dumps(doc)}\n\n" for name, doc in events).encode()
    return Reply(200, data, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})


def _message(model: str) -> dict[str, Any]:
    return {
        "id": "msg_fake_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": REPLY}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def _chat(model: str, stream: bool) -> Reply:
    """An OpenAI chat completion of REPLY: one JSON document, or server-sent chunks."""
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    if not stream:
        choice = {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
        return Reply.json({"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model, "choices": [choice], "usage": usage})
    head = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model}
    chunks = [
        {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {"content": REPLY}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage},
    ]
    data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return Reply(200, data.encode(), {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
