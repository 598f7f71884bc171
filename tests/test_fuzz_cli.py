"""Random configs and settings files, valid and broken, through the whole CLI.

Each example builds a fresh folder (profiles, worktrees.yaml, settings files, a secret store)
and runs plan, plan --json, plan --detailed-exitcode, status and apply --yes on it in-process,
as a user would. Properties:

(a) never a traceback or an internal error; exit 0 or 1 (2 only for --detailed-exitcode);
(b) apply changes only the keys the plan listed, each one llmconf may own, and nothing else;
(c) a command that fails (and plan or status, always) leaves every file as it was;
(d) after an apply, plan shows no change and a second apply writes nothing.

Each bug this test found is pinned by a reproducer at the end of this file, and its input is
back in the strategies.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llmconf import cli
from llmconf.targets.claude_code import settings as target
from tests.conftest import SECRET
from tests.helpers import Tree, changed_paths, snapshot_tree

# --- the sandbox ----------------------------------------------------------------------

STATE = "home/state"  # XDG_STATE_HOME, relative to the example's root; never snapshotted
CONFIG = "cfg"


@contextlib.contextmanager
def _environment(root: Path, secret_override: str | None) -> Iterator[None]:
    """Point HOME, XDG_* and the secret store into root; restore os.environ afterwards."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.startswith("LLMCONF_") or name == "NO_COLOR":
                del os.environ[name]
        os.environ["HOME"] = str(root / "home")
        os.environ["XDG_CONFIG_HOME"] = str(root / "home/.config")
        os.environ["XDG_STATE_HOME"] = str(root / STATE)
        os.environ["LLMCONF_SECRETS_FILE"] = str(root / "home/secrets.env")
        os.environ["LLMCONF_LOCK_TIMEOUT"] = "5"
        if secret_override is not None:
            os.environ["LLMCONF_SECRET_K"] = secret_override
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _Stream(io.TextIOWrapper):
    """A stream that encodes like a UTF-8 terminal: strictly, so unencodable text fails here too."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


@dataclass
class Result:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        head = f"llmconf {' '.join(self.argv)} -> {self.code}"
        return f"{head}\n--- stdout\n{self.out[:3000]}\n--- stderr\n{self.err[:3000]}"


def _cli(root: Path, *argv: str) -> Result:
    """Run llmconf in-process with -C pointing at the example's config folder."""
    args = ("-C", str(root / CONFIG), *argv)
    out, err = _Stream(), _Stream()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), out, err
    try:
        code = cli.main(list(args))
    except (Exception, SystemExit) as e:  # anything out of main is a crash, whatever its type
        raise AssertionError(f"llmconf {' '.join(argv)} raised {e!r}\n{err.text()}") from e
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return Result(argv, code, out.text(), err.text())


def _snapshot(root: Path) -> Tree:
    """Every file, link and folder under root but the state folder."""
    return snapshot_tree(root, skip=lambda rel: rel.parts[:2] == tuple(STATE.split("/")))


# --- strategies -----------------------------------------------------------------------
# Half the examples are clean: every file well-formed and every name resolvable, so that
# apply writes and properties (b) and (d) have work to check. The other half mixes in each
# kind of breakage. Every strategy takes `bad`: 0 in a clean example, 1 in a broken one,
# the weight of its broken branches. `pytest --hypothesis-show-statistics` shows how far
# the examples get.

LOCAL_PROFILES = ("p", "q", "r", "anthropic")  # files in cfg/profiles; 'anthropic' shadows the shipped one
SHIPPED_REFS = ("openrouter", "deepseek", "openrouter-base", "budget")  # all need secret 'openrouter'
BAD_REFS = ("shared", "nope", "P", "", "../p", "p/q", "anthropic.yaml")  # 'shared' only with profile_paths
PROFILE_ENV = ("API_TIMEOUT_MS", "MY_PROXY", "ANTHROPIC_MODEL", "LLM_TOKEN")  # env names profiles set
BAD_ENV = ("ANTHROPIC_BASE_URL", "CLAUDE_CODE_SUBAGENT_MODEL", "bad name", "1X", "", "ünï")
HAND_ENV = ("BASH_DEFAULT_TIMEOUT_MS", "DISABLE_TELEMETRY", "HTTP_PROXY", "MY_VAR")  # names users set
# Folders a worktree may be declared at, relative to cfg/ ('~' is HOME, inside the example).
FOLDERS = ("a", "b", "sub/c", "../outside", "~/homewt", "ünï côdé")
ALIASES = ("a/", "./b", "sub//c", "missing", "")  # the same folder spelt twice, no folder, no path

# No control or unassigned characters: YAML refuses them raw (the broken examples still have some).
_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn", "Co")), max_size=20)
# Built by .map so that hypothesis never prints the whole string in its reports.
_HUGE = st.sampled_from(("x", "é😀\u2028")).map(lambda s: s * (100_000 // len(s)))
GOOD_TEMPLATES = (
    "{{ worktree.name }}",
    "{{ worktree.path }}",
    "{{ profile.name }}",
    "{{ vars.team }}",
    "{{ vars.team | upper }}",
    "{{ env('HOME') }}",
    "{{ env('LLMCONF_FUZZ_UNSET', 'dflt') }}",
    "{% if vars.team %}t{% else %}f{% endif %}",
    "{{ range(3) | list }}",
    "{{ self }}",
)
BAD_TEMPLATES = (  # undefined names, sandbox escapes, syntax errors, missing secrets, empty results
    "{{ nope }}",
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ vars.team.x.y }}",
    "{% if %}",
    "{{",
    "{{ secret('missing') }}",
    "{{ env('LLMCONF_FUZZ_UNSET') }}",
    "{{ '' }}",
    "{# only a comment #}",
    "{{ config }}",
    "{{ secret(1) }}",
    # Found by this test once; kept so they stay fixed.
    "{{ 1/0 }}",
    "{{ 'a' + 1 }}",
    "{{ '%s %s' | format(1) }}",
    "{{ range(10**6) | list }}",
    "{{ vars[secret('k')] }}",
    "{{ secret(secret('k')) }}",
    "{{ env(secret('k')) }}",
)
SECRET_TEMPLATES = ("{{ secret('k') }}", "Bearer {{ secret('k') }}", "{{ secret('k') | upper }}")
PLAIN = ("https://openrouter.ai/api", "qwen/qwen3-coder", "z-ai/glm-4.7", "opus", "600000", "ünïcode/模型")


def _weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, in proportion to its weight (0: never); shrinking aims at the first."""
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(lambda s: s)


def _chance(draw: st.DrawFn, percent: int) -> bool:
    return draw(st.integers(0, 99)) >= 100 - percent  # shrinks towards False


def _around(templates: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.tuples(_TEXT, st.sampled_from(templates), _TEXT).map("".join)


_WRONG = st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.dictionaries(_TEXT, _TEXT))


def _value(bad: int, secret: bool = False) -> st.SearchStrategy[Any]:
    """A field's value: mostly a usable string, sometimes a template, a number, huge; or broken."""
    return _weighted(
        (16, st.sampled_from(PLAIN)),
        (8, _TEXT.filter(str.strip)),
        (6, _around(GOOD_TEMPLATES)),
        (6 if secret else 2, _around(SECRET_TEMPLATES)),
        (1, st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=False))),  # numbers become strings
        (1, _HUGE),
        (bad, _around(BAD_TEMPLATES)),
        (bad, st.one_of(_WRONG, st.none(), st.just(""))),
    )


def _ref(bad: int, after: str | None = None) -> st.SearchStrategy[Any]:
    """A profile name; in a clean example an `extends` only points later in LOCAL_PROFILES (no cycle)."""
    local = LOCAL_PROFILES if after is None or bad else LOCAL_PROFILES[LOCAL_PROFILES.index(after) + 1 :]
    return _weighted(
        (12 if local else 0, st.sampled_from(local or ("-",))),
        (2, st.sampled_from(SHIPPED_REFS)),
        (2 * bad, st.sampled_from(BAD_REFS) | _WRONG),
    )


@st.composite
def _fields(draw: st.DrawFn, kind: str, bad: int, name: str | None = None) -> dict[str, Any]:
    """A profile (`name`) or a worktree entry as a dict."""
    profile = kind == "profile"
    fields: dict[str, Any] = {}
    if not profile:
        fields["profile"] = draw(_ref(bad))
    if _chance(draw, 40 if profile else 10):
        fields["base_url"] = draw(_value(bad))
        # A token needs a gateway: set it beside base_url (anywhere, in a broken example).
        if _chance(draw, 60):
            fields["auth_token"] = draw(_value(bad, secret=True))
    elif bad and _chance(draw, 10):
        fields["auth_token"] = draw(_value(bad, secret=True))
    if _chance(draw, 60 if profile else 25):
        fields["models"] = draw(
            _weighted(
                (9, st.dictionaries(st.sampled_from(("haiku", "sonnet", "opus")), _value(bad), max_size=3)),
                (
                    bad,
                    st.dictionaries(st.sampled_from(("sonet", "Haiku", "fable")), _value(bad), min_size=1, max_size=1),
                ),
                (bad, st.one_of(st.none(), _WRONG)),
            )
        )
    if _chance(draw, 20):
        fields["subagent"] = draw(_value(bad, secret=True))
    if _chance(draw, 20):
        fields["default"] = draw(_value(bad))
    if _chance(draw, 40 if profile else 20):
        fields["env"] = draw(
            _weighted(
                (9, st.dictionaries(st.sampled_from(PROFILE_ENV), _value(bad, secret=True), max_size=3)),
                (bad, st.dictionaries(st.sampled_from(BAD_ENV), _value(bad), min_size=1, max_size=1)),
                (bad, st.one_of(st.none(), _WRONG)),
            )
        )
    if profile and _chance(draw, 30):
        extends = draw(_ref(bad, after=name))
        if extends != "-":
            fields["extends"] = extends
    if profile and _chance(draw, 20):
        fields["description"] = draw(_value(bad))
    if bad and _chance(draw, 4):
        fields[draw(st.sampled_from(("modles", "base-url", "extend", "envs")))] = draw(_value(bad))
    return fields


@st.composite
def _worktrees_doc(draw: st.DrawFn, folders: list[str], bad: int) -> dict[str, Any]:
    """worktrees.yaml; in a clean example every key is a folder that exists."""
    entry = _weighted((10, _ref(bad)), (8, _fields("worktree", bad)), (bad, st.one_of(_WRONG, st.none())))
    key = _weighted(
        (17, st.sampled_from(folders)),
        (bad, st.sampled_from(FOLDERS + ALIASES)),
        # Plain names: never a path out of the example (no '/', no leading '.' or '~').
        (bad, st.text(st.characters(categories=("L", "N"), include_characters=" -_"), min_size=1, max_size=8)),
    )
    doc: dict[str, Any] = {}
    if _chance(draw, 50):
        doc["vars"] = draw(_weighted((9, st.fixed_dictionaries({"team": _value(bad)})), (bad, st.just({}) | _WRONG)))
    elif not bad:
        doc["vars"] = {"team": draw(st.sampled_from(PLAIN))}  # templates read vars.team
    if _chance(draw, 30):
        doc["profile_paths"] = draw(
            _weighted((4, st.just(["../shared"])), (1, st.sampled_from((["nope"], [], ["~"]))), (bad, _WRONG))
        )
    doc["worktrees"] = draw(
        _weighted((19, st.dictionaries(key, entry, min_size=1, max_size=4)), (bad, st.one_of(st.none(), _WRONG)))
    )
    if bad and _chance(draw, 4):
        doc["worktree"] = draw(_value(bad))
    return doc


# Broken YAML: each is either a whole document or appended to a generated one.
BROKEN_YAML = (
    "worktrees: [",
    "worktrees:\n  a: p\n  a: q\n",
    "base_url: x\nbase_url: y\n",
    "\t- x\n",
    "key: 'unterminated\n",
    "a: b: c\n",
    "!!python/object/apply:os.system ['true']\n",
    "%YAML 9.9\n---\na: 1\n",
    "---\na: 1\n---\nb: 2\n",
    "worktrees: &a {b: *a}\n",
    "vars: &v {team: *v}\n",
    "? [a, b]\n: c\n",
    "42\n",
    "- a\n",
    "",
    "\x00\x01",
    "{{ nope }}\n",
    "vars: " + "[" * 3000 + "]" * 3000 + "\n",  # deeper than Python's recursion limit
    '{"env": {"X": "\\ud800"}}\n',  # a lone surrogate, escaped
    '{"env": {"X": "\\ud83d\\ude00"}}\n',  # an astral character escaped as JSON does it
)
_SURROGATE_PAIR = re.compile(r"\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}")


@st.composite
def _yaml(draw: st.DrawFn, doc: st.SearchStrategy[dict[str, Any]], bad: int) -> bytes:
    """A document as YAML text: flow (JSON) or block style; in a broken example, sometimes corrupted."""
    how = draw(_weighted((5, st.just("json")), (5, st.just("block")), (bad, st.sampled_from(("cut", "broken", "raw")))))
    if how == "raw":
        return draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    if how == "broken":
        return draw(st.sampled_from(BROKEN_YAML)).encode()
    value = draw(doc)
    if how == "block":
        from ruamel.yaml import YAML

        out = io.StringIO()
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.dump(value, out)
        text = out.getvalue()
    else:  # JSON is YAML too
        text = json.dumps(value, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from((None, 2))))
        if not bad:  # YAML refuses JSON's escape of an astral character: a clean example writes it raw
            text = _SURROGATE_PAIR.sub(lambda m: json.loads(f'"{m.group()}"'), text)
    if how == "cut":
        text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if bad and _chance(draw, 5):
        text += "\n" + draw(st.sampled_from(BROKEN_YAML))
    return text.encode()


class _Pairs(dict):  # type: ignore[type-arg]
    """A JSON object that may repeat a key: json.dumps writes its pairs in order, repeats too."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return self.pairs


_JSON = st.recursive(
    st.one_of(_TEXT, st.integers(), st.floats(), st.booleans(), st.none()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_ENV_NAME = _weighted(
    (4, st.sampled_from(HAND_ENV)), (3, st.sampled_from(target.BACKEND_VARS + PROFILE_ENV)), (1, _TEXT)
)
_ENV_VALUE = _weighted(
    (6, st.sampled_from(("1", "https://old.example/api", "old-token", "qwen/qwen3-coder-480b-a35b", ""))),
    (2, _TEXT),
    (1, _JSON),  # a backend key that holds a number or an object is still llmconf's to set
    (1, _HUGE),
)
_TOP_KEY = _weighted(
    (4, st.sampled_from(("hooks", "model", "includeCoAuthoredBy", "statusLine", "apiKeyHelper", "permissions"))),
    (1, _TEXT),
)


@st.composite
def _settings_doc(draw: st.DrawFn, bad: int) -> _Pairs:
    """A hand-grown settings object; a key may repeat; in a broken example env may be no object."""
    pairs = draw(st.lists(st.tuples(_TOP_KEY, _JSON), max_size=3))
    if _chance(draw, 80):
        env: Any = _Pairs(draw(st.lists(st.tuples(_ENV_NAME, _ENV_VALUE), max_size=5)))
        if bad and _chance(draw, 20):
            env = draw(st.one_of(st.lists(_TEXT, max_size=2), _TEXT, st.none(), st.integers()))
        pairs.insert(draw(st.integers(0, len(pairs))), ("env", env))
    if _chance(draw, 60):
        pairs.insert(0, ("permissions", {"allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"], "deny": []}))
    return _Pairs(pairs)


BROKEN_JSON = (
    b"",
    b"  \n",
    b"{'env': {}}",
    b'{"env": {"A": "1",}}',
    b"// comment\n{}",
    b"{} {}",
    b'{"a": tru}',
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b"[]",
    b'[{"env": {}}]',
    b'"env"',
    b"null",
    b"42",
    b'{"permissions": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # deeper than json can recurse
    b'{"x": "\\ud800", "env": {"ANTHROPIC_MODEL": "\\udfff"}}',  # lone surrogates, escaped
)


@st.composite
def _settings_file(draw: st.DrawFn, bad: int) -> tuple[str, bytes]:
    """What stands at .claude/settings.local.json: ('file'|'link', bytes), or ('none'|'dir'|'blocked', b'')."""
    kind = draw(
        _weighted(
            (3, st.just("none")),
            (10, st.just("file")),
            (1, st.just("link")),
            (bad, st.sampled_from(("broken", "broken", "cut", "dir", "blocked"))),
        )
    )
    if kind in ("none", "dir", "blocked"):
        return kind, b""
    if kind == "broken":
        return "file", draw(st.sampled_from(BROKEN_JSON))
    doc = draw(_settings_doc(bad))
    indent = draw(st.sampled_from((None, 0, 2, 4, "\t")))
    separators = draw(st.sampled_from((None, (",", ":"), (", ", ": "))))
    text = json.dumps(doc, indent=indent, separators=separators, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text += "\n"
    if _chance(draw, 20):
        text = text.replace("\n", "\r\n")
    if kind == "cut":
        return "file", text.encode()[: draw(st.integers(0, max(0, len(text.encode()) - 1)))]
    return kind, text.encode()


SECRETS_FILES = (
    f"k={json.dumps(SECRET)}\nopenrouter={json.dumps(SECRET)}\n",
    None,
    "k=unquoted\n",
    "# nothing here\n",
)


def _short(data: bytes) -> str:
    return repr(data) if len(data) <= 400 else f"{data[:400]!r}...({len(data)} bytes)"


@dataclass(repr=False)
class Example:
    worktrees_yaml: bytes
    profiles: dict[str, bytes]
    shared_profile: bytes | None
    folders: dict[str, tuple[str, bytes]]  # folder -> what stands at its settings file
    secrets_file: str | None
    secret_override: str | None

    def __repr__(self) -> str:
        lines = [f"worktrees.yaml: {_short(self.worktrees_yaml)}"]
        lines += [f"profiles/{name}.yaml: {_short(text)}" for name, text in self.profiles.items()]
        if self.shared_profile is not None:
            lines.append(f"../shared/shared.yaml: {_short(self.shared_profile)}")
        lines += [f"{f}/.claude/settings.local.json: {kind} {_short(data)}" for f, (kind, data) in self.folders.items()]
        lines.append(f"secrets file: {self.secrets_file!r}; LLMCONF_SECRET_K set: {self.secret_override is not None}")
        return "Example(\n  " + "\n  ".join(lines) + "\n)"

    def build(self, root: Path) -> None:
        cfg = root / CONFIG
        (cfg / "profiles").mkdir(parents=True)
        (root / "home").mkdir()
        (cfg / "worktrees.yaml").write_bytes(self.worktrees_yaml)
        for name, text in self.profiles.items():
            (cfg / "profiles" / f"{name}.yaml").write_bytes(text)
        if self.shared_profile is not None:
            (root / "shared").mkdir()
            (root / "shared/shared.yaml").write_bytes(self.shared_profile)
        if self.secrets_file is not None:
            (root / "home/secrets.env").write_text(self.secrets_file)
            os.chmod(root / "home/secrets.env", 0o600)
        for i, (folder, (kind, data)) in enumerate(self.folders.items()):
            path = root / "home" / folder[2:] if folder.startswith("~/") else cfg / folder
            claude = path / ".claude"
            path.mkdir(parents=True)
            if kind == "blocked":
                claude.write_text("a file where the .claude folder should be\n")
                continue
            claude.mkdir()
            if kind == "dir":
                (claude / "settings.local.json").mkdir()
            elif kind == "file":
                (claude / "settings.local.json").write_bytes(data)
            elif kind == "link":  # written through to a file outside any worktree
                (root / "linked").mkdir(exist_ok=True)
                (root / f"linked/{i}.json").write_bytes(data)
                (claude / "settings.local.json").symlink_to(root / f"linked/{i}.json")


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    bad = int(draw(st.booleans()))
    names = [name for name in LOCAL_PROFILES if not (bad and _chance(draw, 10))]
    folders = draw(st.lists(st.sampled_from(FOLDERS), unique=True, min_size=1))
    return Example(
        worktrees_yaml=draw(_yaml(_worktrees_doc(folders, bad), bad)),
        profiles={name: draw(_yaml(_fields("profile", bad, name), bad)) for name in names},
        shared_profile=draw(st.one_of(st.none(), _yaml(_fields("profile", bad), bad))),
        folders={f: draw(_settings_file(bad)) for f in folders},
        secrets_file=draw(st.sampled_from(SECRETS_FILES[: 4 if bad else 1])),
        secret_override=draw(st.sampled_from((None, SECRET))),
    )


# --- the properties -------------------------------------------------------------------


def _well_behaved(result: Result, codes: tuple[int, ...] = (0, 1)) -> None:
    """(a), and no secret in any output."""
    assert result.code in codes, str(result)
    for stream in (result.out, result.err):
        assert "Traceback" not in stream, str(result)
        assert "internal error" not in stream, str(result)
        assert SECRET not in stream and json.dumps(SECRET)[1:-1] not in stream, str(result)
    if result.code == 1:
        assert result.err.startswith("llmconf: "), str(result)


def _outcome(applied: Result, plan: dict[str, Any] | None) -> str:
    """How far an example got, for --hypothesis-show-statistics: the strategies must reach apply."""
    if applied.code == 1:
        return "apply refused: " + ("config did not load" if plan is None else "a worktree has an error")
    written = sum(1 for wt in plan["worktrees"] if wt["action"] != "none") if plan else 0
    return f"apply wrote {min(written, 3)}{'+' if written >= 3 else ''} file(s)"


def _owned_by_llmconf(key: str) -> bool:
    """Whether a key may change at all: a backend key, or one a generated profile can render."""
    if key == "model":
        return True
    name = key.removeprefix("env.")
    return key.startswith("env.") and (name.startswith("ANTHROPIC_") or name == target.SUBAGENT or name in PROFILE_ENV)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)  # NaN-safe, unlike ==


def _read_doc(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _leaves(doc: dict[str, Any] | None) -> dict[str, str]:
    """A settings object as {key: canonical value}, env members as env.NAME."""
    out: dict[str, str] = {}
    for key, value in (doc or {}).items():
        if key == "env" and isinstance(value, dict):
            out.update({f"env.{k}": _canon(v) for k, v in value.items()})
        else:
            out[key] = _canon(value)
    return out


def _check_apply_did_the_plan(root: Path, plan: dict[str, Any], before: Tree, docs: dict[str, Any]) -> None:
    """(b): apply wrote exactly the planned keys, all llmconf's, and left everything else alone."""
    planned_files = set()
    for wt in plan["worktrees"]:
        assert wt["error"] is None, wt
        settings = Path(wt["settings_file"])
        if wt["action"] == "none":
            assert wt["changes"] == [], wt
            continue
        planned_files.add(os.path.realpath(settings))
        changes = {c["key"]: c for c in wt["changes"]}
        assert changes, wt
        for key in changes:
            assert _owned_by_llmconf(key), f"plan touches {key}, which llmconf does not own: {wt}"
        old, new = _leaves(docs.get(str(settings))), _leaves(_read_doc(settings))
        if wt["action"] == "delete":
            assert not settings.exists(), wt
        else:
            assert _read_doc(settings) is not None, f"{settings} is not a JSON object after apply"
        for key in old.keys() | new.keys():
            if key not in changes:
                assert old.get(key) == new.get(key), f"{settings}: apply changed {key}, not in the plan"
            elif changes[key]["action"] == "remove":
                assert key not in new, f"{settings}: {key} should be gone"
            elif not changes[key]["sensitive"]:
                assert new.get(key) == _canon(changes[key]["after"]), f"{settings}: {key} is not what the plan said"
            else:
                assert key in new, f"{settings}: {key} should be set"
        if settings.exists() and json.dumps(SECRET)[1:-1].encode() in settings.read_bytes():
            assert stat.S_IMODE(settings.stat().st_mode) & 0o077 == 0, f"{settings} holds a secret and is not 0600"
    after = _snapshot(root)
    for rel in changed_paths(before, after):
        path = root / rel
        assert os.path.realpath(path) in planned_files or path.is_dir(), f"apply changed {rel}, not in the plan"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(example=_examples())
def test_any_input_gives_a_clean_result_and_a_failed_run_changes_nothing(example: Example) -> None:
    with tempfile.TemporaryDirectory(prefix="llmconf-fuzz-") as tmp:
        root = Path(tmp)
        example.build(root)
        with _environment(root, example.secret_override):
            before = _snapshot(root)
            results = {}
            for argv in (("plan",), ("plan", "--json"), ("plan", "--detailed-exitcode"), ("status",)):
                result = _cli(root, *argv)
                _well_behaved(result, (0, 1, 2) if "--detailed-exitcode" in argv else (0, 1))
                assert changed_paths(before, _snapshot(root)) == set(), f"{result}\nwrote to disk"  # (c)
                results[argv] = result
            first = results[("plan",)]
            assert {r.code == 1 for r in results.values()} == {first.code == 1}, "\n".join(map(str, results.values()))
            # The first run loaded the config from its files; this one may take it from the cache.
            again = _cli(root, "plan")
            assert (again.code, again.out, again.err) == (first.code, first.out, first.err), f"{again}\n{first}"
            shown = results[("plan", "--json")].out
            plan = json.loads(shown) if shown or first.code == 0 else None  # a config that does not load shows none
            docs = {
                wt["settings_file"]: _read_doc(Path(wt["settings_file"])) for wt in (plan or {}).get("worktrees", [])
            }

            applied = _cli(root, "apply", "--yes")
            _well_behaved(applied)
            event(_outcome(applied, plan))
            assert applied.code == first.code, f"{applied}\nplan said {first}"
            if applied.code == 1:
                assert changed_paths(before, _snapshot(root)) == set(), f"{applied}\nfailed, yet wrote to disk"  # (c)
                return
            assert plan is not None
            _check_apply_did_the_plan(root, plan, before, docs)  # (b)

            again = _cli(root, "plan", "--detailed-exitcode")  # (d)
            assert again.code == 0, f"{again}\nno convergence after\n{applied}"
            settled = _snapshot(root)
            second = _cli(root, "apply", "--yes")
            _well_behaved(second)
            assert second.code == 0 and changed_paths(settled, _snapshot(root)) == set(), f"{second}\nwrote again"


# --- bugs this test found, fixed: minimal reproducers that keep them fixed -----------------


def _given(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write files under root/cfg (profile p by default), and the folders they need."""
    files = {"profiles/p.yaml": "models: {sonnet: qwen/qwen3-coder}\n", **files}
    for rel, data in files.items():
        path = root / CONFIG / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    (root / "home").mkdir(exist_ok=True)
    return root / CONFIG


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ 1/0 }}", "ZeroDivisionError: division by zero"),
        ("{{ 'a' + 1 }}", 'TypeError: can only concatenate str (not "int") to str'),
        ("{{ '%s %s' | format(1) }}", "TypeError: not enough arguments for format string"),
    ],
)
def test_a_template_raising_a_python_error_is_a_located_error(tmp_path, template, error):
    _given(
        tmp_path,
        {"worktrees.yaml": "worktrees: {a: p}\n", "a/.keep": "", "profiles/p.yaml": f'env: {{X: "{template}"}}\n'},
    )
    with _environment(tmp_path, None):
        result = _cli(tmp_path, "plan")
    assert result.code == 1, str(result)  # actual: 3, "internal error: ZeroDivisionError" (TypeError); range(10**6): see test_hostile_render
    assert result.err == (
        f"llmconf: {tmp_path}/cfg/profiles/p.yaml:1: template error in env.X: {error} "
        "(templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))\n"
    ), str(result)


def test_deeply_nested_settings_json_is_a_clean_error(tmp_path):
    deep = '{"permissions": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    _given(tmp_path, {"worktrees.yaml": "worktrees: {a: p}\n", "a/.claude/settings.local.json": deep})
    with _environment(tmp_path, None):
        result = _cli(tmp_path, "plan")
    assert result.code == 1, str(result)  # actual: 3, "internal error: RecursionError"
    assert result.err == (
        f"llmconf: {tmp_path}/cfg/a/.claude/settings.local.json: nested too deeply to read safely "
        "(fix it by hand; llmconf never overwrites it)\n"
    ), str(result)


def test_a_lone_surrogate_escape_in_a_settings_file_is_no_crash(tmp_path):
    # Valid JSON (json.loads takes it); view.py prints the old value of the key it removes.
    settings = '{"env": {"ANTHROPIC_MODEL": "\\ud800"}}\n'
    _given(tmp_path, {"worktrees.yaml": "worktrees: {a: p}\n", "a/.claude/settings.local.json": settings})
    with _environment(tmp_path, None):
        results = [_cli(tmp_path, "plan"), _cli(tmp_path, "plan", "--json")]
    for result in results:
        assert result.code == 0, str(result)  # actual: 3, "internal error: UnicodeEncodeError"


def test_a_lone_surrogate_in_a_key_llmconf_does_not_own_survives_a_rewrite(tmp_path):
    # Once a repeated key made jsonedit re-serialise the document, and the escape of the unowned
    # "x" became a raw surrogate that UTF-8 cannot encode. A change that would drop a repeated
    # key is now refused at plan time (nothing lost); the surrogate survives an ordinary edit.
    settings = '{"x": "\\ud800", "env": {"ANTHROPIC_MODEL": "a", "ANTHROPIC_MODEL": "b"}}\n'
    cfg = _given(tmp_path, {"worktrees.yaml": "worktrees: {a: p}\n", "a/.claude/settings.local.json": settings})
    with _environment(tmp_path, None):
        refused = _cli(tmp_path, "apply", "--yes")
        assert refused.code == 1 and "twice in one object" in refused.err, str(refused)  # actual once: 3, UnicodeEncodeError
        (cfg / "a/.claude/settings.local.json").write_text('{"x": "\\ud800", "env": {"ANTHROPIC_MODEL": "b"}}\n')
        result = _cli(tmp_path, "apply", "--yes")
    assert result.code == 0, str(result)
    assert json.loads((cfg / "a/.claude/settings.local.json").read_text())["x"] == "\ud800"


def test_a_template_error_never_shows_a_secret(tmp_path):
    _given(
        tmp_path,
        {
            "worktrees.yaml": "worktrees: {a: p}\n",
            "a/.keep": "",
            "profiles/p.yaml": "env: {X: \"{{ vars[secret('k')] }}\"}\n",
        },
    )
    with _environment(tmp_path, "sk-fuzz-not-for-anyone"):
        result = _cli(tmp_path, "plan")
    assert result.code == 1, str(result)
    assert (
        "sk-fuzz-not-for-anyone" not in result.err
    )  # actual: "'dict object' has no attribute 'sk-fuzz-not-for-anyone'"


def test_status_never_shows_a_secret(tmp_path):
    profile = "base_url: \"https://gw.example/{{ secret('k') }}/v1\"\nmodels: {sonnet: \"{{ secret('k') }}\"}\n"
    _given(tmp_path, {"worktrees.yaml": "worktrees: {a: p}\n", "a/.keep": "", "profiles/p.yaml": profile})
    with _environment(tmp_path, "sk-fuzz-not-for-anyone"):
        results = [_cli(tmp_path, "status"), _cli(tmp_path, "status", "--json"), _cli(tmp_path, "plan")]
    for result in results:
        assert result.code == 0, str(result)
        assert "sk-fuzz-not-for-anyone" not in result.out, str(result)  # actual: status prints it in two columns


def test_two_worktrees_that_are_one_folder_through_a_symlink(tmp_path):
    cfg = _given(
        tmp_path,
        {
            "worktrees.yaml": "worktrees: {a: p, alias: q}\n",
            "a/.keep": "",
            "profiles/q.yaml": "models: {sonnet: z-ai/glm-4.7}\n",
        },
    )
    (cfg / "alias").symlink_to("a")
    with _environment(tmp_path, None):
        result = _cli(tmp_path, "apply", "--yes")
        settled = _cli(tmp_path, "plan", "--detailed-exitcode")
    # Either a clean refusal that writes nothing, or an apply that converges. Actual: exit 1
    # ("changed on disk since the plan was made") after writing a/, and every later plan flips it.
    refused = result.code == 1 and not (cfg / "a/.claude/settings.local.json").exists()
    assert refused or (result.code == 0 and settled.code == 0), f"{result}\n{settled}"
