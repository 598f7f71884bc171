"""The Jinja2 sandbox profile templates run in: bounded, and checked for secret-derived names.

A profile field is one short string, so a template gets a fixed budget: loop steps and
calls together, the size of any value it builds, and the size of what it writes. A template
past a bound fails with a located error instead of running until killed. Jinja is imported
only when a template needs it.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Iterable, Iterator

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any

#: Loop iterations and calls one template may make.
MAX_STEPS = 10_000
#: Characters (or items, counted into lists and dicts) in any one value a template builds,
#: and in its output.
MAX_SIZE = 65_536
#: Bits in any integer a template computes (10 ** 1000 is 3,322).
MAX_INT_BITS = 4_096
#: Characters all `{{ ... }}` of one template may write, macros and `{% set %}` blocks included.
MAX_WRITTEN = 1_048_576
#: Characters (and items) all the calls, filters and operators of one template may build.
MAX_BUILT = 8_388_608

#: The names llmconf gives a template; a template may not rebind them (so that a name passed
#: to secret() or env() cannot hide a value read from one).
CONTEXT_NAMES = frozenset({"worktree", "profile", "vars"})
_FUNCTIONS = frozenset({"secret", "env"})
_LOOP, _CONCAT = "llmconf_loop_", "llmconf_concat_"
_RESERVED = CONTEXT_NAMES | _FUNCTIONS | {_LOOP, _CONCAT}

_HINT = "templates are for short values: write the value out, or compute it before llmconf runs"


class TemplateFailure(Exception):
    """Raised from inside a template; turned into a located LlmconfError by the renderer."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


class _Budget:
    __slots__ = ("steps", "written", "built")

    def __init__(self) -> None:
        self.steps = 0
        self.written = 0
        self.built = 0


# The budget of the template running now. A context variable, not an argument: Jinja calls the
# sandbox's hooks (call, call_binop, filters, finalize) without a way to pass one through.
_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("llmconf_template_budget", default=None)


def _step() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.steps += 1
        if budget.steps > MAX_STEPS:
            raise TemplateFailure(f"template runs too long (over {MAX_STEPS:,} loop steps and calls)", _HINT)


def size(value: Any, limit: int = MAX_SIZE) -> int:
    """Characters and items in a value, counted into containers; stops counting past `limit`.
    Counting is work too: every 1,024 parts looked at cost a step, so a template cannot pass
    one big list to ten thousand calls."""
    total, stack, seen = 0, [value], 0
    while stack and total <= limit:
        v = stack.pop()
        seen += 1
        if seen & 1023 == 0:
            _step()
        if isinstance(v, (str, bytes)):
            total += len(v)
        elif isinstance(v, int):
            total += 1 + v.bit_length() // 4 if not isinstance(v, bool) else 1
        elif isinstance(v, dict):
            total += len(v)
            if total <= limit:
                stack += [*v.keys(), *v.values()]
        elif isinstance(v, (list, tuple, set, frozenset, range)):
            total += len(v)
            if total <= limit and not isinstance(v, range):
                stack += list(v)
        else:
            # A namespace() prints its attributes. (getattr would trip a StrictUndefined.)
            attrs = object.__getattribute__(v, "_Namespace__attrs") if type(v).__name__ == "Namespace" else None
            total += 1
            if isinstance(attrs, dict):
                stack.append(attrs)
    return total


def _check(value: Any) -> int:
    """A value's size; refused past MAX_SIZE (and a number past MAX_INT_BITS)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise TemplateFailure(f"template builds a number over {MAX_INT_BITS:,} bits", _HINT)
    n = size(value)
    if n > MAX_SIZE:
        raise TemplateFailure(f"template builds a value over {MAX_SIZE:,} characters", _HINT)
    return n


def _built(value: Any) -> Any:
    """A result a call, filter or operator built: checked, and counted (many small ones add up)."""
    n = _check(value)
    budget = _budget.get()
    if budget is not None:
        budget.built += n
        if budget.built > MAX_BUILT:
            raise TemplateFailure(f"template builds over {MAX_BUILT:,} characters in all", _HINT)
    return value


def _expect(estimate: int) -> None:
    if estimate > MAX_SIZE:
        raise TemplateFailure(f"template builds a value over {MAX_SIZE:,} characters", _HINT)


def _check_args(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_SIZE:
            raise TemplateFailure(f"template passes a number over {MAX_SIZE:,} to a function", _HINT)
        _check(arg)


def _format_estimate(fmt: str, args: Any) -> int:
    """At most how long `fmt % args` or `fmt.format(*args)` comes out: the widths written in
    it, and each field as long as all the arguments plus the largest number among them (a
    width can come from an argument: '%*s', '{0:{1}}')."""
    widths = sum(int(n) for n in re.findall(r"\d+", fmt))
    fields = fmt.count("%") + fmt.count("{")
    return len(fmt) + widths + fields * (size(args) + _largest_int(args))


def _largest_int(value: Any) -> int:
    """The largest number among arguments (a tuple, a dict, or nested one level: (args, kwargs))."""
    items = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (list, tuple)) else [value]
    for nested in [i for i in items if isinstance(i, (list, tuple, dict))]:
        items += list(nested.values()) if isinstance(nested, dict) else list(nested)
    return max([abs(i) for i in items if isinstance(i, int) and not isinstance(i, bool)], default=0)


def _replace_estimate(text: Any, old: Any, new: Any, count: int = -1) -> int:
    found = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        found = min(found, count)
    return len(text) + found * max(0, len(new) - len(old))


def _str_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a str (or bytes) method call whose result would be far larger than its inputs;
    the arguments to call it with (join's iterable read into a list, to be measured)."""
    method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
    text, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(text, (str, bytes)):
        return args
    if name == "replace" and len(args) >= 2 and isinstance(args[0], type(text)) and isinstance(args[1], type(text)):
        _expect(_replace_estimate(text, args[0], args[1], args[2] if len(args) > 2 and isinstance(args[2], int) else -1))
    elif name == "expandtabs":
        tab = args[0] if args and isinstance(args[0], int) else kwargs.get("tabsize", 8)
        tabs = text.count(b"\t") if isinstance(text, bytes) else text.count("\t")
        _expect(len(text) + tabs * (tab if isinstance(tab, int) else 8))
    elif name in ("format", "format_map") and isinstance(text, str):
        _expect(_format_estimate(text, (args, kwargs)))
    elif name == "join" and len(args) == 1:
        items = []
        for item in args[0]:  # a generator's items are steps (and built) already
            items.append(item)
            _expect(len(items))
        _expect(len(text) * len(items) + sum(len(i) for i in items if isinstance(i, (str, bytes))))
        return (items,)
    return args


def _iterate(iterable: Any) -> Iterator[Any]:
    """A template's for loop: each iteration is a step of the budget."""
    for item in iterable:
        _step()
        yield item


def _concat(*parts: Any) -> str:
    """A template's `a ~ b`, bounded."""
    _expect(sum(size(p) for p in parts))
    return "".join(str(p) for p in parts)


def _finalize(value: Any) -> Any:
    """Every `{{ ... }}` a template writes, wherever it writes it, counts against the budget."""
    _check(value)
    budget = _budget.get()
    if budget is not None:
        budget.written += len(str(value))
        if budget.written > MAX_WRITTEN:
            raise TemplateFailure(f"template writes over {MAX_WRITTEN:,} characters", _HINT)
    return value


def _bounded_filter(name: str, func: Any) -> Any:
    """A built-in filter that counts as a step and refuses a result far larger than its input."""
    first = 1 if hasattr(func, "jinja_pass_arg") else 0  # context, eval context or environment

    @functools.wraps(func)  # keeps jinja_pass_arg, so Jinja passes what the filter expects
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _step()
        rest = args[first:]
        _check_args([*rest, *kwargs.values()])
        value, params = (rest[0], rest[1:]) if rest else (None, ())
        if name == "replace" and isinstance(value, str) and len(params) >= 2:
            _expect(_replace_estimate(value, str(params[0]), str(params[1]), params[2] if len(params) > 2 else -1))
        elif name == "join":
            sep = params[0] if params else kwargs.get("d", "")
            items = len(value) if isinstance(value, (str, list, tuple, dict, range)) else size(value)
            _expect(size(value) + len(str(sep)) * items)
        elif name == "indent" and isinstance(value, str):
            width = params[0] if params else kwargs.get("width", 4)
            _expect(len(value) + (value.count("\n") + 1) * (width if isinstance(width, int) else len(str(width))))
        elif name == "wordwrap" and isinstance(value, str):
            width = params[0] if params else kwargs.get("width", 79)
            wrap = params[2] if len(params) > 2 else kwargs.get("wrapstring") or "\n"
            _expect(len(value) + (len(value) // max(1, int(width)) + 1) * len(str(wrap)))
        elif name == "format" and isinstance(value, str):
            _expect(_format_estimate(value, (params, kwargs)))
        return _built(func(*args, **kwargs))

    return bounded


@functools.cache
def environment() -> Any:
    """The one sandboxed Jinja environment, with the budget's hooks in place."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class Bounded(SandboxedEnvironment):
        intercepted_binops = frozenset({"+", "*", "%", "**"})

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            _step()
            _check_args([*args, *kwargs.values()])
            args = _str_method(__obj, args, kwargs)
            result = _built(super().call(__context, __obj, *args, **kwargs))
            if isinstance(getattr(__obj, "__self__", None), (list, dict, set)):
                _check(__obj.__self__)  # a list.extend() or dict.update() grows its object, not its result
            return result

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                        _expect(size(seq) * n)
            elif operator == "+" and not isinstance(left, (int, float)):
                _expect(size(left) + size(right))
            elif operator == "%" and isinstance(left, str):
                _expect(_format_estimate(left, right))
            elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
                if right * left.bit_length() > MAX_INT_BITS:
                    raise TemplateFailure(f"template builds a number over {MAX_INT_BITS:,} bits", _HINT)
            return _built(super().call_binop(context, operator, left, right))

    env = Bounded(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False, finalize=_finalize)
    for name in ("lipsum", "cycler", "joiner"):  # lipsum(n=10**6) and friends: nothing a setting needs
        env.globals.pop(name, None)
    env.globals[_LOOP], env.globals[_CONCAT] = _iterate, _concat
    env.filters = {name: _bounded_filter(name, func) for name, func in env.filters.items()}
    return env


_compiled: dict[str, Any] = {}


def template(source: str) -> Any:
    """The template for a source, checked and bounded; compiled once per distinct source."""
    if source not in _compiled:
        env = environment()
        tree = env.parse(source)
        _check_names(tree)
        _compiled[source] = env.from_string(_bound(tree))
    return _compiled[source]


def render(compiled: Any, context: dict[str, Any]) -> str:
    """A template's output, under a fresh budget."""
    token = _budget.set(_Budget())
    try:
        parts, length = [], 0
        for chunk in compiled.generate(context):
            length += len(chunk)
            if length > MAX_SIZE:
                raise TemplateFailure(f"template output is over {MAX_SIZE:,} characters", _HINT)
            parts.append(chunk)
        return "".join(parts)
    finally:
        _budget.reset(token)


def _check_names(tree: Any) -> None:
    """Refuse a template whose secret()/env() name could hold a value read by one.

    A name is written in the template: quoted text, or worktree/profile/vars fields (and
    filters or `~` of those). llmconf's names cannot be rebound, and secret/env can only be
    called. So a name never carries a secret into a message, or into a saved plan's inputs.
    """
    from jinja2 import nodes

    for node in tree.find_all((nodes.Name, nodes.For)):
        if isinstance(node, nodes.For) and node.recursive:
            raise TemplateFailure("a template cannot use a recursive loop", _HINT)
        if isinstance(node, nodes.Name) and node.ctx in ("store", "param") and node.name in _RESERVED:
            raise TemplateFailure(f"a template cannot set '{node.name}': llmconf gives it", "use another name")
    calls = [c for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Name) and c.node.name in _FUNCTIONS]
    called = {id(c.node) for c in calls}
    for node in tree.find_all(nodes.Name):
        if node.name in _FUNCTIONS and node.ctx == "load" and id(node) not in called:
            raise TemplateFailure(f"{node.name} can only be called: {node.name}('NAME')", "name it literally")
    for call in calls:
        fn = call.node.name
        named = call.args[:1] or [k.value for k in call.kwargs if k.key == "name"]
        if call.dyn_args is not None or call.dyn_kwargs is not None or not named or not _plain_name(named[0]):
            raise TemplateFailure(
                f"{fn}() takes a name written in the template, not one computed from another secret() or env()",
                f"name it literally: {fn}('NAME')",
            )


def _plain_name(expr: Any) -> bool:
    from jinja2 import nodes

    allowed = (nodes.Const, nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Concat, nodes.Add, nodes.Filter, nodes.Slice)
    for node in [expr, *expr.find_all(nodes.Node)]:
        if not isinstance(node, allowed) or (isinstance(node, nodes.Name) and node.name not in CONTEXT_NAMES):
            return False
    return True


def _bound(tree: Any) -> Any:
    """The template with every for loop counted and every `~` bounded."""
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    class Bound(NodeTransformer):
        def visit_For(self, node: Any) -> Any:
            self.generic_visit(node)
            node.iter = nodes.Call(nodes.Name(_LOOP, "load"), [node.iter], [], None, None, lineno=node.lineno)
            return node

        def visit_Concat(self, node: Any) -> Any:
            self.generic_visit(node)
            return nodes.Call(nodes.Name(_CONCAT, "load"), node.nodes, [], None, None, lineno=node.lineno)

    tree = Bound().visit(tree)
    tree.set_environment(environment())
    return tree
