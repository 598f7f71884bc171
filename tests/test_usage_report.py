"""llmconf usage: what each worktree spent, read from generated Claude Code transcripts, with
every total worked out independently as the transcripts are written (issue 17)."""

from __future__ import annotations

import json
import os
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest

from llmconf.targets.claude_code import transcripts
from tests.conftest import SECRET, write_tree
from tests.transcripts import Expected, assistant_line, project_folder, random_usage, user_line, write_session

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
DEEPSEEK = "deepseek/deepseek-v3.2"
UNPRICED = "test/unpriced-model"


@pytest.fixture(autouse=True)
def _in_utc(utc):
    """Days are counted in local time: UTC here, for every test."""


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Two declared worktrees (a on anthropic, b on deepseek), an undeclared folder, and
    transcripts of sessions in each, with duplicates, a garbled line and a truncated one."""
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", SECRET)
    claude = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    write_tree(tmp_path, {
        "cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n  ../b: deepseek\n",
        "a/src/deep/.keep": "", "a/.claude/worktrees/feature/.keep": "", "b/.keep": "", "other/.keep": "",
    })
    projects = claude / "projects"
    rng = random.Random(17)
    expected = Expected()
    a, b, other = str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "other")
    sessions = [
        (a, "s-a1", (SONNET, HAIKU), "2026-01-05"),
        (a + "/src/deep", "s-a2", (SONNET,), "2026-01-06"),
        (a + "/.claude/worktrees/feature", "s-a3", (HAIKU, SONNET), "2026-01-06"),
        (b, "s-b1", (DEEPSEEK,), "2026-01-05"),
        (b, "s-b2", (UNPRICED,), "2026-01-07"),  # misrouted: deepseek maps no slot to it
        (other, "s-o1", (SONNET,), "2026-01-07"),
    ]
    files = {}
    for cwd, session, models, day in sessions:
        files[session] = project_folder(projects, cwd) / f"{session}.jsonl"
        write_session(files[session], rng, cwd, session, models, day, 12, expected, start_minute=60)
    # A resumed session copies an earlier message into its own file: counted once, where it was first.
    copied = files["s-a1"].read_text().splitlines()[3]
    assert '"type":"assistant"' in copied
    with files["s-a2"].open("a") as f:
        f.write(copied + "\n")
        f.write('{"type":"assistant","message":{"usage":{"input_tokens":5,\n')  # garbled
        f.write(user_line(a, "s-a2", "2026-01-06T10:00:00.000Z", 'a "usage" in text, and ' + SECRET) + "\n")
    # The last line cut short, as a crash leaves it.
    usage = random_usage(rng)
    cut = assistant_line(b, "s-b1", "2026-01-05T23:00:00.000Z", DEEPSEEK, usage, "m-cut", "r-cut")
    with files["s-b1"].open("a") as f:
        f.write(cut[: len(cut) // 2])
    return tmp_path, expected, files


def _usage(run, root: Path, *argv: str) -> dict:
    result = run("-C", str(root / "cfg"), "usage", "--json", *argv)
    assert result.code == 0, result.err
    assert result.err == ""
    return json.loads(result.out)


def _tokens(row: dict) -> list[int]:
    t = row["tokens"]
    return [t["input"], t["output"], t["cache_write_5m"], t["cache_write_1h"], t["cache_read"]]


def _in(folder: Path):
    return lambda cwd, model, day: cwd == str(folder) or cwd.startswith(str(folder) + "/")


def test_tokens_per_worktree_are_exact_with_duplicates_garbled_and_truncated_lines_skipped(world, run):
    root, expected, _ = world
    doc = _usage(run, root)
    rows = {r["worktree"]: r for r in doc["rows"]}
    assert list(rows) == ["(not declared)", "a", "b"]
    assert _tokens(rows["a"]) == expected.total(_in(root / "a"))  # subfolders and .claude/worktrees/ included
    assert _tokens(rows["b"]) == expected.total(_in(root / "b"))
    assert _tokens(rows["(not declared)"]) == expected.total(_in(root / "other"))
    assert _tokens(doc["total"]) == expected.total()
    assert doc["total"]["messages"] == expected.messages == 72
    assert [rows[w]["sessions"] for w in ("a", "b", "(not declared)")] == [3, 2, 1]
    assert doc["skipped"] == {"garbled": 1, "truncated": 1, "unreadable": 0, "unknown": 0}
    assert doc["transcripts"]["files"] == 6


def test_cost_uses_the_catalogs_cache_prices_and_an_unpriced_model_is_never_zero(world, run):
    root, expected, _ = world
    doc = _usage(run, root, "--by", "model")
    rows = {r["model"]: r for r in doc["rows"]}
    # Per 1M: input, output, 5-minute cache write, 1-hour cache write, cache read (catalog.yaml).
    prices = {SONNET: ("3", "15", "3.75", "6", "0.30"), HAIKU: ("1", "5", "1.25", "2", "0.10"), DEEPSEEK: ("0.24", "0.38", "0.24", "0.24", "0.24")}
    for model, per_million in prices.items():
        tokens = expected.total(lambda cwd, m, day: m == model)
        assert _tokens(rows[model]) == tokens
        want = sum(Decimal(n) * Decimal(p) for n, p in zip(tokens, per_million)) / 1_000_000
        assert rows[model]["cost_usd"] == float(want)
        assert rows[model]["complete"] is True
    assert rows[UNPRICED]["cost_usd"] is None
    assert rows[UNPRICED]["unpriced"] == [UNPRICED]
    assert doc["total"]["complete"] is False
    text = run("-C", str(root / "cfg"), "usage", "--by", "model").out
    assert [line.split()[0] + " " + line.split()[-1] for line in text.splitlines()[1:6]] == [
        f"{HAIKU} {_money(rows[HAIKU])}", f"{SONNET} {_money(rows[SONNET])}", f"{DEEPSEEK} {_money(rows[DEEPSEEK])}",
        f"{UNPRICED} ?", f"total {_money(doc['total'])}+?",
    ]
    assert text.splitlines()[7] == (
        f"no price in the catalog for {UNPRICED}: their tokens are left out of COST (add them to catalog.yaml; see 'llmconf models')"
    )


def _money(row: dict) -> str:
    from llmconf.catalog.cost import money

    return money(Decimal(repr(row["cost_usd"])))


def test_by_day_and_session_and_the_date_range(world, run):
    root, expected, _ = world
    days = {r["day"]: r for r in _usage(run, root, "--by", "day")["rows"]}
    assert list(days) == ["2026-01-05", "2026-01-06", "2026-01-07"]
    for day, row in days.items():
        assert _tokens(row) == expected.total(lambda cwd, model, d: d == day)
    ranged = _usage(run, root, "--since", "2026-01-06", "--until", "20260106")
    assert _tokens(ranged["total"]) == expected.total(lambda cwd, model, d: d == "2026-01-06")
    sessions = {r["session"]: r for r in _usage(run, root, "--by", "session", "b")["rows"]}
    assert list(sessions) == ["s-b1", "s-b2"]
    assert sessions["s-b2"]["models"] == [UNPRICED]
    assert sessions["s-b2"]["worktrees"] == ["b"]
    assert _tokens(sessions["s-b1"]) == expected.total(lambda cwd, model, d: model == DEEPSEEK)


def test_a_session_on_a_model_its_profile_does_not_map_is_listed(world, run):
    root, _, _ = world
    assert _usage(run, root)["misrouted"] == [{"worktree": "b", "models": [UNPRICED], "sessions": 1}]
    text = run("-C", str(root / "cfg"), "usage").out
    assert f"b ran 1 session on {UNPRICED}, which its profile does not map" in text.splitlines()
    assert "skipped 1 garbled line, 1 truncated line in the transcripts" in text.splitlines()


def test_what_if_reprices_each_slot_at_the_other_profiles_model(world, run):
    root, expected, _ = world
    doc = _usage(run, root, "a", "--what-if", "deepseek", "--what-if", "anthropic")
    (row,) = doc["rows"]
    tokens = expected.total(_in(root / "a"))
    # a runs anthropic: sonnet and haiku are Claude Code's own; deepseek puts DeepSeek V3.2 in both
    # slots, whose catalog entry has no cache price, so every input kind costs its input price.
    deepseek = (Decimal(sum(tokens) - tokens[1]) * Decimal("0.24") + Decimal(tokens[1]) * Decimal("0.38")) / 1_000_000
    assert row["what_if"]["deepseek"] == {"cost_usd": float(deepseek), "complete": True, "unpriced": []}
    assert row["what_if"]["anthropic"]["cost_usd"] == row["cost_usd"]  # what a already runs
    # b's sessions on the unpriced model map to no slot: the what-if names them, never prices them $0.
    b_row = _usage(run, root, "b", "--what-if", "anthropic")["rows"][0]
    assert b_row["what_if"]["anthropic"]["unpriced"] == [UNPRICED]
    assert b_row["what_if"]["anthropic"]["complete"] is False


def test_a_rerun_reads_only_what_is_new_and_the_index_holds_no_secret(world, run, monkeypatch):
    root, expected, files = world
    before = _usage(run, root)
    roots = transcripts.roots()
    # Nothing new: only the truncated last line of s-b1 is read again (it may still be being written).
    tail = files["s-b1"].stat().st_size - _indexed_offset(files["s-b1"])
    assert tail > 0
    assert transcripts.scan(roots).read_bytes == tail
    rng = random.Random(5)
    size = files["s-a1"].stat().st_size
    write_session(files["s-a1"], rng, str(root / "a"), "s-a1", (SONNET,), "2026-01-08", 3, expected, start_minute=600)
    added = files["s-a1"].stat().st_size - size
    assert transcripts.scan(roots).read_bytes == added + tail
    after = _usage(run, root)
    assert _tokens(after["total"]) == expected.total()
    assert after["total"]["messages"] == before["total"]["messages"] + 3
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "llmconf"
    index = [p for p in cache.iterdir() if p.name.startswith("usage-")]
    assert len(index) == 1
    text = index[0].read_text()
    assert "sk-or-v1" not in text and "usage\\\" in text" not in text and "msg_s-a1_" not in text
    assert oct(index[0].stat().st_mode & 0o777) == "0o600"


def _indexed_offset(path: Path) -> int:
    from llmconf import caches

    (index,) = [p for p in caches.cache_dir().iterdir() if p.name.startswith("usage-")]
    return json.loads(index.read_text())["files"][str(path)]["offset"]


def test_a_file_rewritten_shorter_is_read_again_from_the_start(world, run):
    root, expected, files = world
    _usage(run, root)
    files["s-o1"].write_text("")  # cleared
    doc = _usage(run, root)
    assert "(not declared)" not in [r["worktree"] for r in doc["rows"]]
    assert _tokens(doc["total"]) == [a - b for a, b in zip(expected.total(), expected.total(_in(root / "other")))]


def test_a_damaged_index_is_a_miss(world, run):
    root, expected, _ = world
    _usage(run, root)
    from llmconf import caches

    (index,) = [p for p in caches.cache_dir().iterdir() if p.name.startswith("usage-")]
    doc = json.loads(index.read_text())
    for entry in doc["files"].values():
        entry["rows"] = [[1]]  # the wrong shape
    index.write_text(json.dumps(doc))
    assert _tokens(_usage(run, root)["total"]) == expected.total()
    index.write_text("{not json")
    assert _tokens(_usage(run, root)["total"]) == expected.total()


def test_a_fifo_or_folder_named_like_a_transcript_is_passed_over(world, run):
    root, expected, files = world
    folder = files["s-a1"].parent
    os.mkfifo(folder / "pipe.jsonl")
    (folder / "dir.jsonl").mkdir()
    assert _tokens(_usage(run, root)["total"]) == expected.total()


def test_unknown_token_field_and_wrong_shapes_are_counted_and_skipped(tmp_path, run, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "c"))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n", "a/.keep": ""})
    cwd = str(tmp_path / "a")
    usage = {"input": 10, "output": 20, "cache_write_5m": 0, "cache_write_1h": 0, "cache_read": 0}
    good = json.loads(assistant_line(cwd, "s", "2026-02-01T00:00:00.000Z", SONNET, usage, "m1", "r1"))
    unknown = json.loads(json.dumps(good))
    unknown["message"]["id"] = "m2"
    unknown["message"]["usage"]["audio_input_tokens"] = 99
    wrong = json.loads(json.dumps(good))
    wrong["message"]["id"] = "m3"
    wrong["message"]["usage"]["input_tokens"] = "10"
    no_date = json.loads(json.dumps(good))
    no_date["message"]["id"] = "m4"
    no_date["timestamp"] = "yesterday"
    lines = [json.dumps(d, separators=(",", ":")) for d in (good, unknown, wrong, no_date)]
    write_tree(tmp_path, {"c/projects/-a/s.jsonl": "\n".join(lines) + "\n[1,2]\n\"usage\"\n"})
    doc = _usage(run, tmp_path)
    assert doc["skipped"] == {"garbled": 1, "truncated": 0, "unreadable": 2, "unknown": 1}
    assert _tokens(doc["total"]) == [20, 40, 0, 0, 0]  # good and unknown, without its audio tokens
    text = run("-C", str(tmp_path / "cfg"), "usage").out.splitlines()
    assert text[-2:] == [
        "skipped 1 garbled line, 2 unreadable lines in the transcripts",
        "1 message carried a token count llmconf does not know (left out)",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-13-01"], "llmconf: --since: '2026-13-01' is not a date (write it as YYYY-MM-DD, e.g. 2026-01-31)\n"),
        (["--until", "last week"], "llmconf: --until: 'last week' is not a date (write it as YYYY-MM-DD, e.g. 2026-01-31)\n"),
        (["--since", "2026-02-02", "--until", "2026-02-01"], "llmconf: --since 2026-02-02 is after --until 2026-02-01 (swap them)\n"),
        (["--what-if", "nosuch"], "llmconf: 'nosuch' is not a profile (see the profiles/ folders)\n"),
        (["zz"], "llmconf: 'zz' is not a worktree declared in worktrees.yaml (see 'llmconf status' for the declared worktrees)\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path, run, monkeypatch, argv, message):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "c"))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n", "a/.keep": ""})
    result = run("-C", str(tmp_path / "cfg"), "usage", *argv)
    assert (result.code, result.out, result.err) == (1, "", message)


def test_no_transcripts_at_all(tmp_path, run, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "nothing"))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n", "a/.keep": ""})
    result = run("-C", str(tmp_path / "cfg"), "usage")
    assert (result.code, result.err) == (0, "")
    assert result.out == f"No Claude Code usage found in {tmp_path / 'nothing' / 'projects'} for the worktrees and days asked.\n"


def test_plain_totals_import_no_heavy_library(world):
    import subprocess
    import sys

    root, _, _ = world
    code = "import sys; from llmconf import cli; cli.main(['-C', sys.argv[1], 'usage', '--json']); " \
           "print(sorted(m for m in ('pydantic', 'jinja2', 'ruamel.yaml') if m in sys.modules))"
    # The first run fills the caches (config, catalog, the transcripts' index), as any run does.
    for want in (["pydantic", "ruamel.yaml"], []):
        out = subprocess.run([sys.executable, "-c", code, str(root / "cfg")], capture_output=True, text=True, env=os.environ, check=True)
        assert out.stdout.splitlines()[-1] == str(want)


def test_days_are_local_dates_also_where_the_offset_is_not_whole_hours(tmp_path, run, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30
    time.tzset()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "c"))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../a: anthropic\n", "a/.keep": ""})
    cwd = str(tmp_path / "a")
    usage = {"input": 1, "output": 1, "cache_write_5m": 0, "cache_write_1h": 0, "cache_read": 0}
    stamps = ["2026-01-05T18:29:00.000Z", "2026-01-05T18:31:00.000Z", "2026-01-05T18:45:00.000Z", "2026-01-05T10:00:00+00:00"]
    lines = [assistant_line(cwd, "s", ts, SONNET, usage, f"m{i}", f"r{i}") for i, ts in enumerate(stamps)]
    write_tree(tmp_path, {"c/projects/-a/s.jsonl": "\n".join(lines) + "\n"})
    days = {r["day"]: r["messages"] for r in _usage(run, tmp_path, "--by", "day")["rows"]}
    assert days == {"2026-01-05": 2, "2026-01-06": 2}  # 23:59 and 15:30 local; 00:01 and 00:15 the next day


def test_a_worktree_declared_through_a_symlink_gets_its_sessions(tmp_path, run, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "c"))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../link: anthropic\n", "real/.keep": ""})
    (tmp_path / "link").symlink_to(tmp_path / "real")
    usage = {"input": 3, "output": 4, "cache_write_5m": 0, "cache_write_1h": 0, "cache_read": 0}
    line = assistant_line(str(tmp_path / "real" / "sub"), "s", "2026-01-05T10:00:00.000Z", SONNET, usage, "m", "r")
    write_tree(tmp_path, {"c/projects/-real/s.jsonl": line + "\n"})  # Claude Code records the folder symlinks resolved
    (row,) = _usage(run, tmp_path)["rows"]
    assert (row["worktree"], _tokens(row)) == ("link", [3, 4, 0, 0, 0])


def test_outside_any_config_every_session_is_undeclared(tmp_path, run, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("LLMCONF_CONFIG", raising=False)
    usage = {"input": 3, "output": 4, "cache_write_5m": 5, "cache_write_1h": 6, "cache_read": 7}
    line = assistant_line(str(tmp_path / "x"), "s", "2026-01-05T10:00:00.000Z", SONNET, usage, "m", "r")
    write_tree(tmp_path, {"c/projects/-x/s.jsonl": line + "\n", "here/.keep": ""})
    result = run("usage", "--json", cwd=tmp_path / "here")
    assert result.code == 0, result.err
    (row,) = json.loads(result.out)["rows"]
    assert (row["worktree"], _tokens(row)) == ("(not declared)", [3, 4, 5, 6, 7])
    result = run("usage", "a", cwd=tmp_path / "here")  # a worktree name needs a config
    assert (result.code, result.err) == (
        1, f"llmconf: no worktrees.yaml in {tmp_path / 'here'} or any folder above it (run 'llmconf init' to start one, or pass -C DIR)\n"
    )


def test_a_model_a_slot_held_before_a_switch_maps_back_to_that_slot(tmp_path, run, monkeypatch):
    """c ran devstral, then switched to deepseek with `use --apply`. Its devstral sessions are not
    misrouted, and a what-if re-prices them as the slot that sent them then (sonnet, haiku...)."""
    monkeypatch.setenv("LLMCONF_SECRET_OPENROUTER", SECRET)
    claude = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    write_tree(tmp_path, {"cfg/worktrees.yaml": "worktrees:\n  ../c: devstral\n", "c/.keep": ""})
    assert run("-C", str(tmp_path / "cfg"), "apply", "--yes").code == 0
    assert run("-C", str(tmp_path / "cfg"), "use", "deepseek", "c", "--apply", "--yes").code == 0
    devstral = "mistralai/devstral-2512"
    expected = Expected()
    rng = random.Random(3)
    folder = project_folder(claude / "projects", str(tmp_path / "c"))
    write_session(folder / "s-1.jsonl", rng, str(tmp_path / "c"), "s-1", (devstral,), "2026-01-05", 6, expected, start_minute=60)
    write_session(folder / "s-2.jsonl", rng, str(tmp_path / "c"), "s-2", (DEEPSEEK,), "2026-01-06", 6, expected, start_minute=60)
    doc = _usage(run, tmp_path, "--what-if", "openrouter")
    assert doc["misrouted"] == []
    (row,) = doc["rows"]
    assert row["what_if"]["openrouter"]["complete"] is True  # every token re-priced through a slot
    # And a model no slot of c ever held still is misrouted.
    write_session(folder / "s-3.jsonl", rng, str(tmp_path / "c"), "s-3", (UNPRICED,), "2026-01-07", 2, expected, start_minute=60)
    assert _usage(run, tmp_path)["misrouted"] == [{"worktree": "c", "models": [UNPRICED], "sessions": 1}]
