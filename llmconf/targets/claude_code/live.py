"""doctor --online: each slot of each worktree tried on the wire, the way Claude Code sends it.

What a slot sends comes from the effective values (effective.Wire: whatever the delivery, the
main checkout's layer and the shell included). How Claude Code sends it was measured with
2.1.197 and 2.1.332 against a fake gateway:
- POST <ANTHROPIC_BASE_URL>/v1/messages?beta=true, with anthropic-version 2023-06-01 and
  stream: true. So a base URL that ends in /v1 (https://openrouter.ai/api/v1) gets
  .../v1/v1/messages, a 404, which Claude Code reports as a model that may not exist;
- ANTHROPIC_API_KEY, when not blank, goes as x-api-key, ANTHROPIC_AUTH_TOKEN as
  Authorization: Bearer; both go when both are set; an apiKeyHelper's output goes both ways.

Per distinct (address, credentials): one key lookup (GET /v1/key: OpenRouter answers with the
key's label, limit and credit left) and one model list (GET /v1/models). Per distinct
(address, credentials, model): one Messages call with a tool definition and max_tokens 1,
shared by every slot and worktree that sends the same. Stdlib HTTP in a thread pool, each
request bounded by the timeout. A credential never leaves this module but in a request header:
Credential's repr, every message and every view name it, never show it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from llmconf import __version__
from llmconf.errors import LlmconfError
from llmconf.records import dataclass, field
from llmconf.render import Sensitive
from llmconf.secrets.mask import SENSITIVE, scrub
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.catalog.catalog import Catalog
    from llmconf.secrets.store import SecretStore
    from llmconf.targets.claude_code.effective import Effective

#: What Claude Code appends to ANTHROPIC_BASE_URL for a Messages call (2.1.197 and 2.1.332).
MESSAGES_PATH = "/v1/messages?beta=true"
ANTHROPIC_VERSION = "2023-06-01"
#: Seconds each request may take, unless --timeout says otherwise.
DEFAULT_TIMEOUT = 20.0
#: What one check costs, for the estimate: a short prompt and one tool definition (with the tool
#: use system prompt some models add), and the one output token max_tokens allows.
INPUT_TOKENS = 400
OUTPUT_TOKENS = 1
#: Requests in flight at once.
_WORKERS = 8
#: Bytes read of any answer: a Messages reply of one token, an error, or a model list (OpenRouter's is about 1 MB).
_LIMIT = 16 * 1024 * 1024
_TOOL = {
    "name": "llmconf_check",
    "description": "Not called: llmconf doctor checks that the model accepts a tool definition.",
    "input_schema": {"type": "object", "properties": {}},
}

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)  # its own __repr__ below: never a credential
class Credential:
    """One credential header as Claude Code sends it, and how people know it (`name`)."""

    header: str  # x-api-key, or Authorization (sent as "Bearer <value>")
    variable: str  # ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or apiKeyHelper
    name: str  # "secret 'openrouter' (ANTHROPIC_AUTH_TOKEN)", "ANTHROPIC_API_KEY (from the shell environment)"
    secret: str | None  # the secret store's name for it, when it is one
    value: Sensitive

    def __repr__(self) -> str:
        return f"Credential({self.header}, {self.name})"

    def sent(self) -> tuple[str, str]:
        return self.header, f"Bearer {self.value}" if self.header == "Authorization" else str(self.value)


@dataclass(frozen=True)
class Outcome:
    """What one check found for a slot: ok, failed (the slot cannot work) or skipped (not checked)."""

    status: str
    message: str
    hint: str | None = None
    first_byte_ms: int | None = None


@dataclass(frozen=True)  # its own __repr__ below: never a credential
class Slot:
    """One slot of one worktree, as its sessions send it. `known`: an outcome found without
    asking the gateway (not checked, or a key that cannot be had)."""

    worktree: Path
    slot: str
    shown_model: str | None
    model: str | None
    url: str | None
    shown_url: str | None
    credentials: tuple[Credential, ...] = ()
    known: Outcome | None = None

    def __repr__(self) -> str:
        return f"Slot({self.worktree}, {self.slot})"

    @property
    def endpoint(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What one key lookup and one model list serve: the address and the headers sent."""
        return self.url or "", tuple(c.sent() for c in self.credentials)

    @property
    def request(self) -> tuple[str, tuple[tuple[str, str], ...], str]:
        """What one Messages call serves: the endpoint and the model."""
        return (*self.endpoint, self.model or "")


@dataclass(frozen=True)
class KeyInfo:
    """OpenRouter's word on a key (GET /api/v1/key): its label, and US$ limit, used and left (None: no limit)."""

    label: str | None
    limit: float | None
    remaining: float | None
    usage: float | None


@dataclass(frozen=True)
class Estimate:
    """What the checks will send: Messages calls, the slots they serve, their cost at the
    catalog's prices (of those it can price), and how many it cannot price."""

    requests: int
    slots: int
    cost: Decimal | None
    unpriced: int


@dataclass(frozen=True)
class Report:
    """Every slot's outcome, per worktree in order, with the key's details where the gateway gave them."""

    estimate: Estimate
    timeout: float
    slots: dict[Path, list[tuple[Slot, Outcome]]] = field(default_factory=dict)
    keys: dict[Path, KeyInfo] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(o.status == status for found in self.slots.values() for _, o in found)


class Names:
    """How a credential is named to people: the secret (or environment variable) a template read
    it from, else the variable and the layer that set it. `reads`: the planner's ("secret:NAME"
    or "env:NAME" -> value); values are compared in memory, never shown."""

    def __init__(self, reads: Mapping[str, str | None], secrets: SecretStore) -> None:
        self._secrets = secrets
        self._by_value: dict[str, tuple[str, str | None]] = {}
        for read, value in reads.items():
            kind, _, name = read.partition(":")
            if value:
                self._by_value.setdefault(value, (f"secret '{name}'", name) if kind == "secret" else (f"${name}", None))

    def credential(self, header: str, variable: str, value: str, source: str | None) -> Credential:
        known = self._by_value.get(value)
        if known is not None:
            return Credential(header, variable, f"{known[0]} ({variable})", known[1], Sensitive(value))
        where = "the shell environment" if source == "shell" else source or "an unknown layer"
        return Credential(header, variable, f"{variable} (from {where})", None, Sensitive(value))

    def helper(self, command: str) -> tuple[str, str | None] | None:
        """(secret name, its value or None) when `command` is llmconf's own `secret get NAME` on
        this secret store (key_via: helper); None for any other helper, which doctor does not run."""
        try:
            argv = shlex.split(command)
        except ValueError:
            return None
        ours = bool(argv) and (Path(argv[0]).name == "llmconf" or argv[1:3] == ["-m", "llmconf"])
        at = next((i for i in range(len(argv) - 2) if argv[i : i + 2] == ["secret", "get"]), None)
        if not ours or at is None:
            return None
        if "--file" in argv[:-1] and Path(argv[argv.index("--file") + 1]) != Path(self._secrets.path):
            return None
        name = argv[at + 2]
        try:
            return name, self._secrets.get(name)
        except LlmconfError:
            return name, None


def slots_of(worktree: Path, effective: Effective, names: Names, missing: bool = False) -> list[Slot]:
    """Each slot of a worktree Claude Code may use (haiku, sonnet, opus; fable where mapped), as it sends it."""
    wire = effective.wire
    out: list[Slot] = []
    for slot in target.SLOTS:
        model = wire.models.get(slot) if wire is not None else None
        if slot not in target.IMPLICIT_SLOTS and not model:
            continue
        base = Slot(worktree, slot, effective.models.get(slot), model, wire.url if wire else None, effective.base_url)
        out.append(_slot(base, effective, names, missing))
    return out


def _slot(base: Slot, effective: Effective, names: Names, missing: bool) -> Slot:
    from llmconf.records import replace

    wire = effective.wire
    if missing or wire is None:
        return replace(base, known=Outcome(SKIPPED, "the worktree's folder is missing"))
    if wire.url is None:
        return replace(base, known=Outcome(SKIPPED, "anthropic direct: Claude Code's own login, not checked"))
    if base.model is None:
        return replace(base, known=Outcome(SKIPPED, "not mapped: Claude Code sends its own model ID here, not checked"))
    sources = effective.sources or {}
    if wire.helper is not None:
        found = names.helper(wire.helper)
        if found is None:
            return replace(base, known=Outcome(SKIPPED, "the key comes from an apiKeyHelper that doctor does not run"))
        name, value = found
        if value is None:
            return replace(
                base,
                known=Outcome(FAILED, f"apiKeyHelper prints secret '{name}', which is not set", f"run 'llmconf secret set {name}'"),
            )
        shown = f"secret '{name}' (apiKeyHelper)"
        key = Sensitive(value)
        both = (Credential("x-api-key", "apiKeyHelper", shown, name, key), Credential("Authorization", "apiKeyHelper", shown, name, key))
        return replace(base, credentials=both)
    sent = []
    for header, variable, value in (("x-api-key", target.API_KEY, wire.api_key), ("Authorization", target.AUTH_TOKEN, wire.auth_token)):
        if value is not None:
            sent.append(names.credential(header, variable, value, sources.get(target.key_name((target.ENV, variable)))))
    return replace(base, credentials=tuple(sent))


def estimate(slots: Iterable[Slot], catalog: Catalog | None) -> Estimate:
    """What the checks will send and cost: one Messages call per distinct request."""
    from llmconf.catalog import cost

    asked = [s for s in slots if s.known is None]
    requests = {s.request: s.model for s in asked}
    total: Decimal | None = None
    unpriced = 0
    for model in requests.values():
        price = cost.session(catalog.find(model or "") if catalog else None, cost.Usage(INPUT_TOKENS, OUTPUT_TOKENS, 1))
        if price is None:
            unpriced += 1
        else:
            total = (total or Decimal(0)) + price
    return Estimate(len(requests), len(asked), total, unpriced)


def run(slots: Mapping[Path, Sequence[Slot]], catalog: Catalog | None, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Ask the gateways, in parallel: the key and model list per endpoint, then one Messages
    call per distinct request; every slot gets its outcome."""
    from concurrent.futures import ThreadPoolExecutor

    every = [s for found in slots.values() for s in found]
    asked = [s for s in every if s.known is None]
    endpoints = {s.endpoint: s for s in asked}
    report = Report(estimate(every, catalog), float(timeout))
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="llmconf-live") as pool:
        keys = {e: pool.submit(_key_info, s, timeout) for e, s in endpoints.items()}
        lists = {e: pool.submit(_model_list, s, timeout) for e, s in endpoints.items()}
        listed = {e: f.result() for e, f in lists.items()}
        missing = {s.request for s in asked if not _listed(s.model or "", listed[s.endpoint])}
        distinct = {s.request: s for s in asked if s.request not in missing}  # one call serves every slot that sends the same
        calls = {r: pool.submit(_messages, s, timeout) for r, s in distinct.items()}
        answers = {r: f.result() for r, f in calls.items()}
        infos = {e: f.result() for e, f in keys.items()}
    for worktree, found in slots.items():
        out = report.slots.setdefault(worktree, [])
        for s in found:
            if s.known is not None:
                out.append((s, s.known))
            elif s.request in missing:
                out.append((s, _not_listed(s, listed[s.endpoint] or frozenset())))
            else:
                out.append((s, judge(s, answers[s.request], listed[s.endpoint], catalog, timeout)))
            info = infos.get(s.endpoint) if s.known is None else None
            if info is not None:
                report.keys[worktree] = info
    return report


# --- the wire ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What came back: the HTTP status and body (status None: no answer, and `failure` says
    why: "timeout" or the reason), and the seconds to its first byte."""

    status: int | None
    body: bytes = b""
    content_type: str = ""
    first_byte: float | None = None
    failure: str | None = None
    location: str | None = None  # where a redirect points


def _headers(slot: Slot, json_body: bool = False) -> dict[str, str]:
    headers = {"Accept": "application/json", "anthropic-version": ANTHROPIC_VERSION, "User-Agent": f"llmconf/{__version__}"}
    if json_body:
        headers["Content-Type"] = "application/json"
    headers.update(c.sent() for c in slot.credentials)
    return headers


def _url(slot: Slot, path: str) -> str:
    return (slot.url or "").rstrip("/") + path


def exchange(method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> Answer:
    """One HTTP request, bounded: `timeout` seconds for the answer to start, and as long again
    to read it. Never raises for what the network or the server does."""
    import socket
    import time
    import urllib.error
    import urllib.request

    class _Stay(urllib.request.HTTPRedirectHandler):
        """No redirect is followed: urllib would carry the key's headers to wherever it points."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    start = time.monotonic()
    try:
        try:
            response: Any = urllib.request.build_opener(_Stay).open(request, timeout=timeout)
        except urllib.error.HTTPError as e:
            response = e
        status = response.status if hasattr(response, "status") else response.code
        with response:
            first = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            first_byte = time.monotonic() - start
            chunks, size = [first], len(first)
            while first and size <= _LIMIT and time.monotonic() - start < 2 * timeout:
                first = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
                chunks.append(first)
                size += len(first)
        got = response.headers
        return Answer(status, b"".join(chunks)[:_LIMIT], got.get("Content-Type", "") or "", first_byte, location=got.get("Location"))
    except urllib.error.URLError as e:
        if isinstance(e.reason, (TimeoutError, socket.timeout)):
            return Answer(None, failure="timeout")
        reason = e.reason.strerror if isinstance(e.reason, OSError) and e.reason.strerror else str(e.reason)
        return Answer(None, failure=reason)
    except (TimeoutError, socket.timeout):
        return Answer(None, failure="timeout")
    except (OSError, ValueError) as e:  # a reset connection, a URL urllib cannot use
        return Answer(None, failure=getattr(e, "strerror", None) or e.__class__.__name__)
    except Exception as e:  # http.client's IncompleteRead, BadStatusLine...: a broken answer, not a crash
        return Answer(None, failure=f"a broken answer ({e.__class__.__name__})")


def _key_info(slot: Slot, timeout: float) -> KeyInfo | None:
    """The key's label, limit and credit left, where the gateway has OpenRouter's key endpoint."""
    answer = exchange("GET", _url(slot, "/v1/key"), _headers(slot), None, timeout)
    data = _json(answer.body).get("data") if answer.status == 200 else None
    if not isinstance(data, dict) or not ({"label", "limit", "limit_remaining"} & set(data)):
        return None
    label = data.get("label")
    return KeyInfo(
        _clean(str(label), slot) if isinstance(label, str) and label else None,
        _number(data.get("limit")),
        _number(data.get("limit_remaining")),
        _number(data.get("usage")),
    )


def _model_list(slot: Slot, timeout: float) -> frozenset[str] | None:
    """The model IDs the gateway lists (OpenRouter's /api/v1/models, Anthropic's /v1/models),
    or None where it has no list, or gives only a page of it."""
    answer = exchange("GET", _url(slot, "/v1/models?limit=1000"), _headers(slot), None, timeout)
    doc = _json(answer.body) if answer.status == 200 else {}
    data = doc.get("data")
    if not isinstance(data, list) or doc.get("has_more") is True:
        return None
    ids = frozenset(item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str))
    return ids or None


def _messages(slot: Slot, timeout: float) -> Answer:
    body = {
        "model": slot.model,
        "max_tokens": OUTPUT_TOKENS,
        "stream": True,
        "messages": [{"role": "user", "content": "Say ok."}],
        "tools": [_TOOL],
    }
    return exchange("POST", _url(slot, MESSAGES_PATH), _headers(slot, json_body=True), json.dumps(body).encode(), timeout)


# --- what an answer means ------------------------------------------------------------------------


def _listed(model: str, ids: frozenset[str] | None) -> bool:
    """Whether the gateway lists a model: its ID, without a routing suffix (OpenRouter lists no
    :exacto IDs), or a wildcard route that takes it (a LiteLLM proxy's "anthropic/*")."""
    import fnmatch

    from llmconf.catalog.catalog import split_suffix

    if ids is None or model in ids or split_suffix(model)[0] in ids:
        return True
    return any("*" in i and fnmatch.fnmatchcase(model, i) for i in ids)


def _closest(slot: Slot, ids: frozenset[str] | None) -> str | None:
    import difflib

    if not ids or slot.shown_model == SENSITIVE or not slot.model:  # a secret model ID: no near miss shown either
        return None
    near = difflib.get_close_matches(slot.model, sorted(ids), n=3, cutoff=0.6)
    return f"closest: {', '.join(near)}" if near else None


def _not_listed(slot: Slot, ids: frozenset[str]) -> Outcome:
    return Outcome(FAILED, "the gateway does not list this model", _closest(slot, ids) or "check the ID against the gateway's model list")


def judge(slot: Slot, answer: Answer, ids: frozenset[str] | None, catalog: Catalog | None, timeout: float) -> Outcome:
    """A Messages answer as an outcome for the slot (pure: the tests call it on made-up answers too)."""
    if answer.status is None:
        if answer.failure == "timeout":
            return Outcome(FAILED, f"no answer within {timeout:g} s", "a slow gateway or model: raise --timeout to wait longer")
        return Outcome(FAILED, f"cannot reach the gateway: {_clean(str(answer.failure), slot)}", "check base_url and the network")
    if answer.status == 200:
        return _answered(slot, answer)
    said = _error_text(answer.body, slot)
    status = f"HTTP {answer.status}" + (f": {said}" if said else "")
    if 300 <= answer.status < 400:
        where = f" to {_clean(answer.location, slot)}" if answer.location else ""
        return Outcome(
            FAILED,
            f"HTTP {answer.status}: the gateway redirects{where}; doctor does not follow it, as it would carry the key there",
            "set base_url to the address it redirects to, if you trust it",
        )
    if answer.status in (401, 403):
        if not slot.credentials:
            return Outcome(FAILED, f"no key is sent: neither {target.AUTH_TOKEN} nor {target.API_KEY} is set ({status})", "set the profile's auth_token")
        named = " and ".join(dict.fromkeys(c.name for c in slot.credentials))
        secret = next((c.secret for c in slot.credentials if c.secret), None)
        fix = f"store the right key: llmconf secret set {secret}" if secret else "set the right key there"
        return Outcome(FAILED, f"the gateway refuses the key {named} ({status})", fix)
    if 400 <= answer.status < 500 and "tool" in said.lower():
        return Outcome(FAILED, f"the model refuses tool definitions, which Claude Code sends with every request ({status})", _exacto(slot, catalog))
    if answer.status == 404 and urlsplit(slot.url or "").path.rstrip("/").endswith("/v1"):
        shown = (slot.shown_url or "").rstrip("/")
        return Outcome(
            FAILED,
            f"HTTP 404 from {shown}/v1/messages: the base URL ends in /v1, and Claude Code adds /v1/messages itself",
            f"drop the /v1: base_url {shown[:-3]}",
        )
    if answer.status == 404 or (answer.status in (400, 422) and "model" in said.lower()):
        return Outcome(FAILED, f"the gateway has no such model ({status})", _closest(slot, ids) or "check the ID: 'llmconf models' lists the catalog's")
    return Outcome(FAILED, status)


def _answered(slot: Slot, answer: Answer) -> Outcome:
    ms = round((answer.first_byte or 0) * 1000)
    if "event-stream" in answer.content_type:
        events = _events(answer.body)
        for name, data in events:
            if name == "error":
                said = _error_text(data.encode(), slot)
                return Outcome(FAILED, f"the answer stopped with an error: {said or 'no reason given'}")
        if any(name == "message_start" for name, _ in events):
            return Outcome(OK, "answered", first_byte_ms=ms)
    elif _json(answer.body).get("type") == "message":
        return Outcome(OK, "answered", first_byte_ms=ms)
    return Outcome(FAILED, "HTTP 200, but not a Messages answer", "is base_url an Anthropic-style API (what Claude Code speaks)?")


def _exacto(slot: Slot, catalog: Catalog | None) -> str:
    from llmconf.catalog.catalog import EXACTO, split_suffix

    model = catalog.find(slot.model or "") if catalog is not None else None
    base, suffix = split_suffix(slot.model or "")
    if model is not None and model.exacto and suffix != EXACTO and catalog is not None and catalog.lists(slot.url or ""):
        return f"use {base}{EXACTO}: OpenRouter routes it to the providers with the best tool-calling accuracy"
    return "pick a model that supports tool use"


def _events(body: bytes) -> list[tuple[str, str]]:
    """Server-sent events as (name, data)."""
    out = []
    for block in body.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n"):
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if name or data:
            out.append((name, "\n".join(data)))
    return out


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _error_text(body: bytes, slot: Slot) -> str:
    """The gateway's reason, from an Anthropic or OpenRouter error body (or its first line), cleaned."""
    doc = _json(body)
    error = doc.get("error")
    said: Any = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else doc.get("message")
    if not isinstance(said, str):
        said = "" if doc else body[:400].decode("utf-8", "replace").strip().split("\n")[0]
    return _clean(said, slot)


def _clean(text: str, slot: Slot) -> str:
    """Text from the gateway or the network, safe to show: the credentials and anything shaped
    like a key hidden, one line, at most 200 characters."""
    hidden: list[str] = [c.value for c in slot.credentials]
    if slot.shown_model == SENSITIVE and slot.model:  # a model ID from a secret: as secret as the key
        hidden.append(slot.model)
    for value in hidden:
        if len(value) >= 6:  # a real key; a test's "t" would mangle every word
            text = text.replace(value, SENSITIVE)
    text = " ".join(scrub(text).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

