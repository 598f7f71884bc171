"""llmconf.records behaves as the dataclasses module does, for the part of it llmconf uses."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, ClassVar

import pytest

from llmconf import records

IMPLEMENTATIONS = [
    pytest.param((dataclasses.dataclass, dataclasses.field, dataclasses.replace), id="dataclasses"),
    pytest.param((records.dataclass, records.field, records.replace), id="records"),
]


def _classes(dc: Any, field: Any) -> tuple[Any, Any, Any]:
    @dc(frozen=True)
    class Frozen:
        """A frozen record with every kind of field."""

        x: int
        y: str = "d"
        z: tuple[int, ...] = field(default_factory=tuple)
        w: int = field(default=3, repr=False, compare=False)
        K: ClassVar[int] = 5

    @dc
    class Mutable:
        x: int
        y: list[int] = field(default_factory=list)

    @dc(frozen=True, slots=True)
    class Slotted:
        a: int
        b: dict[str, int] = field(default_factory=dict)

        def total(self) -> int:
            return self.a + len(self.b)

    return Frozen, Mutable, Slotted


def _behaviour(dc: Any, field: Any, replace: Any) -> list[Any]:
    Frozen, Mutable, Slotted = _classes(dc, field)
    a, same = Frozen(1), Frozen(1, "d", (), 9)
    out: list[Any] = [
        repr(a).split(".")[-1],
        a == same,  # w is not compared
        hash(a) == hash(same),
        a == Frozen(2),
        a != "Frozen(x=1)",
        repr(replace(a, y="q")).split(".")[-1],
        replace(a, y="q").w,
        Frozen.K,
        Frozen.y,
        Frozen.__match_args__,
        repr(Mutable(1)).split(".")[-1],
        Mutable(1) == Mutable(1),
        Mutable.__hash__,
        Mutable(1).y is not Mutable(1).y,  # a fresh default per instance
    ]
    m = Mutable(1)
    m.x = 2
    out.append(m.x)
    for target, name in ((a, "x"), (Slotted(1), "a")):
        with pytest.raises(AttributeError):
            setattr(target, name, 0)
        with pytest.raises(AttributeError):
            delattr(target, name)
    s = Slotted(1, {"k": 1})
    out += [
        repr(s).split(".")[-1],
        s.total(),
        hasattr(s, "__dict__"),
        Slotted.__slots__,
        copy.deepcopy(s) == s,
        copy.copy(s) == s,
        repr(replace(s, a=5)).split(".")[-1],
    ]
    with pytest.raises(TypeError):
        Frozen()  # x is required
    with pytest.raises(TypeError):
        replace(a, nope=1)
    return out


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_records_behave_as_dataclasses(impl: Any) -> None:
    assert _behaviour(*impl) == [
        "Frozen(x=1, y='d', z=())",
        True,
        True,
        False,
        True,
        "Frozen(x=1, y='q', z=())",
        3,
        5,
        "d",
        ("x", "y", "z", "w"),
        "Mutable(x=1, y=[])",
        True,
        None,
        True,
        2,
        "Slotted(a=1, b={'k': 1})",
        2,
        False,
        ("a", "b"),
        True,
        True,
        "Slotted(a=5, b={'k': 1})",
    ]


def test_importing_records_imports_neither_dataclasses_nor_inspect() -> None:
    import subprocess
    import sys

    code = "import sys, llmconf.records; print(sorted(m for m in ('dataclasses', 'inspect') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"
