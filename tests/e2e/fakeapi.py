"""A fake Anthropic Messages API on 127.0.0.1: records every request, answers like the real one.

Stdlib only. POST /v1/messages gets a short text reply, streamed as server-sent events when
the request asks for it (message_start, content_block_start, content_block_delta,
content_block_stop, message_delta, message_stop), else as one JSON message. Anything else
gets a 404 after it is recorded, so a test sees every request that reached the server.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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


@dataclass
class FakeApi:
    """Start with `with FakeApi() as api:`; `api.url` is the base URL to configure."""

    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def messages(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0] == "/v1/messages"]

    def __enter__(self) -> FakeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _record(self, body: dict[str, Any]) -> None:
                api.requests.append(
                    Request(
                        self.command,
                        self.path,
                        self.headers.get("Authorization"),
                        self.headers.get("x-api-key"),
                        body.get("model"),
                        bool(body.get("stream")),
                        next(_SEQ),
                    )
                )

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return {}
                return body if isinstance(body, dict) else {}

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                self._record(body)
                path = self.path.split("?")[0]
                if path == "/v1/messages/count_tokens":
                    return self._json(200, {"input_tokens": 10})
                if path != "/v1/messages":
                    return self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
                model = body.get("model", "unknown")
                if body.get("stream"):
                    return self._stream(model)
                return self._json(200, _message(model))

            def do_GET(self) -> None:  # noqa: N802
                self._record({})
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

            do_HEAD = do_GET  # noqa: N815

            def _json(self, status: int, doc: dict[str, Any]) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _stream(self, model: str) -> None:
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
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


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
