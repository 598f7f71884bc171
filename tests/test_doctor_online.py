"""llmconf doctor --online: each slot tried through a fake gateway on 127.0.0.1, at the worktree
and slot it belongs to, as Claude Code would send it."""

from __future__ import annotations

import json
import re
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.conftest import write_tree
from tests.e2e.fakeapi import _stream
from tests.helpers import Received, Reply, serve

GOOD = "sk-or-v1-" + "a1" * 24  # key-shaped, so a scrub would catch it anyway: the tests look for it verbatim
OLD = "sk-or-v1-" + "b2" * 24
LISTED = ["mistralai/devstral-2512", "qwen/qwen3-coder", "z-ai/glm-4.7", "anthropic/claude-opus-4.5", "anthropic/claude-opus-4.1"]


class Gateway:
    """An OpenRouter-shaped gateway under /api: the key endpoint, a model list, and Messages
    calls that answer by model: qwen/qwen3-coder refuses tools, z-ai/glm-4.7 is slow (it waits
    until the test lets it go), an unknown key gets 401. With `listing=False` it is a plain
    Anthropic-style proxy at its root: no key endpoint, no list, and 404 for a model it lacks."""

    def __init__(self, listing: bool = True) -> None:
        self.listing = listing
        self.release = threading.Event()
        self.requests: list[Received] = []

    def answer(self, r: Received) -> Reply:
        self.requests.append(r)
        prefix = "/api" if self.listing else ""
        path, _, query = r.path.partition("?")
        key = r.headers.get("Authorization") or ""
        if self.listing and r.method == "GET" and path == "/api/v1/key":
            if key != f"Bearer {GOOD}":
                return Reply.json({"error": {"code": 401, "message": "User not found."}}, 401)
            return Reply.json({"data": {"label": "ci key", "limit": 10, "limit_remaining": 7.5, "usage": 2.5}})
        if self.listing and r.method == "GET" and path == "/api/v1/models":
            return Reply.json({"data": [{"id": m} for m in LISTED]})
        if r.method != "POST" or path != f"{prefix}/v1/messages" or query != "beta=true":
            return Reply.json({"type": "error", "error": {"type": "not_found_error", "message": f"Not Found: {path}"}}, 404)
        if key != f"Bearer {GOOD}" and r.headers.get("x-api-key") != GOOD:
            return Reply.json({"error": {"code": 401, "message": f"Invalid key {key[7:]}"}}, 401)  # echoes the key: doctor must not
        model = json.loads(r.body)["model"]
        if model == "qwen/qwen3-coder":
            return Reply.json({"error": {"code": 400, "message": "tools not supported by this model"}}, 400)
        if model == "z-ai/glm-4.7":
            self.release.wait(30)
        if not self.listing and model not in ("mistralai/devstral-2512",):
            return Reply.json({"type": "error", "error": {"type": "not_found_error", "message": f"model not found: {model}"}}, 404)
        return _stream(model)

    def messages(self) -> list[tuple[str, str, str]]:
        """(path, credential header, model) of each Messages call, in order."""
        out = []
        for r in self.requests:
            if r.method == "POST":
                header = "x-api-key" if r.headers.get("x-api-key") else "Authorization"
                out.append((r.path, header, json.loads(r.body)["model"]))
        return out


@pytest.fixture
def gateways():
    a, b = Gateway(), Gateway(listing=False)
    with serve(a.answer) as sa, serve(b.answer) as sb:
        a.url, b.url = sa.url, sb.url
        try:
            yield a, b
        finally:
            a.release.set()  # the slow answer ends before the server waits for it
            b.release.set()


@pytest.fixture
def fleet(tmp_path, monkeypatch, run, gateways):
    """Six worktrees: w1 and w2 (w2 overrides two slots) on the good key, `bad` on a stale key,
    `trap` on .../api/v1, `lite` on a plain proxy without a model list, `direct` on Anthropic."""
    a, b = gateways
    monkeypatch.setenv("LLMCONF_CLAUDE_MANAGED_SETTINGS", str(tmp_path / "managed.json"))
    for var in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert run("secret", "set", "or", stdin=GOOD + "\n").code == 0
    assert run("secret", "set", "or-old", stdin=OLD + "\n").code == 0
    models = "{haiku: mistralai/devstral-2512, sonnet: qwen/qwen3-coder, opus: z-ai/glm-4.7, fable: anthropic/claude-opus-4.6}"
    write_tree(
        tmp_path,
        {
            # The fake gateway's IDs are OpenRouter's: the catalog lists them (and knows :exacto) there too.
            "catalog.yaml": "gateways: [127.0.0.1]\n",
            "profiles/or.yaml": f"base_url: {a.url}/api\nauth_token: \"{{{{ secret('or') }}}}\"\nmodels: {models}\n",
            "profiles/or-old.yaml": "extends: or\nauth_token: \"{{ secret('or-old') }}\"\n",
            "profiles/or-v1.yaml": f"extends: or\nbase_url: {a.url}/api/v1\n",
            "profiles/lite.yaml": (
                f"base_url: {b.url}\nauth_token: \"{{{{ secret('or') }}}}\"\n"
                "models: {haiku: gone/model, sonnet: mistralai/devstral-2512, opus: mistralai/devstral-2512}\n"
            ),
            "worktrees.yaml": (
                "worktrees:\n  w1: or\n  w2:\n    profile: or\n    models: {sonnet: mistralai/devstral-2512, fable: anthropic/claude-opus-4.5}\n"
                "  bad: or-old\n  trap: or-v1\n  lite: lite\n  direct: anthropic\n"
            ),
            **{f"{w}/.keep": "" for w in ("w1", "w2", "bad", "trap", "lite", "direct")},
        },
    )
    assert run("apply", "--yes").code == 0
    return a, b


def live_lines(out: str) -> dict[str, list[str]]:
    """Each worktree's live lines, first-byte times as N."""
    found: dict[str, list[str]] = {}
    name = ""
    for line in out.splitlines():
        if line.startswith("# "):
            name = line[2:].split(" ")[0]
        elif line.startswith("  live "):
            found.setdefault(name, []).append(re.sub(r"first byte \d+ ms", "first byte N ms", line))
    return found


def cost(requests: list[tuple[float, float]]) -> str:
    """What the notice should say: 400 tokens in and 1 out per request, at these prices per 1M."""
    total = sum((Decimal(400) * Decimal(repr(i)) + Decimal(repr(o))) / Decimal(1_000_000) for i, o in requests)
    return f"${Decimal(total).quantize(Decimal('0.0001'), ROUND_HALF_UP)}"


def test_each_slot_is_reported_at_its_worktree(fleet, run):
    a, b = fleet
    result = run("doctor", "--online", "--timeout", "2")
    assert result.code == 1
    lines = live_lines(result.out)
    exacto = "use qwen/qwen3-coder:exacto: OpenRouter routes it to the providers with the best tool-calling accuracy"
    tools = "the model refuses tool definitions, which Claude Code sends with every request (HTTP 400: tools not supported by this model)"
    slow = "no answer within 2 s (a slow gateway or model: raise --timeout to wait longer)"
    assert lines["w1"] == [
        """  live    key     secret 'or' (ANTHROPIC_AUTH_TOKEN): label "ci key", limit $10.00, $7.50 left""",
        "  live    haiku   ok      mistralai/devstral-2512: answered, first byte N ms",
        f"  live    sonnet  FAILED  qwen/qwen3-coder: {tools} ({exacto})",
        f"  live    opus    FAILED  z-ai/glm-4.7: {slow}",
        "  live    fable   FAILED  anthropic/claude-opus-4.6: the gateway does not list this model "
        "(closest: anthropic/claude-opus-4.5, anthropic/claude-opus-4.1)",
    ]
    assert lines["w2"] == [
        """  live    key     secret 'or' (ANTHROPIC_AUTH_TOKEN): label "ci key", limit $10.00, $7.50 left""",
        "  live    haiku   ok      mistralai/devstral-2512: answered, first byte N ms",
        "  live    sonnet  ok      mistralai/devstral-2512: answered, first byte N ms",
        f"  live    opus    FAILED  z-ai/glm-4.7: {slow}",
        "  live    fable   ok      anthropic/claude-opus-4.5: answered, first byte N ms",
    ]
    refused = (
        "the gateway refuses the key secret 'or-old' (ANTHROPIC_AUTH_TOKEN) (HTTP 401: Invalid key (sensitive)) "
        "(store the right key: llmconf secret set or-old)"
    )
    assert lines["bad"] == [
        f"  live    haiku   FAILED  mistralai/devstral-2512: {refused}",
        f"  live    sonnet  FAILED  qwen/qwen3-coder: {refused}",
        f"  live    opus    FAILED  z-ai/glm-4.7: {refused}",
        "  live    fable   FAILED  anthropic/claude-opus-4.6: the gateway does not list this model "
        "(closest: anthropic/claude-opus-4.5, anthropic/claude-opus-4.1)",
    ]
    trap = (
        f"HTTP 404 from {a.url}/api/v1/v1/messages: the base URL ends in /v1, and Claude Code adds /v1/messages itself "
        f"(drop the /v1: base_url {a.url}/api)"
    )
    assert lines["trap"] == [
        f"  live    haiku   FAILED  mistralai/devstral-2512: {trap}",
        f"  live    sonnet  FAILED  qwen/qwen3-coder: {trap}",
        f"  live    opus    FAILED  z-ai/glm-4.7: {trap}",
        f"  live    fable   FAILED  anthropic/claude-opus-4.6: {trap}",
    ]
    assert lines["lite"] == [
        "  live    haiku   FAILED  gone/model: the gateway has no such model (HTTP 404: model not found: gone/model) "
        "(check the ID: 'llmconf models' lists the catalog's)",
        "  live    sonnet  ok      mistralai/devstral-2512: answered, first byte N ms",
        "  live    opus    ok      mistralai/devstral-2512: answered, first byte N ms",
    ]
    skipped = "skipped anthropic direct: Claude Code's own login, not checked"
    assert lines["direct"] == [f"  live    {slot:<7} {skipped}" for slot in ("haiku", "sonnet", "opus")]
    assert result.out.splitlines()[-1] == "0 errors, 0 warnings; live checks: 6 ok, 13 failed, 3 skipped."
    # Said first: what it sends and what that costs. One request per distinct (gateway, key,
    # model): w2's haiku, sonnet and opus ride on w1's; the fable models are in the count too
    # (the list decides only once it is read). Unpriced: claude-opus-4.6 (three times) and gone/model.
    devstral, qwen, glm, opus45 = (0.15, 0.60), (0.22, 0.95), (0.40, 1.50), (5.00, 25.00)
    priced = [devstral, qwen, glm, opus45] + [devstral, qwen, glm] * 2 + [devstral]
    assert result.out.splitlines()[0] == (
        "Live checks: one tiny request per slot (max_tokens 1, one tool definition, about 400 tokens in): "
        f"15 requests for 19 slots, each allowed 2 s; cost at the catalog's prices: about {cost(priced)} (4 models it cannot price)."
    )
    # What reached the wire: one Messages call per distinct request, none for a model the list lacks.
    sent = sorted(a.messages())
    assert sent == sorted(
        [("/api/v1/messages?beta=true", "Authorization", m) for m in ("mistralai/devstral-2512", "qwen/qwen3-coder", "z-ai/glm-4.7")] * 2
        + [("/api/v1/messages?beta=true", "Authorization", "anthropic/claude-opus-4.5")]
        + [("/api/v1/v1/messages?beta=true", "Authorization", m) for m in ("mistralai/devstral-2512", "qwen/qwen3-coder", "z-ai/glm-4.7", "anthropic/claude-opus-4.6")]
    )
    assert sorted(b.messages()) == [("/v1/messages?beta=true", "Authorization", "gone/model"), ("/v1/messages?beta=true", "Authorization", "mistralai/devstral-2512")]
    for r in a.requests + b.requests:
        if r.method == "POST":
            body = json.loads(r.body)
            assert (body["max_tokens"], body["stream"], [t["name"] for t in body["tools"]]) == (1, True, ["llmconf_check"])
            assert r.headers["anthropic-version"] == "2023-06-01"
    assert GOOD not in result.out + result.err and OLD not in result.out + result.err


def test_json_names_the_secret_never_its_value(fleet, run):
    result = run("doctor", "--online", "--timeout", "2", "--json", "w1", "bad", "direct")
    assert result.code == 1
    assert GOOD not in result.out and OLD not in result.out
    doc = json.loads(result.out)
    assert doc["format_version"] == "1"
    assert {k: doc["live"][k] for k in ("requests", "slots", "unpriced_requests", "timeout_seconds", "ok", "failed", "skipped")} == {
        "requests": 8, "slots": 8, "unpriced_requests": 2, "timeout_seconds": 2.0, "ok": 1, "failed": 7, "skipped": 3,
    }
    wts = {w["name"]: w["live"] for w in doc["worktrees"]}
    assert wts["w1"]["key"] == {"label": "ci key", "limit_usd": 10.0, "remaining_usd": 7.5, "usage_usd": 2.5}
    assert wts["bad"]["key"] is None  # the key endpoint refused it
    first = wts["bad"]["slots"][0]
    assert first["credentials"] == [
        {"header": "Authorization", "variable": "ANTHROPIC_AUTH_TOKEN", "name": "secret 'or-old' (ANTHROPIC_AUTH_TOKEN)", "secret": "or-old"}
    ]
    assert (first["slot"], first["model"], first["status"], first["first_byte_ms"]) == ("haiku", "mistralai/devstral-2512", "failed", None)
    assert [(s["slot"], s["status"]) for s in wts["w1"]["slots"]] == [("haiku", "ok"), ("sonnet", "failed"), ("opus", "failed"), ("fable", "failed")]
    assert isinstance(wts["w1"]["slots"][0]["first_byte_ms"], int)
    assert [s["status"] for s in wts["direct"]["slots"]] == ["skipped"] * 3
    assert not result.out.startswith("Live checks")  # the notice is in the document, not before it


def test_every_slot_working_exits_0(fleet, run, tmp_path):
    a, _ = fleet
    (tmp_path / "profiles/fine.yaml").write_text(
        f"base_url: {a.url}/api\nauth_token: \"{{{{ secret('or') }}}}\"\n"
        "models: {haiku: mistralai/devstral-2512, sonnet: mistralai/devstral-2512, opus: anthropic/claude-opus-4.5}\n"
    )
    assert run("use", "fine", "w1", "--apply", "--yes").code == 0
    result = run("doctor", "w1", "direct", "--online")
    assert result.code == 0, result.out
    assert result.out.splitlines()[-1] == "0 errors, 0 warnings; live checks: 3 ok, 0 failed, 3 skipped."
    assert result.out.splitlines()[0].endswith(
        f"2 requests for 3 slots, each allowed 20 s; cost at the catalog's prices: about {cost([(0.15, 0.60), (5.00, 25.00)])}."
    )


def test_the_shell_key_and_address_are_what_is_checked(fleet, run, monkeypatch):
    """An "anthropic direct" worktree under a shell that exports a gateway and an API key: Claude
    Code sends that key as x-api-key, and doctor checks exactly that."""
    _, b = fleet
    monkeypatch.setenv("ANTHROPIC_BASE_URL", b.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", GOOD)
    monkeypatch.setenv("ANTHROPIC_DEFAULT_HAIKU_MODEL", "mistralai/devstral-2512")
    result = run("doctor", "direct", "--online", "--json")
    assert result.code == 1  # the shell's gateway is an error finding (a direct worktree on it), the slot works
    slots = json.loads(result.out)["worktrees"][0]["live"]["slots"]
    assert [(s["slot"], s["status"], s["message"]) for s in slots] == [
        ("haiku", "ok", "answered"),
        ("sonnet", "skipped", "not mapped: Claude Code sends its own model ID here, not checked"),
        ("opus", "skipped", "not mapped: Claude Code sends its own model ID here, not checked"),
    ]
    assert slots[0]["credentials"] == [
        {"header": "x-api-key", "variable": "ANTHROPIC_API_KEY", "name": "ANTHROPIC_API_KEY (from the shell environment)", "secret": None}
    ]
    assert b.messages() == [("/v1/messages?beta=true", "x-api-key", "mistralai/devstral-2512")]
    assert GOOD not in result.out + result.err


def test_a_gateway_that_is_gone(fleet, run, tmp_path):
    (tmp_path / "profiles/gone.yaml").write_text("base_url: http://127.0.0.1:9/api\nauth_token: t\nmodels: {haiku: h, sonnet: s, opus: o}\n")
    assert run("use", "gone", "w1", "--apply", "--yes").code == 0
    result = run("doctor", "w1", "--online", "--timeout", "2")
    assert result.code == 1
    assert live_lines(result.out)["w1"] == [
        f"  live    {slot:<7} FAILED  {slot[0]}: cannot reach the gateway: Connection refused (check base_url and the network)"
        for slot in ("haiku", "sonnet", "opus")
    ]


@pytest.mark.parametrize(("value", "error"), [("0", "'0' is not more than 0 and at most 3600 seconds"), ("soon", "'soon' is not a number of seconds")])
def test_timeout_is_a_number_of_seconds(capsys, value, error):
    from llmconf import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["doctor", "--online", "--timeout", value])
    assert (exc.value.code, capsys.readouterr().err.splitlines()[-1]) == (1, f"llmconf: argument --timeout: {error}")


def test_a_redirect_is_not_followed_with_the_key(fleet, run, tmp_path):
    """urllib would carry the key's headers to wherever a redirect points: doctor stops there."""
    with serve(Reply(200)) as elsewhere, serve(lambda r: Reply(307, b"", {"Location": elsewhere.url + r.path})) as moved:
        (tmp_path / "profiles/moved.yaml").write_text(
            f"base_url: {moved.url}\nauth_token: \"{{{{ secret('or') }}}}\"\nmodels: {{haiku: h, sonnet: h, opus: h}}\n"
        )
        assert run("use", "moved", "w1", "--apply", "--yes").code == 0
        result = run("doctor", "w1", "--online")
        assert elsewhere.requests == []
        assert sorted(r.method for r in moved.requests) == ["GET", "GET", "POST"]  # key, models, one Messages call
    assert result.code == 1
    said = (
        f"FAILED  h: HTTP 307: the gateway redirects to {elsewhere.url}/v1/messages?beta=true; doctor does not follow it, "
        "as it would carry the key there (set base_url to the address it redirects to, if you trust it)"
    )
    assert live_lines(result.out)["w1"] == [f"  live    {slot:<7} {said}" for slot in ("haiku", "sonnet", "opus")]


def test_key_via_helper_is_checked_both_ways_and_no_key_is_named(fleet, run, tmp_path):
    """key_via: helper: Claude Code runs llmconf's `secret get` and sends its output as x-api-key
    and Authorization alike (tests/e2e pins that); doctor reads the same secret and does the same.
    A gateway profile without a key sends none, and says so."""
    a, _ = fleet
    write_tree(
        tmp_path,
        {
            "profiles/helper.yaml": "extends: or\nkey_via: helper\nmodels: {haiku: mistralai/devstral-2512, sonnet: mistralai/devstral-2512, opus: mistralai/devstral-2512, fable: mistralai/devstral-2512}\n",
            "profiles/keyless.yaml": f"base_url: {a.url}/api\nmodels: {{haiku: mistralai/devstral-2512, sonnet: mistralai/devstral-2512, opus: mistralai/devstral-2512}}\n",
        },
    )
    assert run("use", "helper", "w1", "--apply", "--yes").code == 0
    assert run("use", "keyless", "w2", "--apply", "--yes").code == 0
    assert GOOD not in (tmp_path / "w1/.claude/settings.local.json").read_text()
    result = run("doctor", "w1", "w2", "--online", "--json")
    assert GOOD not in result.out + result.err
    wts = {w["name"]: w["live"] for w in json.loads(result.out)["worktrees"]}
    assert [(s["status"], s["message"]) for s in wts["w1"]["slots"]] == [("ok", "answered")] * 4
    assert [c["header"] for c in wts["w1"]["slots"][0]["credentials"]] == ["x-api-key", "Authorization"]
    assert {c["name"] for c in wts["w1"]["slots"][0]["credentials"]} == {"secret 'or' (apiKeyHelper)"}
    posts = [r for r in a.requests if r.method == "POST"]
    keyed = [(r.headers["x-api-key"], r.headers["Authorization"]) for r in posts if json.loads(r.body)["model"] == "mistralai/devstral-2512" and r.headers["x-api-key"]]
    assert keyed == [(GOOD, f"Bearer {GOOD}")]
    refused = "no key is sent: neither ANTHROPIC_AUTH_TOKEN nor ANTHROPIC_API_KEY is set (HTTP 401: Invalid key)"
    assert [(s["status"], s["message"], s["hint"]) for s in wts["w2"]["slots"]] == [("failed", refused, "set the profile's auth_token")] * 4
    assert result.code == 1
    # One request for w1's four slots; two for w2's (its own fable override is another model).
    assert len(posts) == 3


def test_a_wildcard_route_in_the_list_takes_the_model():
    from llmconf.targets.claude_code.live import _listed

    routes = frozenset({"anthropic/*", "qwen/qwen3-coder"})
    assert [_listed(m, routes) for m in ("anthropic/claude-opus-4.5", "qwen/qwen3-coder:exacto", "z-ai/glm-4.7")] == [True, True, False]
    assert _listed("anything", None)  # no list: the Messages call decides


def test_without_online_nothing_is_sent(fleet, run):
    a, b = fleet
    assert run("doctor").code == 0
    assert (a.requests, b.requests) == ([], [])


def test_a_linked_worktree_is_checked_through_its_delivery(gateways, run, tmp_path, monkeypatch):
    """The main checkout's local file holds a stale key; from 2.1.211 a plain claude in the linked
    worktree would send it, so llmconf delivers through --settings, and doctor checks that."""
    from tests.helpers import make_repo

    a, _ = gateways
    monkeypatch.setenv("LLMCONF_CLAUDE_MANAGED_SETTINGS", str(tmp_path / "managed.json"))
    make_repo(tmp_path, "main", linked=("wt",))
    assert run("secret", "set", "or", stdin=GOOD + "\n").code == 0
    assert run("secret", "set", "or-old", stdin=OLD + "\n").code == 0
    models = "{haiku: mistralai/devstral-2512, sonnet: mistralai/devstral-2512, opus: mistralai/devstral-2512}"
    write_tree(
        tmp_path,
        {
            "cfg/profiles/or.yaml": f"base_url: {a.url}/api\nauth_token: \"{{{{ secret('or') }}}}\"\nmodels: {models}\n",
            "cfg/profiles/or-old.yaml": "extends: or\nauth_token: \"{{ secret('or-old') }}\"\n",
            "cfg/worktrees.yaml": "worktrees:\n  ../main: or-old\n  ../wt: or\n",
        },
    )
    assert run("-C", "cfg", "apply", "--yes").code == 0
    doc = json.loads(run("-C", "cfg", "doctor", "--online", "--json").out)
    live = {w["name"]: w["live"] for w in doc["worktrees"]}
    assert [w["delivery"]["kind"] for w in doc["worktrees"]] == ["file", "settings"]
    assert [s["status"] for s in live["wt"]["slots"]] == ["ok"] * 3
    assert live["wt"]["slots"][0]["credentials"][0]["name"] == "secret 'or' (ANTHROPIC_AUTH_TOKEN)"
    assert [s["status"] for s in live["main"]["slots"]] == ["failed"] * 3
    assert live["main"]["slots"][0]["message"].startswith("the gateway refuses the key secret 'or-old' (ANTHROPIC_AUTH_TOKEN)")
