"""A fake LLM gateway on 127.0.0.1: records every request, answers like the real APIs.

Stdlib only. It speaks the protocols the agents use, each answered with one short text reply:
- Anthropic Messages: POST /v1/messages, streamed as server-sent events when the request asks
  for it (message_start ... message_stop), else as one JSON message;
- OpenAI chat completions: POST <any prefix>/chat/completions, streamed (chunks, then
  `data: [DONE]`) or as one JSON completion;
- OpenAI Responses: POST <any prefix>/responses, streamed as events (response.created ...
  response.completed), else as one JSON response;
- Gemini: POST <any prefix>/models/M:streamGenerateContent (server-sent events with ?alt=sse, else
  a JSON array), :generateContent and :countTokens;
Anything else gets a 404 after it is recorded, so a test sees every request that reached the server.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
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
    headers: dict[str, str] = field(default_factory=dict, compare=False)  # names in lower case
    body: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def bare_path(self) -> str:
        return self.path.split("?")[0]

    @property
    def protocol(self) -> str | None:
        """Which API the request spoke: "anthropic", "chat", "responses", "gemini", or None."""
        if self.method != "POST":
            return None
        path = self.bare_path
        if path.startswith("/v1/messages"):
            return "anthropic"
        if path.endswith("/chat/completions"):
            return "chat"
        if path.endswith("/responses"):
            return "responses"
        if _GEMINI.search(path):
            return "gemini"
        return None


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
        return [r for r in self.requests if r.method == "POST" and r.bare_path == "/v1/messages"]

    def spoken(self, protocol: str) -> list[Request]:
        """The requests in one protocol ("chat", "responses", "gemini", "anthropic"), in order."""
        return [r for r in self.requests if r.protocol == protocol]

    @property
    def chats(self) -> list[Request]:
        """The OpenAI chat completions requests, in order."""
        return self.spoken("chat")

    def __enter__(self) -> FakeApi:
        self._local = self._stack.enter_context(serve(self._answer))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _answer(self, received: Received) -> Reply:
        body = _body(received.body) if received.method == "POST" else {}
        path = received.path.split("?")[0]
        gemini = _GEMINI.search(path)
        model = body.get("model") if isinstance(body.get("model"), str) else (gemini.group(1) if gemini else None)
        stream = bool(body.get("stream")) or bool(gemini and gemini.group(2) == "streamGenerateContent")
        request = Request(
            received.method,
            received.path,
            received.headers.get("Authorization"),
            received.headers.get("x-api-key"),
            model,
            stream,
            next(_SEQ),
            received.headers.get("anthropic-version"),
            {name.lower(): value for name, value in received.headers.items()},
            body,
        )
        self.requests.append(request)
        if received.method != "POST":
            return _not_found(received.path)
        if path == "/v1/messages/count_tokens":
            return Reply.json({"input_tokens": 10})
        name = model or "unknown"
        if request.protocol == "anthropic" and path == "/v1/messages":
            return _stream(name) if stream else Reply.json(_message(name))
        if request.protocol == "chat":
            return _chat_stream(name, body) if stream else Reply.json(_chat(name))
        if request.protocol == "responses":
            return _responses_stream(name) if stream else Reply.json(_response(name))
        if gemini is not None:
            return _gemini(name, gemini.group(2), "alt=sse" in received.path)
        return _not_found(path)


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


# --- OpenAI chat completions ------------------------------------------------------------

_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def _chat(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
        "usage": _USAGE,
    }


def _chat_stream(model: str, body: dict[str, Any]) -> Reply:
    def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"id": "chatcmpl-fake-1", "object": "chat.completion.chunk", "created": 1700000000, "model": model, "choices": choices, **extra}

    chunks = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": REPLY}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ]
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        chunks.append(chunk([], usage=_USAGE))
    data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return Reply(200, data.encode(), {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})


# --- OpenAI Responses -------------------------------------------------------------------


def _response(model: str, status: str = "completed") -> dict[str, Any]:
    done = status == "completed"
    return {
        "id": "resp_fake_1",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": model,
        "output": [_output_item("completed")] if done else [],
        "usage": (
            {
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 15,
            }
            if done
            else None
        ),
    }


def _output_item(status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": REPLY, "annotations": []}] if status == "completed" else []
    return {"id": "msg_fake_1", "type": "message", "status": status, "role": "assistant", "content": content}


def _responses_stream(model: str) -> Reply:
    part = {"type": "output_text", "text": REPLY, "annotations": []}
    at = {"item_id": "msg_fake_1", "output_index": 0, "content_index": 0}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": _response(model, "in_progress")}),
        ("response.in_progress", {"response": _response(model, "in_progress")}),
        ("response.output_item.added", {"output_index": 0, "item": _output_item("in_progress")}),
        ("response.content_part.added", {**at, "part": {**part, "text": ""}}),
        ("response.output_text.delta", {**at, "delta": REPLY}),
        ("response.output_text.done", {**at, "text": REPLY}),
        ("response.content_part.done", {**at, "part": part}),
        ("response.output_item.done", {"output_index": 0, "item": _output_item("completed")}),
        ("response.completed", {"response": _response(model)}),
    ]
    data = "".join(
        f"event: {name}\ndata: {json.dumps({'type': name, 'sequence_number': n, **doc})}\n\n" for n, (name, doc) in enumerate(events)
    )
    return Reply(200, data.encode(), {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})


# --- Gemini -----------------------------------------------------------------------------

#: .../models/<model>:<method>, as Gemini's API names a call.
_GEMINI = re.compile(r"/models/([^/:]+):(streamGenerateContent|generateContent|countTokens)$")


def _gemini(model: str, method: str, sse: bool) -> Reply:
    if method == "countTokens":
        return Reply.json({"totalTokens": 10})
    answer = {
        "candidates": [{"content": {"parts": [{"text": REPLY}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": model,
    }
    if method == "generateContent":
        return Reply.json(answer)
    if sse:
        return Reply(200, f"data: {json.dumps(answer)}\r\n\r\n".encode(), {"Content-Type": "text/event-stream"})
    return Reply.json([answer])
