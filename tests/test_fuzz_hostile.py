"""Hostile input through the whole CLI: alias bombs, deep nesting, special characters and odd
encodings in worktrees.yaml, profiles and settings files, with a secret rendered in derived forms.

Each example builds a fresh folder and runs every command that reads it. Properties:

(a) a located error (`llmconf: FILE[:LINE]: ...`, one line) or a clean result; never exit 3,
    never a traceback;
(b) every run ends within a time bound (a hang or a runaway expansion fails the example);
(c) no value that came from the secret, nor any derived form of it (cased, sliced), in any
    output, nor in any file llmconf writes outside the settings files;
(d) a command that fails leaves every file as it was.

tests/test_fuzz_cli.py covers well-formed and plainly broken configs; this file the
adversarial ones the security review of issue 18 sent.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.helpers import changed_paths
from tests.test_fuzz_cli import CONFIG, STATE, Result, _cli, _environment, _snapshot

#: The secret: not shaped like a key, so only sensitivity tracking keeps it out of output.
SECRET = "Plain-Secret-Value-0123"
#: Forms a template can derive from it; none may be shown (slices of at least 8 characters).
DERIVED = (SECRET, SECRET.lower(), SECRET.upper(), SECRET[3:], SECRET[:-3], SECRET[5:15])
#: Seconds one command may take on any input before the example fails.
BOUND = 20

# --- strategies -----------------------------------------------------------------------

SECRET_TEMPLATES = (
    "{{ secret('k') }}",
    "{{ secret('k') | lower }}",
    "{{ secret('k') | upper }}",
    "{{ secret('k')[3:] }}",
    "{{ secret('k') ~ '-x' }}",
    "https://gw.example/k/{{ secret('k') }}/api",
    "{{ secret(secret('k')) }}",
    "{{ secret(secret('k') | lower) }}",
    "{{ env(secret('k')[1:]) }}",
    "{{ vars[secret('k')] }}",
    "{{ secret('k') | int }}",
    "{% set s = secret('k') %}{{ s[::-1][::-1] }}",
    "{{ env('LLMCONF_SECRET_K') }}",
)
BOMB_TEMPLATES = (
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    "{{ lipsum(n=1000000) }}",
    "{{ 'x' * 1000000000 }}",
    "{{ '%s' | format('x' * 100000) * 100000 }}",
    "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
)
# Characters that mean something to a shell, git, YAML, JSON, a terminal or a file system.
SPECIAL = ("\\0", "\\x1b[31m", "\\u2028", "\\u202e", "\\t", ":x", "*", "..", "~", "$HOME", "\\\\", "'", "\\r")


def _alias_bomb(levels: int, width: int) -> str:
    """A billion-laughs `vars:` with `width` ** `levels` strings behind one alias."""
    lines = ['  l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "vars:\n" + "\n".join(lines) + "\n"


def _deep(depth: int, style: str) -> str:
    """`vars:` nested `depth` deep, in flow or block style."""
    if style == "flow":
        return "vars: {x: " + "[" * depth + "]" * depth + "}\n"
    return "vars:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(depth)) + f"{'  ' * (depth + 1)}v: 1\n"


@st.composite
def _vars(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(("none", "bomb", "deep", "special")))
    if kind == "bomb":
        return _alias_bomb(draw(st.integers(2, 9)), draw(st.integers(2, 10)))
    if kind == "deep":  # block style grows as depth squared: 1,500 deep is past the 4 MiB cap already
        if draw(st.booleans()):
            return _deep(draw(st.sampled_from((10, 200, 1_000, 20_000, 100_000))), "flow")
        return _deep(draw(st.sampled_from((10, 200, 1_000, 1_500))), "block")
    if kind == "special":
        return f'vars: {{team: "{draw(st.sampled_from(SPECIAL))}"}}\n'
    return ""


@st.composite
def _worktree_key(draw: st.DrawFn) -> str:
    """A worktree's folder: plain, or with a special character or an over-long component."""
    return draw(
        st.sampled_from(("a", "a", "a", "b/c", "x" * 300, "a\\0b", ":x", "a/../b", "\\u202eevil", "sp ace", "-rf")),
    )


@st.composite
def _profile(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(("base_url", "auth_token", "model", "env")))
    template = draw(st.sampled_from(SECRET_TEMPLATES + BOMB_TEMPLATES[: 5 if draw(st.booleans()) else 0]))
    value = json.dumps(template)
    if field == "model":
        return f"base_url: https://gw.example/api\nmodels: {{sonnet: {value}}}\n"
    if field == "env":
        return f"models: {{sonnet: qwen/qwen3-coder}}\nenv: {{API_TIMEOUT_MS: {value}}}\n"
    if field == "auth_token":
        return f"base_url: https://gw.example/api\nauth_token: {value}\n"
    return f"base_url: {value}\nmodels: {{sonnet: qwen/qwen3-coder}}\n"


def _encode(text: str, how: str, cut: int) -> bytes:
    """The text in an odd encoding, or broken at byte `cut`."""
    if how == "bom":
        return codecs.BOM_UTF8 + text.encode()
    if how == "utf16":
        return text.encode("utf-16")
    if how == "latin1":
        return text.replace("a", "\xe9", 1).encode("latin-1", "replace")
    if how == "badbyte":
        data = text.encode()
        at = cut % (len(data) + 1)
        return data[:at] + b"\xff\xfe" + data[at:]
    if how == "crlf":
        return text.replace("\n", "\r\n").encode()
    if how == "nul":
        return text.encode() + b"\x00"
    return text.encode()


ENCODINGS = ("utf8", "utf8", "utf8", "bom", "utf16", "latin1", "badbyte", "crlf", "nul")

SETTINGS = (
    None,
    b'{"env": {"ANTHROPIC_MODEL": "old"}, "permissions": {"allow": []}}\n',
    b'{"env": {"ANTHROPIC_BASE_URL": NaN}}\n',
    b'{"model": Infinity}\n',
    b'{"env": {"ANTHROPIC_MODEL": "a"}}\r\n',
    b'{"permissions": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n",
    b'{"x": "\\ud800", "env": {}}\n',
    b'\xef\xbb\xbf{"env": {}}\n',
    b'{"env": {"A": "\xff"}}\n',
    b'{"env": {"A": "' + b"x" * 3_000_000 + b'"}}\n',
    b'{"env": {"ANTHROPIC_AUTH_TOKEN": "' + SECRET.encode() + b'"}}\n',
)


@dataclass(repr=False)
class Example:
    worktrees_yaml: bytes
    profile: bytes
    settings: bytes | None

    def __repr__(self) -> str:
        def short(data: bytes | None) -> str:
            return repr(data) if data is None or len(data) <= 300 else f"{data[:300]!r}...({len(data)} bytes)"

        return f"Example(worktrees.yaml={short(self.worktrees_yaml)}, p.yaml={short(self.profile)}, settings={short(self.settings)})"

    def build(self, root: Path) -> None:
        cfg = root / CONFIG
        (cfg / "profiles").mkdir(parents=True)
        (cfg / "a").mkdir()
        (root / "home").mkdir()
        (cfg / "worktrees.yaml").write_bytes(self.worktrees_yaml)
        (cfg / "profiles/p.yaml").write_bytes(self.profile)
        (root / "home/secrets.env").write_text(f"k={json.dumps(SECRET)}\n")
        (root / "home/secrets.env").chmod(0o600)
        if self.settings is not None:
            (cfg / "a/.claude").mkdir()
            (cfg / "a/.claude/settings.local.json").write_bytes(self.settings)


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    key = draw(_worktree_key())
    worktrees = f'{draw(_vars())}worktrees:\n  "{key}": p\n'
    return Example(
        worktrees_yaml=_encode(worktrees, draw(st.sampled_from(ENCODINGS)), draw(st.integers(0, 200))),
        profile=_encode(draw(_profile()), draw(st.sampled_from(ENCODINGS)), draw(st.integers(0, 200))),
        settings=draw(st.sampled_from(SETTINGS)),
    )


# --- the properties -------------------------------------------------------------------


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _bounded(seconds: int) -> Iterator[None]:
    """(b): the block raises _TooSlow after `seconds`, whatever it was doing in Python."""

    def expire(signum: int, frame: object) -> None:
        raise _TooSlow(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _run(root: Path, *argv: str) -> Result:
    with _bounded(BOUND):
        result = _cli(root, *argv)
    assert result.code != 3 and "Traceback" not in result.err, str(result)  # (a)
    if result.code == 1 and argv[0] == "doctor" and not result.err:  # its findings are its output
        errors = [f for wt in json.loads(result.out)["worktrees"] for f in wt["findings"] if f["severity"] == "error"]
        assert errors and all(f["file"].startswith(f"{root}/") for f in errors), str(result)
    elif result.code == 1:  # (a): the first problem at its file; then others, or a summary
        lines = result.err.splitlines()
        assert lines[0].startswith(f"llmconf: {root}/"), str(result)
        assert all(line.startswith("llmconf: ") for line in lines), str(result)
    for text in (result.out, result.err):
        for form in DERIVED:  # (c)
            assert form not in text, f"{form!r} shown by: {result}"
    return result


#: Files that hold a settings file's keys by design, 0600 outside any repository.
_KEY_HOLDERS = ("deliver", "backups")


def _files_written(root: Path) -> Iterator[tuple[Path, bool]]:
    """Every file llmconf may write beside the settings files (state, backups, caches,
    deliveries, config edits), and whether it may hold a key."""
    for folder in (root / STATE, root / "home/.cache", root / CONFIG):
        for path in folder.rglob("*") if folder.exists() else ():
            if path.is_file() and path.name != "settings.local.json":
                yield path, bool(set(path.relative_to(folder).parts) & set(_KEY_HOLDERS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(example=_examples())
def test_hostile_input_gives_a_located_error_or_a_clean_result(example: Example) -> None:
    with tempfile.TemporaryDirectory(prefix="llmconf-hostile-") as tmp:
        root = Path(tmp)
        example.build(root)
        with _environment(root, None):
            before = _snapshot(root)
            for argv in (("plan",), ("plan", "--json"), ("validate",), ("status", "--json"), ("doctor", "--json")):
                _run(root, *argv)
            assert changed_paths(before, _snapshot(root)) == set(), "a read-only command wrote"  # (d)
            plan = _run(root, "plan", "--out", str(root / "saved.plan"))
            applied = _run(root, "apply", "--yes")
            if applied.code == 1:
                after = _snapshot(root)
                assert changed_paths(before, after) - {"saved.plan"} == set(), f"{applied}\nfailed, yet wrote"  # (d)
            event(f"plan {plan.code}, apply {applied.code}")
            for path, may_hold_key in [*_files_written(root), (root / "saved.plan", False)]:
                data = path.read_bytes() if path.exists() else b""
                if may_hold_key:
                    assert path.stat().st_mode & 0o077 == 0, f"{path.relative_to(root)} is readable by others"
                    continue
                for form in DERIVED:
                    assert form.encode() not in data, f"{form!r} in {path.relative_to(root)}"  # (c)
