"""Render a resolved profile for one worktree into the settings keys it should hold.

Templates run in Jinja2's sandbox with StrictUndefined; strings without template syntax
skip Jinja entirely, and Jinja is imported only when a template needs it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable

from llmconf import replay, sandbox
from llmconf.config.load import FieldPath, Sourced, WorktreeDecl
from llmconf.errors import LlmconfError
from llmconf.secrets.store import SecretStore, default_secrets_file, env_var
from llmconf.targets.claude_code import settings as target

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

    #: One step of a simple template, worked out once per template string (see _simple_syntax):
    #: the literal text before an expression, then the expression as ("name", parts, shadowed),
    #: ("secret", name, None) or ("env", name, default or None).
    _Step = tuple[str, str, Any, Any]


class Sensitive(str):
    """A rendered value any part of which came from secret() or env(): written to disk, never shown."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'(sensitive)'"


class SensitiveMap(dict):  # type: ignore[type-arg]  # dict[str, Any], without importing typing
    """A rendered object (modelPicker) built from a Sensitive value: written to disk, never shown."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'(sensitive)'"


def is_sensitive(value: object) -> bool:
    """Whether a rendered value came, in any part, from secret() or env()."""
    return isinstance(value, (Sensitive, SensitiveMap))


#: Raised from inside a template call; turned into a located LlmconfError.
_TemplateFailure = sandbox.TemplateFailure

# Compiled once per distinct source: a thousand worktrees share a handful of templates.
_template = sandbox.template


def is_template(text: str) -> bool:
    """Whether a string holds template syntax (else it renders to itself, without Jinja)."""
    return "{{" in text or "{%" in text or "{#" in text


def as_literal(value: str) -> str:
    """A value as a template that renders to exactly it (template syntax in it kept as text)."""
    if not is_template(value):
        return value
    if "endraw" in value:
        from llmconf.secrets.mask import scrub

        raise LlmconfError(f"a value holds template syntax that cannot be quoted: {scrub(value)[:40]!r}")  # no key in it
    return "{% raw %}" + value + "{% endraw %}"


def render_value(
    sourced: Sourced,
    context: dict[str, Any],
    secrets: SecretStore,
    profile: str,
    reads: dict[str, str | None] | None = None,
    memo: dict[tuple[str, str], str] | None = None,
) -> str:
    """One field's final text; Sensitive when any part of it came from secret() or env().
    `reads` collects every secret and environment variable a template looked up, with what
    it found. `memo` keeps the output of templates that do not use `worktree`: within one run
    they come out the same for every worktree of a profile, so they render once."""
    reads = {} if reads is None else reads
    text: str = sourced.value
    if not is_template(text):
        return text
    key = (text, profile)
    if memo is not None and key in memo:
        return memo[key]
    used: list[str] = []  # the secret values this template read: never in an error message
    read_env: list[str] = []  # and the environment's: a token (ghp_...) is as secret as a key

    # A name is written in the template, never computed from a value read by secret() or
    # env(): sandbox.template() refuses that before anything runs (and the fast path takes
    # only quoted names). So a name may go into `reads` (a saved plan) and messages.
    def secret(name: str) -> str:
        name = str(name)
        try:
            value = secrets.get(name)
        except LlmconfError as e:  # a `secrets:` source that failed: say so where it was asked for
            raise _TemplateFailure(e.message, e.hint) from None
        reads[f"secret:{name}"] = value
        if value is None:
            fix = f"run 'llmconf secret set {name}', or export {env_var(name)}"
            meant = _stored_like(secrets, str(name))
            raise _TemplateFailure(f"profile '{profile}' needs secret '{name}', which is not set", f"{meant}{fix}")
        used.append(value)
        return value

    def env(name: str, default: str | None = None) -> str:
        name = str(name)
        replay.sensitive(name)  # its value may be a key: a run that read a set one is not replayed
        reads[f"env:{name}"] = os.environ.get(name)
        value = os.environ.get(name, default)
        if value is None:
            raise _TemplateFailure(
                f"environment variable {name} is not set", f"export it, or give a default: env('{name}', '...')"
            )
        read_env.append(value)
        return value

    try:
        out = _simple(text, context, secret, env)
        if out is None:
            out = sandbox.render(_template(text), {**context, "secret": secret, "env": env})
    except _TemplateFailure as e:
        raise sourced.error(_redact(e.message, used), e.hint and _redact(e.hint, used)) from None
    except (Exception, RecursionError) as e:  # a template may raise anything: 1/0, 'a' + 1, ...
        from jinja2 import TemplateError

        detail = getattr(e, "message", None) if isinstance(e, TemplateError) else f"{e.__class__.__name__}: {e}"
        if used or read_env:  # the detail may quote a value derived from one (upper-cased, sliced ...)
            what = "a secret" if used else "an environment variable"
            detail = f"{e.__class__.__name__} (details hidden: this template reads {what})"
        raise sourced.error(
            f"template error in {_field_name(sourced)}: {_redact(detail or e.__class__.__name__, used)}",
            "templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default)",
        ) from None
    if not out.strip():
        raise sourced.error(f"{_field_name(sourced)} rendered empty", "llmconf never writes a blank value")
    result = Sensitive(out) if used or read_env else out
    if memo is not None and not _uses_worktree(text):
        memo[key] = result
    return result


# One template expression llmconf can evaluate without Jinja: a dotted name, or a call of
# secret()/env() with plain string literals. Anything else goes to Jinja.
_EXPR = re.compile(
    r"""\{\{\s*(?:
        (?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)
      | secret\(\s*(?P<sq>['"])(?P<secret>[^'"\\]*)(?P=sq)\s*\)
      | env\(\s*(?P<eq>['"])(?P<env>[^'"\\]*)(?P=eq)\s*(?:,\s*(?P<dq>['"])(?P<default>[^'"\\]*)(?P=dq)\s*)?\)
    )\s*\}\}""",
    re.VERBOSE,
)


@functools.lru_cache(maxsize=None)
def _simple_syntax(text: str) -> tuple[tuple[_Step, ...], str] | None:
    """The template's steps and the literal text after the last one, when every expression
    in it is simple. Parsed once per template string: a fleet renders the same few
    templates for every worktree, and reading the match groups each time cost a third of
    a simple render."""
    if "{%" in text or "{#" in text:
        return None
    steps: list[_Step] = []
    pos = 0
    for m in _EXPR.finditer(text):
        literal = text[pos : m.start()]
        if "{{" in literal or literal.endswith("{"):  # Jinja opens at the first "{{"
            return None
        if m["name"]:
            parts = tuple(m["name"].split("."))
            steps.append((literal, "name", parts, any(hasattr(dict, part) for part in parts)))
        elif m["sq"]:
            steps.append((literal, "secret", m["secret"], None))
        else:
            steps.append((literal, "env", m["env"], m["default"] if m["dq"] else None))
        pos = m.end()
    return None if "{{" in text[pos:] else (tuple(steps), text[pos:])


def _simple(text: str, context: dict[str, Any], secret: Any, env: Any) -> str | None:
    """The template's output when it is only literal text and simple expressions, else None.

    Gives exactly what Jinja would (a test holds the two side by side): names resolve
    through dicts only, to str or int values; a name a dict method shadows, an undefined
    one, or any other syntax returns None so that Jinja renders (or reports) it.
    """
    syntax = _simple_syntax(text)
    if syntax is None:
        return None
    steps, tail = syntax
    parts = []
    for literal, kind, arg, extra in steps:
        if kind == "name":
            if extra:  # a part a dict method shadows: Jinja would see the method
                return None
            value: Any = context
            for part in arg:
                if not isinstance(value, dict) or part not in value:
                    return None
                value = value[part]
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                return None
            parts += [literal, str(value)]
        elif kind == "secret":
            parts += [literal, secret(arg)]
        else:  # env(name) is env(name, None): the default's default
            parts += [literal, env(arg, extra)]
    parts.append(tail)
    return "".join(parts)


@functools.lru_cache(maxsize=None)
def _uses_worktree(source: str) -> bool:
    syntax = _simple_syntax(source)
    if syntax is not None:
        return any(kind == "name" and arg[0] == "worktree" for _, kind, arg, _ in syntax[0])
    from jinja2 import meta

    return "worktree" in meta.find_undeclared_variables(sandbox.environment().parse(source))


def uses_worktree(fields: dict[FieldPath, Sourced]) -> bool:
    """Whether any field is a template that reads `worktree` (so renders differ per worktree)."""
    return any(isinstance(s.value, str) and is_template(s.value) and _uses_worktree(s.value) for s in fields.values())


def _stored_like(secrets: SecretStore, name: str) -> str:
    """`did you mean 'x'? ` for a stored (or declared) secret named like `name`, else ""."""
    from llmconf.errors import did_you_mean

    try:
        names = [*secrets.names(), *secrets.sources]
    except LlmconfError:  # a damaged store: its own error says so where it is read
        return ""
    meant = did_you_mean(name, names)
    return f"{meant} If not: " if meant else ""


def _redact(message: str, secrets: list[str]) -> str:
    """A message with every secret value it may quote (an undefined key, a bad name) hidden."""
    for value in sorted(set(secrets), key=len, reverse=True):
        if value:
            message = message.replace(value, "(sensitive)")
    return message


def _field_name(sourced: Sourced) -> str:
    loc = sourced.loc[2:] if sourced.loc[:1] in (("worktrees",), ("repos",)) else sourced.loc
    return ".".join(str(x) for x in loc)


def render(
    decl: WorktreeDecl,
    fields: dict[FieldPath, Sourced],
    variables: dict[str, Any],
    secrets: SecretStore,
    reads: dict[str, str | None] | None = None,
    memo: dict[tuple[str, str], str] | None = None,
    lacks: frozenset[target.KeyPath] = frozenset(),
    unwritten: set[target.KeyPath] | None = None,
    describe: Describe | None = None,
) -> dict[target.KeyPath, Any]:
    """The settings keys (and values) a worktree should hold under its profile, for a client
    that ignores the keys in `lacks` (see target.to_keys; `unwritten` collects those left out).
    `describe`: what the model catalog says of a model at a gateway, the default of each
    slot's label, description and capabilities (and of a picker row's)."""
    profile = decl.profile.value
    context: dict[str, Any] = {}

    def out(sourced: Sourced) -> str:
        text = sourced.value
        if not is_template(text):  # most fields: render_value would return it as is
            return text  # type: ignore[no-any-return]
        if memo is not None and (text, profile) in memo:  # render_value's memo, checked first
            return memo[(text, profile)]
        if not context:  # built on the first template that renders: str(path) costs 1 us
            context.update(
                worktree={"path": str(decl.path), "name": decl.name}, profile={"name": profile}, vars=variables
            )
        return render_value(sourced, context, secrets, profile, reads, memo)

    scalars = {fp[0]: out(s) for fp, s in fields.items() if len(fp) == 1 and fp[0] not in _NOT_TEXT}
    if "base_url" not in scalars and _ANTHROPIC in fields:  # endpoints.anthropic is base_url by another name
        scalars["base_url"] = out(fields[_ANTHROPIC])
    models = {fp[1]: out(s) for fp, s in fields.items() if fp[0] == "models"}
    info: dict[str, dict[str, str]] = {}
    for fp, s in fields.items():
        if fp[0] in target.SLOT_INFO and len(fp) == 2:
            value = ",".join(s.value) if isinstance(s.value, list) else out(s)  # capabilities: a list
            info.setdefault(fp[0], {})[fp[1]] = value
    env = {fp[1]: out(s) for fp, s in fields.items() if fp[0] == "env"}
    if "auth_token" in scalars and "base_url" not in scalars:
        raise fields[("auth_token",)].error(
            "auth_token is set but base_url is not", "a token only goes to a gateway: set base_url, or drop auth_token"
        )
    if scalars.pop("key_via", "settings") == "helper" and "auth_token" in scalars:
        scalars["key_helper"] = key_helper_command(fields[("auth_token",)], secrets)
    base_url = scalars.get("base_url")
    off = ("catalog_info",) in fields and fields[("catalog_info",)].value is False
    catalog = None if base_url is None or off or describe is None else functools.partial(describe, base_url)
    if catalog is not None:
        for slot, model in models.items():
            hidden = isinstance(model, Sensitive) or isinstance(base_url, Sensitive)
            for field, said in zip(target.SLOT_INFO, catalog(model) or ()):
                if said:  # the profile's own word wins; the catalog's name of a secret model is as secret
                    info.setdefault(field, {}).setdefault(slot, Sensitive(said) if hidden else said)

    def named(model: str) -> tuple[str, str | None] | None:
        told = catalog(model) if catalog is not None else None
        return None if told is None else told[:2]

    spec = fields.get(("picker",))
    picker = None if spec is None else target.picker_value(spec.value, models, info, named)
    if picker is not None and any(isinstance(v, Sensitive) for v in [*models.values(), *(x for i in info.values() for x in i.values())]):
        picker = SensitiveMap(picker)  # its rows quote models, labels and descriptions
    return target.to_keys(scalars, models, env, lacks, unwritten, info, picker)


def render_fields(
    decl: WorktreeDecl,
    fields: dict[FieldPath, Sourced],
    wanted: tuple[FieldPath, ...],
    variables: dict[str, Any],
    secrets: SecretStore,
    reads: dict[str, str | None] | None = None,
    memo: dict[tuple[str, str], str] | None = None,
) -> dict[FieldPath, str]:
    """The profile's text fields an agent other than Claude Code reads, rendered for one
    worktree (those of `wanted` the profile sets; Sensitive where secret() or env() made them).
    Its target maps them onto its own keys."""
    profile = decl.profile.value
    context = {"worktree": {"path": str(decl.path), "name": decl.name}, "profile": {"name": profile}, "vars": variables}
    return {fp: render_value(fields[fp], context, secrets, profile, reads, memo) for fp in wanted if fp in fields}


_ANTHROPIC: FieldPath = ("endpoints", "anthropic")

#: Fields that are not templated text (a mapping, a switch).
_NOT_TEXT = ("picker", "catalog_info")

#: (base URL, model ID) -> (label, description, capabilities) the catalog gives that model
#: there, any of them None; None for a model (or gateway) it does not know.
Describe = Callable[[str, str], "tuple[str, str | None, str | None] | None"]

_SECRET_REF = r"""^\s*\{\{\s*secret\(\s*(['"])([^'"]+)\1\s*\)\s*\}\}\s*$"""  # compiled on first use


def key_helper_command(auth_token: Sourced, secrets: SecretStore) -> str:
    """The apiKeyHelper command that prints the token's secret: llmconf by absolute path,
    naming the secrets file when it is not the default (Claude Code runs the helper in its
    own environment, not this one)."""
    import shlex

    match = re.match(_SECRET_REF, auth_token.value)
    if not match:
        raise auth_token.error(
            "key_via: helper needs auth_token to be exactly one secret", "write it as \"{{ secret('NAME') }}\""
        )
    name = match.group(2)
    where = ["-C", str(secrets.config_dir)] if name in secrets.sources and secrets.config_dir else []
    command = [*llmconf_command(), *where, "secret", "get", name]
    if secrets.path != default_secrets_file():
        command += ["--file", str(secrets.path)]
    return shlex.join(command)


def llmconf_command() -> list[str]:
    """How to run this llmconf from another process: its script beside the interpreter, else
    the one on PATH, else the interpreter with -m."""
    import sys
    from pathlib import Path

    from llmconf import fs

    beside = Path(sys.executable).parent / "llmconf"
    if beside.is_file():
        return [str(beside)]
    found = fs.which("llmconf")
    return [found] if found else [sys.executable, "-m", "llmconf"]


def resolve_fields(decl: WorktreeDecl, profiles: Any) -> dict[FieldPath, Sourced]:
    """The worktree's profile after `extends`, with the worktree's overrides on top."""
    from llmconf.config.load import merge

    return merge(profiles.resolve(decl.profile.value, decl.profile), decl.overrides)
