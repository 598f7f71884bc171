"""llmconf doctor: each worktree as Claude Code will read it, and what overrides the profile.

`examine` is pure: from the keys llmconf declares for a worktree, the parsed settings layers
and the shell's environment, it works out the effective backend and the findings. The facts
it encodes were checked against the real CLI (Claude Code 2.1.197):
- layers merge key by key (env per variable): user < project < local < managed, and a
  settings env beats the same variable exported in the shell;
- a wrong value type for a known key (e.g. "model": 42) makes Claude Code drop the whole
  file, silently;
- availableModels admits a slot's resolved model ID when it lists that exact ID, or a family
  alias ("sonnet") that the ID contains (acme/claude-sonnet-x); any other alias, substring or
  prefix does not (qwen/qwen3-coder under "sonnet"), and the session silently falls back to
  the default;
- enforceAvailableModels, when the default model is not admitted, makes the default a built-in
  Anthropic ID (e.g. claude-opus-4-8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from llmconf import fs
from llmconf.errors import LlmconfError
from llmconf.records import dataclass, field
from llmconf.render import is_sensitive

# A value as the plan view shows it, so doctor hides a secret exactly as plan does.
from llmconf.secrets.mask import SENSITIVE, scrub_value, shown
from llmconf.targets.claude_code import settings as target
from llmconf.targets.claude_code.settings import ENV, KeyPath

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    from llmconf.errors import Severity
    from llmconf.plan.model import Plan, WorktreePlan

_WHO = {
    "user": "your user settings",
    "project": "the project's shared .claude/settings.json",
    "local": "the local settings",
    "root": "the repository root's local settings (Claude Code 2.1.211+ reads them first)",
    "cli": "llmconf's --settings file",
    "managed": "managed settings",
    "shell": "the shell environment",
}


def _finding(
    severity: Severity, message: str, path: Path | None = None, hint: str | None = None, key: str | None = None
) -> LlmconfError:
    """A finding: an error where Claude Code will not do what the profile says, a warning where it may not."""
    return LlmconfError(message, path, hint=hint, severity=severity, key=key)


@dataclass(frozen=True)
class Layer:
    name: str
    path: Path
    doc: dict[str, Any] | None = None  # None: no such file
    problem: str | None = None  # why Claude Code ignores it


@dataclass(frozen=True)
class Effective:
    """What a session in this worktree gets after Claude Code merges every layer."""

    base_url: str | None
    models: dict[str, str | None]
    default_slot: str | None
    default_model: str | None
    #: Where each backend value came from: key name (env.X, model) -> the file (or "shell").
    sources: dict[str, str] | None = None
    #: What /model calls each mapped slot's model (its _NAME variable), where something sets it.
    labels: dict[str, str] | None = None
    #: The model every subagent runs on (CLAUDE_CODE_SUBAGENT_MODEL; "inherit": none forced).
    subagent: str | None = None
    #: What Claude Code puts on the wire, as the layers hold it (keys included): for
    #: `doctor --online` only. Views show the fields above.
    wire: Wire | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Wire:
    """The raw values a session sends: the gateway address, each slot's model ID and the
    credentials. Never shown: its repr names none of them."""

    url: str | None
    models: dict[str, str | None]
    #: Sent as x-api-key (when not blank).
    api_key: str | None
    #: Sent as Authorization: Bearer (when not blank).
    auth_token: str | None
    #: apiKeyHelper: the command whose output Claude Code sends both ways.
    helper: str | None

    def __repr__(self) -> str:
        return "Wire(...)"


def read_layer(name: str, path: Path, text: str | None = None) -> Layer:
    """One layer, read from disk (or parsed from `text`, when the caller read it already)."""
    if text is None:
        try:
            text = fs.read_text(path, fs.SETTINGS_LIMIT, "settings file")  # a FIFO or /dev/zero is refused, not waited on
        except FileNotFoundError:
            return Layer(name, path)
        except LlmconfError as e:
            return Layer(name, path, problem=f"cannot be read ({e.message})")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        return Layer(name, path, problem=f"is not valid JSON ({getattr(e, 'msg', 'too deep')})")
    if not isinstance(doc, dict):
        return Layer(name, path, problem="is not a JSON object")
    return Layer(name, path, doc)


def read_layers(
    worktree: Path,
    shared: dict[Any, Any] | None = None,
    local: Layer | None = None,
    root: Path | None = None,
) -> list[Layer]:
    """Every settings layer of a worktree, lowest precedence first. `shared` keeps the layers
    every worktree has in common (user, managed) across calls, so they are read once; `local`
    is the local layer when the caller has it already. `root`: the repository root's local
    file, when it wins over the worktree's own (Claude Code 2.1.211+). Managed settings come
    last: a --settings layer goes just below them (see effective_of)."""
    layers = []
    common = None
    if shared is not None:
        if "paths" not in shared:  # (setdefault would work them out for every worktree)
            shared["paths"] = target.common_layer_paths()
        common = shared["paths"]
    for name, path in target.layer_paths(worktree, common).items():
        if name == "managed":
            if root is not None:
                layers.append(shared_layer(shared, "root", root) if shared is not None else read_layer("root", root))
        if name == "local" and local is not None:
            layers.append(local)
        elif shared is not None and name in ("user", "managed"):
            layers.append(shared_layer(shared, name, path))
        else:
            layers.append(read_layer(name, path))
    return layers


def shared_layer(shared: dict[Any, Any], name: str, path: Path) -> Layer:
    """A layer several worktrees read (user, managed, a main checkout's file): read once."""
    if (name, path) not in shared:
        shared[(name, path)] = read_layer(name, path)
    layer: Layer = shared[(name, path)]
    return layer


def effective_of(
    plan: Plan, wp: WorktreePlan, shared: dict[Any, Any], shell: Mapping[str, str]
) -> tuple[Effective, Effective | None, list[LlmconfError], list[LlmconfError]]:
    """(plain, delivered, plain findings, delivered findings) for one worktree: `delivered`
    is None where its own file is the delivery."""
    # The plan read the local file already (unless it could not: then read it here).
    local = read_layer("local", wp.settings, wp.before_text) if wp.before_text is not None else None
    how = wp.delivery
    root = how.root_local if how is not None else None
    layers = read_layers(wp.worktree, shared, local, root=root)
    env_default = _reads_env_default(plan)
    sent = plan.delivery_of(wp)
    secret = wp.secret | sent.secret if sent is not None else wp.secret
    plain, plain_found = examine(
        wp.desired, layers, shell, hint=_PLAIN_HINT if root else None, env_default=env_default, secret=secret
    )
    if how is None or how.kind != "settings":
        return plain, None, plain_found, []
    if sent is not None:  # the --settings layer goes just below managed settings, the last layer
        layers = [*layers[:-1], read_layer("cli", sent.settings), layers[-1]]
    delivered, found = examine(wp.desired, layers, shell, own="cli", env_default=env_default, secret=secret)
    return plain, delivered, plain_found, found


_PLAIN_HINT = "start claude as 'llmconf exec -- claude', or set your shell up once with 'llmconf activate'"


def _type_problem(doc: dict[str, Any]) -> str | None:
    for key, kind in target.KNOWN_TYPES.items():
        if key in doc and not isinstance(doc[key], kind):
            return f"'{key}' is a {type(doc[key]).__name__}, not a {kind.__name__}"
    for name, value in (doc.get(ENV) or {}).items():
        if not isinstance(value, str):
            return f"{target.key_name((ENV, name))} is a {type(value).__name__}, not a string"
    return None


def _reads_env_default(plan: Plan) -> bool:
    """Whether the client the plan was made for reads ANTHROPIC_DEFAULT_MODEL."""
    from llmconf.targets.claude_code.client import NEWEST_KNOWN, rules

    return (ENV, target.DEFAULT_MODEL_VAR) not in rules(plan.client or NEWEST_KNOWN).lacks


def examine(
    desired: Mapping[KeyPath, str],
    layers: list[Layer],
    shell: Mapping[str, str],
    own: str = "local",
    hint: str | None = None,
    env_default: bool = True,
    secret: frozenset[str] = frozenset(),
) -> tuple[Effective, list[LlmconfError]]:
    """The effective backend of one worktree, and every way the layers change or break it.
    `own`: the layer llmconf writes the worktree's keys to ("local", or "cli" for a --settings
    delivery); `hint`: what to do where a higher layer's value wins (default: remove it);
    `secret`: the keys the state record says held a secret."""

    def hidden(key: KeyPath, value: Any) -> bool:
        # Any layer's value of a key the profile fills from a secret or that is named like a
        # credential; or that held a secret when llmconf last wrote it, unless it is now
        # the profile's own plain value (plan shows that one too).
        want = desired.get(key)
        if is_sensitive(want) or target.looks_secret(key):
            return True
        return target.key_name(key) in secret and value != want

    def show(key: KeyPath, value: Any) -> Any:
        """A value read from a layer, as a view may show it."""
        if not isinstance(value, str) or value == "":
            return value
        return SENSITIVE if hidden(key, value) else scrub_value(value)
    findings: list[LlmconfError] = []
    usable = []
    for layer in layers:
        if layer.problem is not None:
            findings.append(
                _finding("error", f"{layer.name} settings {layer.problem}: Claude Code ignores the whole file", layer.path, "fix it by hand")
            )
        elif layer.doc is not None:
            problem = _type_problem(layer.doc)
            if problem is None:
                usable.append(layer)
            else:
                findings.append(
                    _finding(
                        "error",
                        f"{problem}: Claude Code drops the whole {layer.name} settings file, silently (its env too)",
                        layer.path,
                        "fix that value",
                    )
                )
    env: dict[str, Any] = {}
    top: dict[str, Any] = {}
    source: dict[str, str] = {}
    for layer in usable:
        assert layer.doc is not None
        layer_env = layer.doc.get(ENV) or {}
        env.update(layer_env)
        for name in layer_env:  # only a backend variable's source is ever asked for
            if name in _BACKEND_VAR_SET:
                source[f"{ENV}.{name}"] = layer.name
        for name, value in layer.doc.items():
            if name != ENV:
                top[name], source[name] = value, layer.name
    for var in target.BACKEND_VARS:
        if var not in env and var in shell:
            env[var], source[_ENV_NAMES[var]] = shell[var], "shell"
    paths = {layer.name: layer.path for layer in layers}

    for var in target.BACKEND_VARS:
        src = source.get(_ENV_NAMES[var])
        want = desired.get((ENV, var))
        # A blank value is an unset one to Claude Code: blanking what the profile leaves unset is no override.
        if src is None or src == own or env[var] == want or (want is None and env[var] == ""):
            continue
        level: Severity = "error" if src == "managed" or var in (target.BASE_URL, target.AUTH_TOKEN) else "warning"
        value = shown(scrub_value(env[var]), hidden((ENV, var), env[var]))
        if want is None:
            message = f"{_WHO[src]} set {var}={value}; the profile leaves it unset, so Claude Code uses it"
        else:
            message = f"{_WHO[src]} set {var}={value}, overriding the profile's value"
        fix = f"unset {var} in your shell" if src == "shell" else hint or f"remove it from {paths[src]}"
        findings.append(_finding(level, message, paths.get(src), fix, var))

    model_src = source.get("model")
    if model_src not in (None, own) and top["model"] != desired.get(target.DEFAULT_MODEL_KEY):
        if model_src == "managed":
            model = show(target.DEFAULT_MODEL_KEY, top["model"])
            findings.append(_finding("error", f"managed settings pick model '{model}' over the profile's", paths["managed"]))
        else:
            findings.append(
                _finding(
                    "warning",
                    f"{_WHO[model_src]} pick model '{show(target.DEFAULT_MODEL_KEY, top['model'])}' (Claude Code's /model writes it there): "
                    "sessions start on it, not on the profile's default",
                    paths[model_src],
                    hint or "remove 'model' there, or set the profile's default",
                )
            )

    # A blank value is an unset one, to Claude Code (a --settings file blanks what it unsets).
    env = {k: v for k, v in env.items() if v != "" or k == target.API_KEY}
    models = {slot: env.get(var) for slot, var in _SLOT_VARS}
    keys: dict[KeyPath, str] = {(ENV, k): v for k, v in env.items() if isinstance(v, str)}
    if isinstance(top.get("model"), str):
        keys[target.DEFAULT_MODEL_KEY] = top["model"]
    # Only the keys default_model reads are shown (masked): masking every value a layer holds
    # was most of status's time per worktree.
    default_slot, default_model = target.default_model(
        {k: show(k, keys[k]) for k in target.DEFAULT_MODEL_READS if k in keys}, env_default
    )
    # What views show; `models` and `env` stay as read, for the checks below.
    shown_models = {slot: show((ENV, var), models[slot]) for slot, var in _SLOT_VARS}
    allowed = top.get("availableModels")
    if isinstance(allowed, list):
        where = paths[source["availableModels"]]
        for slot, model in models.items():
            if model and not admitted(model, allowed):
                findings.append(
                    _finding(
                        "warning",
                        f"availableModels does not admit the {slot} slot's model '{shown_models[slot]}': only its exact ID, or a "
                        "family alias the ID contains, would; Claude Code sends another model, silently (the default, or its own ID for that slot)",
                        where,
                        "add that model's ID to availableModels" if shown_models[slot] != model else f"add '{model}' to availableModels",
                    )
                )
        if (
            top.get("enforceAvailableModels")
            and env.get(target.BASE_URL)
            and default_model
            and not admitted(default_model, allowed)
        ):
            findings.append(
                _finding(
                    "warning",
                    f"enforceAvailableModels with the default model '{default_model}' not admitted: Claude Code "
                    "starts on a built-in Anthropic model ID instead, which the gateway may not serve",
                    paths[source["enforceAvailableModels"]],
                    "set the profile's default, or drop enforceAvailableModels",
                )
            )
    managed = next((layer.doc for layer in usable if layer.name == "managed"), None) or {}
    denied = managed.get("deniedModels")
    if isinstance(denied, list):
        for slot, model in models.items():
            if model and model in denied:
                findings.append(
                    _finding("error", f"managed settings deny the {slot} slot's model '{shown_models[slot]}'", paths["managed"], "pick another model")
                )

    sources = {key: str(paths.get(src, src)) for key, src in source.items() if key in _BACKEND_NAMES or key == "model"}
    labels = {
        slot: show((ENV, var), label)
        for slot, var in _LABEL_VARS
        if models[slot] and isinstance(label := env.get(var), str)
    }
    subagent = env.get(target.SUBAGENT)
    url = env.get(target.BASE_URL)
    wire = Wire(
        _text(url),
        {slot: _text(m) for slot, m in models.items()},
        _text(env.get(target.API_KEY)),
        _text(env.get(target.AUTH_TOKEN)),
        _text(top.get(target.KEY_HELPER_KEY[0])),
    )
    effective = Effective(
        show((ENV, target.BASE_URL), url),
        shown_models,
        default_slot,
        default_model,
        sources,
        labels,
        show((ENV, target.SUBAGENT), subagent) if isinstance(subagent, str) else None,
        wire,
    )
    return effective, findings


def _text(value: Any) -> str | None:
    """A layer's value where it is a string with something in it (a blank one is unset, to Claude Code)."""
    return value if isinstance(value, str) and value.strip() else None


_BACKEND_NAMES = frozenset(target.key_name(k) for k in target.BACKEND_KEYS)
_BACKEND_VAR_SET = frozenset(target.BACKEND_VARS)
# Worked out once, not per worktree: each backend var's key name, each slot's model var and label var.
_ENV_NAMES = {var: target.key_name((ENV, var)) for var in target.BACKEND_VARS}
_SLOT_VARS = tuple((slot, target.slot_var(slot)) for slot in target.SLOTS)
_LABEL_VARS = tuple((slot, target.slot_info_var(slot, "labels")) for slot in target.SLOTS)


def admitted(model: str, allowed: list[Any]) -> bool:
    """Whether an availableModels list lets a resolved model ID through (as Claude Code decides)."""
    return model in allowed or any(entry in target.SLOTS and entry in model for entry in allowed)


def not_ignored_with_a_key(worktree: Path, settings: Path, doc: dict[str, Any] | None) -> LlmconfError | None:
    """An error when the settings file holds a key and git would commit it (not ignored)."""
    from llmconf import git

    env = (doc or {}).get(ENV)
    holds_key = isinstance(env, dict) and any(target.looks_secret((ENV, k)) and v for k, v in env.items())
    if not holds_key:
        return None
    if git.ignored(worktree, target.SETTINGS_FILE) is False:
        return _finding(
            "error",
            "holds a key and git does not ignore it: one 'git add .' and the key is committed",
            settings,
            f"add {target.SETTINGS_FILE} to .gitignore, or use key_via: helper",
        )
    return None


def diagnose(
    plan: Plan,
    wp: WorktreePlan,
    shared: dict[Any, Any],
    shell: Mapping[str, str],
    sessions: Mapping[Path, list[tuple[int, float]]],
) -> tuple[Effective, list[LlmconfError]]:
    """One worktree as Claude Code will run it (through llmconf where it delivers --settings),
    and every finding: the plan's errors, what is not applied yet, each layer that overrides
    or breaks the profile, what a plain `claude` gets wrong, a key git would commit, and
    sessions started on old settings (doctor --online checks the wire itself: see live.py)."""
    from llmconf.targets.claude_code.layers import Overridden

    findings: list[LlmconfError] = []
    if wp.error is not None and not isinstance(wp.error, Overridden):  # examine says it, with the value
        findings.append(_finding("error", wp.error.message, wp.error.path, wp.error.hint))
    if wp.changes and wp.error is None:
        findings.append(_finding("warning", "not applied yet: the file differs from the profile", wp.settings, "run 'llmconf apply'"))
    if wp.loose_mode is not None and wp.error is None:
        findings.append(
            _finding(
                "warning",
                f"holds a key, and others can read it (mode {wp.loose_mode:04o})",
                wp.settings,
                "run 'llmconf apply', which makes it 0600",
            )
        )
    sent = plan.delivery_of(wp)
    if sent is not None and sent.error is not None:
        findings.append(_finding("error", sent.error.message, sent.error.path, sent.error.hint))
    elif sent is not None and sent.changes:
        findings.append(
            _finding("warning", "not applied yet: its --settings file differs from the profile", sent.settings, "run 'llmconf apply'")
        )
    if wp.folder_missing:
        effective, found = examine(wp.desired, [], shell, env_default=_reads_env_default(plan))
    else:
        plain, delivered, plain_found, found = effective_of(plan, wp, shared, shell)
        effective = delivered or plain
        if delivered is None:
            found = plain_found
        else:  # and what a plain `claude`, with llmconf not in the way, does
            found = found + _plain(plain_found, wp.delivery.root_local if wp.delivery else None)
    findings += found
    local = read_layer("local", wp.settings, wp.before_text) if wp.before_text is not None else None
    if local is not None and local.doc is not None and not wp.tracked_ok and wp.error is None:
        # (a plan that refuses to write the key already says so, as its error)
        leak = not_ignored_with_a_key(wp.worktree, wp.settings, local.doc)
        if leak is not None:
            findings.append(leak)
    try:
        changed_at: float | None = wp.settings.stat().st_mtime
    except OSError:
        changed_at = None
    for pid, started in sessions.get(wp.worktree, []):
        if changed_at is not None and started < changed_at:
            findings.append(
                _finding(
                    "warning",
                    f"claude (pid {pid}) started before the settings last changed and still uses the old ones",
                    wp.settings,
                    "restart that Claude Code session",
                )
            )
    return effective, findings


def _plain(findings: list[LlmconfError], root: Path | None) -> list[LlmconfError]:
    """What a plain `claude` gets wrong in a worktree delivered through --settings: the root
    file's keys in one finding, and every other finding as it is."""
    taken = [f for f in findings if f.path == root and f.key]
    rest = [f for f in findings if f not in taken]
    if not taken:
        return rest
    names = ", ".join(str(f.key) for f in taken)
    severity: Severity = "error" if any(f.severity == "error" for f in taken) else "warning"
    message = (
        f"a plain claude (not started through llmconf) takes {names} from this file, "
        "which Claude Code 2.1.211+ reads first"
    )
    return [_finding(severity, message, taken[0].path, taken[0].hint), *rest]


def every_effective(plan: Plan, shell: Mapping[str, str]) -> dict[Path, tuple[Effective, Effective | None, list[LlmconfError], list[LlmconfError]]]:
    """Each worktree of a plan as Claude Code will see it (see effective_of), for status."""
    shared: dict[Any, Any] = {}  # user and managed settings: found and read once, not per worktree
    # examine reads only the backend variables of the shell: a plain dict of those, not
    # os.environ (which encodes each name it is asked about), asked per worktree.
    backend = {var: shell[var] for var in target.BACKEND_VARS if var in shell}
    return {wp.worktree: effective_of(plan, wp, shared, backend) for wp in plan.local if not wp.folder_missing}
