"""OpenRouter's model list: fetched over HTTP(S), read into prices per 1M tokens and context windows."""

from __future__ import annotations

import json
from decimal import Decimal

from llmconf import __version__
from llmconf.catalog import catalog
from llmconf.errors import LlmconfError
from llmconf.records import dataclass

DEFAULT_SOURCE = "https://openrouter.ai"
LIST_PATH = "/api/v1/models"
_MAX_BYTES = 64 * 1024 * 1024  # the real list is about 1 MB; anything this big is not it


@dataclass(frozen=True)
class Listed:
    """One model from OpenRouter's list: price per 1M tokens, context window."""

    id: str
    name: str
    input: float
    output: float
    context: int | None


def fetch(source: str, timeout: float = 10.0) -> tuple[str, dict[str, Listed]]:
    """GET {source}/api/v1/models: (the URL, the models it lists). Any failure is an error."""
    import urllib.error
    import urllib.request

    url = source.rstrip("/") + LIST_PATH
    if not url.startswith(("http://", "https://")):
        raise LlmconfError(f"'{source}' is not an http(s) URL", hint="pass --from https://HOST")
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": f"llmconf/{__version__}"}
    )
    nothing = "nothing changed; check the network and the URL, then run it again"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(_MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        raise LlmconfError(f"cannot fetch {url}: HTTP {e.code} {e.reason}", hint=nothing) from None
    except urllib.error.URLError as e:
        reason = e.reason.strerror if isinstance(e.reason, OSError) and e.reason.strerror else e.reason
        raise LlmconfError(f"cannot fetch {url}: {reason}", hint=nothing) from None
    except (TimeoutError, OSError) as e:  # a timeout while reading, a reset connection
        raise LlmconfError(f"cannot fetch {url}: {e.strerror or e.__class__.__name__}", hint=nothing) from None
    if len(body) > _MAX_BYTES:
        raise LlmconfError(f"malformed response from {url}: larger than {_MAX_BYTES >> 20} MiB", hint="nothing changed")
    return url, parse_listing(body, url)


def parse_listing(body: bytes, url: str) -> dict[str, Listed]:
    """OpenRouter's model list ({"data": [{"id", "name", "context_length", "pricing": {"prompt",
    "completion"}}]}, prices per token as strings) as prices per 1M tokens. A response of another
    shape is an error; a model without a usable price (the auto router's -1) is left out."""

    def malformed(why: str) -> LlmconfError:
        return LlmconfError(f"malformed response from {url}: {why}", hint="nothing changed; is that OpenRouter's API?")

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise malformed("not JSON") from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise malformed("no 'data' list of models")
    listed: dict[str, Listed] = {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            raise malformed(f"model {i} has no 'id'")
        model_id = item["id"]
        if " " in model_id or model_id.endswith(catalog.EXACTO):
            continue
        pricing = item.get("pricing")
        try:
            per_token = [Decimal(str(pricing[k])) for k in ("prompt", "completion")]  # type: ignore[index]
        except (TypeError, KeyError, ArithmeticError):
            continue
        if any(not p.is_finite() or p < 0 for p in per_token):
            continue
        context = item.get("context_length")
        name = item.get("name")
        listed[model_id] = Listed(
            model_id,
            name if isinstance(name, str) and name.strip() else model_id,
            _per_million(per_token[0]),
            _per_million(per_token[1]),
            context if isinstance(context, int) and not isinstance(context, bool) and context > 0 else None,
        )
    if not listed:
        raise malformed("no model with a price in it")
    return listed


def _per_million(per_token: Decimal) -> float:
    # "0.00000022" a token is 0.22 per 1M: exact in Decimal, then the float that prints as 0.22.
    return float((per_token * 1_000_000).quantize(Decimal("0.000001")))
