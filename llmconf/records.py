"""Data classes without the dataclasses module: `dataclass`, `field` and `replace`, the part of
its interface llmconf uses, with the same behaviour (an __init__ taking the fields in order,
repr, eq on the fields, hash when frozen, assignment refused when frozen, __slots__ on request).

Why: importing dataclasses imports inspect (half of Python's own start-up again), and each class
it makes compiles five or six generated functions one by one. A plan of 10 worktrees spent more
on that than on its work. Here a class compiles its __init__ alone (the fastest way to make an
instance), and only when its first instance is made; repr, eq, hash and the frozen refusals are shared functions reading the fields by name.
mypy reads the decorator as a dataclass through PEP 681 (dataclass_transform).
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**kwargs: object) -> Callable[[Callable[..., object]], Callable[..., object]]:
        """typing.dataclass_transform: a mark for the type checker alone."""
        return lambda decorator: decorator


_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen instance."""


class Field:
    """A field's options, as `field()` gives them."""

    __slots__ = ("default", "default_factory", "repr", "compare")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None, repr: bool, compare: bool) -> None:
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


def field(
    *, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True, compare: bool = True
) -> Any:
    """A field's default (a value, or a function making one per instance), and whether repr
    shows it and eq compares it."""
    return Field(default, default_factory, repr, compare)


@dataclass_transform(field_specifiers=(field,))
def dataclass(cls: type[T] | None = None, /, *, frozen: bool = False, slots: bool = False) -> Any:
    """Make `cls` a data class: `@dataclass`, `@dataclass(frozen=True, slots=True)`."""

    def wrap(c: type[T]) -> type[T]:
        return _build(c, frozen, slots)

    return wrap if cls is None else wrap(cls)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of a data class instance with some fields changed."""
    for name in obj.__class__.__record_fields__:  # type: ignore[attr-defined]
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)


def _nothing(obj: Any) -> tuple[()]:
    return ()


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _build(cls: type[T], frozen: bool, slots: bool) -> type[T]:
    own = cls.__dict__
    fields: list[tuple[str, Field]] = []
    for name, annotation in own.get("__annotations__", {}).items():
        if isinstance(annotation, str):
            if annotation.replace("typing.", "").startswith("ClassVar"):
                continue
        elif (typing := sys.modules.get("typing")) is not None:  # a real ClassVar was imported from it
            if annotation is typing.ClassVar or typing.get_origin(annotation) is typing.ClassVar:
                continue
        value = own.get(name, _MISSING)
        fields.append((name, value if isinstance(value, Field) else Field(value, None, True, True)))
    names = [name for name, _ in fields]
    env: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__, "FrozenInstanceError": FrozenInstanceError}
    params, body = [], []
    for name, f in fields:
        if f.default_factory is not None:
            env[f"_f_{name}"] = f.default_factory
            params.append(f"{name}=_MISSING")
            value = f"_f_{name}() if {name} is _MISSING else {name}"
        elif f.default is not _MISSING:
            env[f"_d_{name}"] = f.default
            params.append(f"{name}=_d_{name}")
            value = name
        else:
            params.append(name)
            value = name
        body.append(f"  _set(self, {name!r}, {value})" if frozen else f"  self.{name} = {value}")
    source = "\n".join([f"def __init__(self, {', '.join(params)}):" if params else "def __init__(self):", *(body or ["  pass"])])
    made_init: list[type[Any]] = []  # the class the __init__ goes on, once it is final (slots make a new one)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The one compile, on the first instance: a run makes instances of only some of the
        # classes it imports (a status makes none of doctor's). The other methods are shared,
        # reading the fields by name.
        exec(source, env)
        real = env["__init__"]
        real.__qualname__ = f"{made_init[0].__qualname__}.__init__"
        made_init[0].__init__ = real
        real(self, *args, **kwargs)
    keyed = [n for n, f in fields if f.compare]
    compared: Callable[[Any], Any] = operator.attrgetter(*keyed) if keyed else _nothing
    if len(keyed) == 1:  # attrgetter of one name gives the value, not a 1-tuple
        one = compared
        compared = lambda obj: (one(obj),)  # noqa: E731
    shown = tuple(n for n, f in fields if f.repr)

    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(compared(self))

    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, n) for n in names]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state):
            object.__setattr__(self, name, value)

    env.update(
        __init__=__init__, __repr__=__repr__, __eq__=__eq__, __hash__=__hash__, __setattr__=_frozen_setattr, __delattr__=_frozen_delattr,
        __getstate__=__getstate__, __setstate__=__setstate__,
    )
    if slots:
        namespace = {k: v for k, v in own.items() if k not in names and k not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = tuple(names)
        meta: Any = type(cls)
        made: Any = meta(cls.__name__, cls.__bases__, namespace)
        made.__qualname__ = cls.__qualname__
        cls = made
        own = cls.__dict__
    methods = ["__init__", "__repr__", "__eq__"]
    # As dataclasses: a frozen class with eq hashes its fields; a mutable one is unhashable;
    # a __hash__ the class body wrote itself is kept.
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if frozen:
        methods += ["__setattr__", "__delattr__"]
        if slots:
            methods += ["__getstate__", "__setstate__"]
    for method in methods:
        if method not in own:
            setattr(cls, method, env[method])
    if not explicit_hash:
        cls.__hash__ = env["__hash__"] if frozen else None  # type: ignore[assignment]
    if not slots:  # as dataclasses: a field() on the class becomes its default, or goes
        for name, f in fields:
            if isinstance(own.get(name), Field):
                if f.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
    made_init.append(cls)
    setattr(cls, "__match_args__", tuple(names))
    cls.__record_fields__ = tuple(names)  # type: ignore[attr-defined]
    return cls
