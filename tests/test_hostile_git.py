"""Hostile input, git part (issue 18): the tracked-file guard cannot be walked around, and a
settings file two worktrees share through a symlink is one target."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree
from tests.helpers import git, ignore_settings, make_repo

SETTINGS = ".claude/settings.local.json"
NOTHING = "llmconf: nothing written: fix the errors above, or name the other worktrees"
ALLOW = "or set allow_tracked_secret: true on '{key}' in worktrees.yaml"


def tracked_line(shown: str, key: str) -> str:
    """The refusal for a file git tracks, named as the worktree declares it."""
    return (
        f"llmconf: {shown}: git tracks this file; llmconf will not write a secret into it "
        f"(git-ignore {SETTINGS} and 'git rm --cached' it, {ALLOW.format(key=key)})"
    )


def linked_line(shown: str, real: str, key: str) -> str:
    """The refusal for a settings file that is, through a symlink, a file git tracks elsewhere."""
    return (
        f"llmconf: {shown}: git tracks the file this links to, {real}; llmconf will not write a secret into it "
        f"(git-ignore and 'git rm --cached' {real}, {ALLOW.format(key=key)})"
    )


def unknown_line(shown: str, why: str, key: str, what: str = "install git or put it on PATH") -> str:
    """The refusal when git cannot say whether it tracks the file."""
    return (
        f"llmconf: {shown}: cannot tell whether git tracks this file ({why}); llmconf will not write a secret into it "
        f"({what}, {ALLOW.format(key=key)})"
    )


def snapshot(path: Path) -> tuple[bytes, int, int, int]:
    st = os.stat(path)
    return path.read_bytes(), st.st_ino, st.st_mtime_ns, st.st_mode


def refuses(run, files: list[Path], *lines: str) -> None:
    """apply exits 1 with exactly these lines, and the files are as they were."""
    before = [snapshot(f) for f in files]
    result = run("apply", "--yes")
    assert (result.code, result.err.splitlines()) == (1, [*lines, NOTHING]), result.err
    assert [snapshot(f) for f in files] == before
    assert SECRET not in result.out + result.err


@pytest.fixture
def secret(store_secret) -> None:
    store_secret()


def repo_tracking(root: Path, name: str, rel: str = SETTINGS, text: str = "{}\n") -> Path:
    """root/name: a git repository whose index holds `rel`."""
    write_tree(root, {f"{name}/{rel}": text})
    git(root / name, "init", "-q")
    git(root / name, "--literal-pathspecs", "add", "--", rel)
    return root / name


def declare(root: Path, *keys: str) -> None:
    (root / "worktrees.yaml").write_text("worktrees:\n" + "".join(f"  {json.dumps(k)}: openrouter\n" for k in keys))


# --- git not on PATH ----------------------------------------------------------------


@pytest.fixture
def no_git(tmp_path, monkeypatch):
    """PATH holds no git (python runs in-process, so only subprocess lookups see it)."""
    empty = tmp_path / "bin-without-git"
    empty.mkdir()
    return lambda: monkeypatch.setenv("PATH", str(empty))


@pytest.mark.parametrize("track", [True, False], ids=["tracked", "untracked"])
def test_no_git_refuses_a_secret_below_a_repository(tmp_path, run, secret, no_git, track):
    repo = repo_tracking(tmp_path, "repo")
    if not track:
        git(repo, "rm", "-q", "--cached", SETTINGS)
    declare(tmp_path, "repo")
    no_git()
    refuses(run, [repo / SETTINGS], unknown_line(f"repo/{SETTINGS}", "git is not installed", "repo"))


def test_no_git_refuses_in_a_subfolder_and_a_linked_worktree(tmp_path, run, secret, no_git):
    repo = make_repo(tmp_path, linked=("wt",), files={f"sub/{SETTINGS}": "{}\n"})
    declare(tmp_path, "repo/sub", "wt/sub")
    no_git()
    before = [snapshot(repo / "sub" / SETTINGS), snapshot(tmp_path / "wt/sub" / SETTINGS)]
    result = run("apply", "--yes")
    assert (result.code, result.err.splitlines()) == (
        1,
        [
            unknown_line(f"repo/sub/{SETTINGS}", "git is not installed", "repo/sub"),
            unknown_line(f"wt/sub/{SETTINGS}", "git is not installed", "wt/sub"),
            NOTHING,
        ],
    )
    assert [snapshot(repo / "sub" / SETTINGS), snapshot(tmp_path / "wt/sub" / SETTINGS)] == before


def test_no_git_outside_any_repository_writes_as_before(tmp_path, run, secret, no_git):
    write_tree(tmp_path, {"plain/.keep": ""})
    declare(tmp_path, "plain")
    no_git()
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    settings = tmp_path / "plain" / SETTINGS
    assert json.loads(settings.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600


def test_no_git_still_allows_what_the_entry_allows(tmp_path, run, secret, no_git):
    repo = repo_tracking(tmp_path, "repo")
    (tmp_path / "worktrees.yaml").write_text("worktrees:\n  repo:\n    profile: openrouter\n    allow_tracked_secret: true\n")
    no_git()
    assert run("apply", "--yes").code == 0
    assert json.loads((repo / SETTINGS).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET


# --- git's environment ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("GIT_DIR", "{other}/.git"),
        ("GIT_INDEX_FILE", "{tmp}/empty-index"),
        ("GIT_WORK_TREE", "{other}"),
        ("GIT_COMMON_DIR", "{other}/.git"),
        ("GIT_OBJECT_DIRECTORY", "{tmp}/no-objects"),
        ("GIT_GLOB_PATHSPECS", "1"),
        ("GIT_ICASE_PATHSPECS", "1"),
        ("GIT_NOGLOB_PATHSPECS", "1"),
        ("GIT_LITERAL_PATHSPECS", "0"),
        ("GIT_CEILING_DIRECTORIES", "{tmp}"),
        ("GIT_CONFIG_PARAMETERS", "'core.worktree'='{other}'"),
    ],
)
def test_git_environment_does_not_turn_the_guard_off(tmp_path, run, secret, monkeypatch, name, value):
    repo = repo_tracking(tmp_path, "repo")
    git(tmp_path, "init", "-q", "other")
    declare(tmp_path, "repo")
    monkeypatch.setenv(name, value.format(other=tmp_path / "other", tmp=tmp_path))
    refuses(run, [repo / SETTINGS], tracked_line(f"repo/{SETTINGS}", "repo"))


def test_git_config_count_does_not_turn_the_guard_off(tmp_path, run, secret, monkeypatch):
    repo = repo_tracking(tmp_path, "repo")
    declare(tmp_path, "repo")
    for k, v in {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.worktree", "GIT_CONFIG_VALUE_0": "/"}.items():
        monkeypatch.setenv(k, v)
    refuses(run, [repo / SETTINGS], tracked_line(f"repo/{SETTINGS}", "repo"))


# --- symlinks into another repository -------------------------------------------------


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
@pytest.mark.parametrize("home", ["plain", "repo"], ids=["outside-a-repo", "in-its-own-repo"])
@pytest.mark.parametrize("name", ["settings.local.json", "notes.json"])
def test_a_settings_file_linked_to_a_tracked_file_elsewhere_is_refused(tmp_path, run, secret, relative, home, name):
    other = repo_tracking(tmp_path, "other", f".claude/{name}")
    write_tree(tmp_path, {"wt/.claude/.keep": ""})
    if home == "repo":
        git(tmp_path / "wt", "init", "-q")  # where the link itself is not tracked
    link = tmp_path / "wt" / SETTINGS
    link.symlink_to(f"../../other/.claude/{name}" if relative else other / ".claude" / name)
    declare(tmp_path, "wt")
    refuses(run, [other / ".claude" / name], linked_line(f"wt/{SETTINGS}", f"other/.claude/{name}", "wt"))
    assert link.is_symlink()


@pytest.mark.parametrize("home", ["plain", "repo"], ids=["outside-a-repo", "in-its-own-repo"])
def test_a_claude_folder_linked_into_another_repository_is_refused(tmp_path, run, secret, home):
    other = repo_tracking(tmp_path, "other")
    (tmp_path / "wt").mkdir()
    if home == "repo":
        git(tmp_path / "wt", "init", "-q")
    (tmp_path / "wt/.claude").symlink_to("../other/.claude")
    declare(tmp_path, "wt")
    refuses(run, [other / SETTINGS], linked_line(f"wt/{SETTINGS}", f"other/{SETTINGS}", "wt"))


@pytest.mark.parametrize("target", ["repo/sub", "repo", "repo/sub/deeper"])
def test_a_worktree_declared_through_a_symlink_is_asked_of_its_real_repository(tmp_path, run, secret, target):
    rel = os.path.relpath(target, "repo")
    repo = repo_tracking(tmp_path, "repo", f"{rel}/{SETTINGS}".removeprefix("./"))
    (tmp_path / "link").symlink_to(tmp_path / target)
    declare(tmp_path, "link")
    real = tmp_path / target / SETTINGS
    refuses(run, [real], tracked_line(f"link/{SETTINGS}", "link"))
    assert repo.is_dir()


def test_a_worktree_below_a_symlinked_folder_is_asked_of_its_real_repository(tmp_path, run, secret):
    """The link is an ancestor of the worktree, not the worktree itself."""
    repo_tracking(tmp_path / "real", "repo", f"sub/{SETTINGS}")
    (tmp_path / "view").symlink_to(tmp_path / "real")
    declare(tmp_path, "view/repo/sub")
    real = tmp_path / "real/repo/sub" / SETTINGS
    refuses(run, [real], tracked_line(f"view/repo/sub/{SETTINGS}", "view/repo/sub"))


# --- names git would read as pathspec magic ---------------------------------------------


@pytest.mark.parametrize("folder", [":x", ":!x", ":(exclude)x", ":(top)x", "*", "[a]", "a?", "x\\y", "-x"])
def test_a_folder_named_like_pathspec_magic_is_that_folder(tmp_path, run, secret, folder):
    repo = repo_tracking(tmp_path, "repo", f"{folder}/{SETTINGS}")
    write_tree(repo, {f"a/{SETTINGS}": "{}\n", f"ab/{SETTINGS}": "{}\n"})  # untracked near-matches
    declare(tmp_path, f"repo/{folder}")
    refuses(run, [repo / folder / SETTINGS], tracked_line(f"repo/{folder}/{SETTINGS}", f"repo/{folder}"))


def test_a_glob_named_folder_does_not_make_its_neighbour_tracked(tmp_path, run, secret):
    """Literal both ways: the untracked `ab` is not refused because `a?` (tracked) matches it."""
    repo = repo_tracking(tmp_path, "repo", f"a?/{SETTINGS}")
    ignore_settings(repo)  # the tracked one stays tracked: ignore rules do not untrack a file
    write_tree(repo, {"ab/.keep": ""})
    declare(tmp_path, "repo/ab")
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    assert json.loads((repo / "ab" / SETTINGS).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET


# --- linked worktrees, submodules, no repository -----------------------------------------


def test_a_tracked_file_in_a_linked_worktree_is_refused(tmp_path, run, secret):
    make_repo(tmp_path, linked=("wt",), files={SETTINGS: "{}\n"})
    declare(tmp_path, "wt")
    refuses(run, [tmp_path / "wt" / SETTINGS], tracked_line(f"wt/{SETTINGS}", "wt"))


@pytest.mark.parametrize("where", ["sub", "sub/inner"])
def test_a_file_tracked_by_a_submodule_is_refused(tmp_path, run, secret, where):
    lib = make_repo(tmp_path, "lib", files={f"inner/{SETTINGS}": "{}\n", SETTINGS: "{}\n"})
    make_repo(tmp_path, "super")
    git(tmp_path / "super", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "sub")
    declare(tmp_path, f"super/{where}")
    file = tmp_path / "super" / where / SETTINGS
    refuses(run, [file], tracked_line(f"super/{where}/{SETTINGS}", f"super/{where}"))


def test_a_folder_that_is_no_repository_is_written(tmp_path, run, secret):
    write_tree(tmp_path, {f"plain/{SETTINGS}": "{}\n"})
    declare(tmp_path, "plain")
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    assert json.loads((tmp_path / "plain" / SETTINGS).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == SECRET


def test_a_repository_git_cannot_read_is_refused(tmp_path, run, secret):
    write_tree(tmp_path, {f"broken/{SETTINGS}": "{}\n", "broken/.git": f"gitdir: {tmp_path}/gone\n"})
    declare(tmp_path, "broken")
    refuses(
        run,
        [tmp_path / "broken" / SETTINGS],
        unknown_line(
            f"broken/{SETTINGS}", f"not a git repository: {tmp_path}/gone", "broken", "check the repository at broken"
        ),
    )


def test_one_git_call_per_repository(tmp_path, run, secret, monkeypatch):
    """The guard stays cheap: worktrees of one repository share a call, links or not."""
    from llmconf import git as gitmod

    repo = make_repo(tmp_path, files={f"{n}/{SETTINGS}": "{}\n" for n in ("a", "b", "c")})
    (tmp_path / "link").symlink_to(repo / "c")
    declare(tmp_path, "repo/a", "repo/b", "link")
    calls: list[tuple[str, ...]] = []
    real_start = gitmod._start
    monkeypatch.setattr(gitmod, "_start", lambda r, args: calls.append(tuple(args)) or real_start(r, args))
    assert run("apply", "--yes").code == 1
    assert [c for c in calls if "ls-files" in c] == [
        ("--literal-pathspecs", "ls-files", "-z", "--", f"a/{SETTINGS}", f"b/{SETTINGS}", f"c/{SETTINGS}")
    ]


# --- a settings file two worktrees share --------------------------------------------------

SHARED = {
    "worktrees.yaml": "worktrees:\n  a: gw\n  b: gw\n",
    "profiles/gw.yaml": "base_url: http://127.0.0.1:9\nmodels: {sonnet: s}\n",
    "a/.claude/.keep": "",
    "b/.claude/.keep": "",
}
SAME = "llmconf: worktrees.yaml:3: worktree 'b' writes the same settings file as 'a' (through a symlink) (list it once)"


@pytest.mark.parametrize(
    "link, to",
    [
        ("b", "../../a/.claude/settings.local.json"),  # relative
        ("b", "{tmp}/a/.claude/settings.local.json"),  # absolute
        ("b", "../../c/hop.json"),  # a chain: b -> c/hop.json -> a
        ("a", "../../b/.claude/settings.local.json"),  # the first one links to the second
    ],
)
@pytest.mark.parametrize("exists", [True, False], ids=["file-there", "file-not-yet"])
def test_a_settings_file_shared_through_a_file_symlink_is_one_target(tmp_path, run, link, to, exists):
    write_tree(tmp_path, SHARED)
    (tmp_path / "c").mkdir()
    (tmp_path / "c/hop.json").symlink_to("../a/.claude/settings.local.json")
    owner = tmp_path / ("b" if link == "a" else "a") / SETTINGS
    if exists:
        owner.write_text('{"env": {"KEEP": "1"}}\n')
    (tmp_path / link / SETTINGS).symlink_to(to.format(tmp=tmp_path))
    before = snapshot(owner) if exists else None
    for argv in (("plan",), ("apply", "--yes")):
        result = run(*argv)
        assert (result.code, result.err.splitlines()[0]) == (1, SAME), result.err
    assert (snapshot(owner) if exists else owner.exists()) == (before if exists else False)


def test_a_settings_file_shared_by_file_and_folder_links_is_one_target(tmp_path, run):
    """b's .claude is a link to a folder whose settings file links to a's."""
    write_tree(tmp_path, {**SHARED, "b/.keep": "", "c/.keep": ""})
    (tmp_path / "b/.claude/.keep").unlink()
    (tmp_path / "b/.claude").rmdir()
    (tmp_path / "b/.claude").symlink_to("../c")
    (tmp_path / "c/settings.local.json").symlink_to("../a/.claude/settings.local.json")
    result = run("plan")
    assert (result.code, result.err) == (1, SAME + "\n")


def test_two_worktrees_with_their_own_files_are_not_shared(tmp_path, run):
    write_tree(tmp_path, {**SHARED, "c/a.json": "{}\n", "c/b.json": "{}\n"})
    (tmp_path / "a" / SETTINGS).symlink_to("../../c/a.json")  # links, but to two files
    (tmp_path / "b" / SETTINGS).symlink_to("../../c/b.json")
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    assert json.loads((tmp_path / "c/a.json").read_text()) == json.loads((tmp_path / "c/b.json").read_text())
    assert (tmp_path / "a" / SETTINGS).is_symlink() and (tmp_path / "b" / SETTINGS).is_symlink()


def test_a_claude_folder_linked_to_a_worktree_folder_is_not_that_worktree_s_file(tmp_path, run):
    """b/.claude -> a: b's file is a/settings.local.json, a's is a/.claude/settings.local.json."""
    write_tree(tmp_path, {**SHARED, "a/.claude/.keep": "", "b/.keep": ""})
    (tmp_path / "a/.claude/.keep").unlink()
    (tmp_path / "a/.claude").rmdir()
    (tmp_path / "b/.claude/.keep").unlink()
    (tmp_path / "b/.claude").rmdir()
    (tmp_path / "b/.claude").symlink_to("../a")
    result = run("apply", "--yes")
    assert (result.code, result.err) == (0, "")
    assert json.loads((tmp_path / "a/settings.local.json").read_text()) == json.loads((tmp_path / "a" / SETTINGS).read_text())


@pytest.mark.parametrize("late", ["link", "no-git"])
def test_a_saved_plan_is_no_way_around_the_guard(tmp_path, run, secret, no_git, late):
    """apply FILE plans again: a link (or a missing git) that came after the plan makes a plan
    the guard refuses, so apply says why and writes nothing."""
    other = repo_tracking(tmp_path, "other")
    write_tree(tmp_path, {f"wt/{SETTINGS}": "{}\n"})  # as the tracked one reads: no input moved
    if late == "no-git":
        git(tmp_path / "wt", "init", "-q")
        ignore_settings(tmp_path / "wt")
    declare(tmp_path, "wt")
    assert run("plan", "--out", "my.plan").code == 0
    if late == "link":
        (tmp_path / "wt" / SETTINGS).unlink()
        (tmp_path / "wt" / SETTINGS).symlink_to("../../other/.claude/settings.local.json")
    else:
        no_git()
    before = [snapshot(other / SETTINGS), snapshot(tmp_path / "wt" / SETTINGS)]
    result = run("apply", "my.plan")
    why = (
        "git tracks the file this links to, other/.claude/settings.local.json; llmconf will not write a secret into it "
        "(git-ignore and 'git rm --cached' other/.claude/settings.local.json, or set allow_tracked_secret: true on 'wt' in worktrees.yaml)"
        if late == "link" else
        "cannot tell whether git tracks this file (git is not installed); llmconf will not write a secret into it "
        "(install git or put it on PATH, or set allow_tracked_secret: true on 'wt' in worktrees.yaml)"
    )
    assert (result.code, result.err.splitlines()) == (
        1, [f"llmconf: wt/.claude/settings.local.json: {why}", "llmconf: nothing written: fix the errors above, or name the other worktrees"],
    )
    assert [snapshot(other / SETTINGS), snapshot(tmp_path / "wt" / SETTINGS)] == before


@pytest.mark.parametrize("command", ["touch {marker}", "touch {marker}; sleep 60"])
def test_a_repository_s_fsmonitor_is_not_run(tmp_path, run, secret, command):
    """git runs core.fsmonitor even for ls-files: looking at a repository runs none of its code."""
    repo = repo_tracking(tmp_path, "repo")
    marker = tmp_path / "fsmonitor-ran"
    git(repo, "config", "core.fsmonitor", command.format(marker=marker))
    declare(tmp_path, "repo")
    refuses(run, [repo / SETTINGS], tracked_line(f"repo/{SETTINGS}", "repo"))
    assert not marker.exists()


HUNG_GIT = """#!/bin/sh
sleep 1000 &
echo $! > "{pid}"
wait
"""


def test_a_git_that_hangs_is_stopped_with_all_it_started(tmp_path, secret):
    """A git that does not answer (here one whose child holds its pipes) is killed with its
    children after the timeout; the file is refused, not written, and nothing is left running."""
    import subprocess
    import sys
    import time

    repo = repo_tracking(tmp_path, "repo")
    declare(tmp_path, "repo")
    fake = tmp_path / "bin/git"
    write_tree(tmp_path, {"bin/git": HUNG_GIT.format(pid=tmp_path / "child.pid")})
    fake.chmod(0o755)
    before = snapshot(repo / SETTINGS)
    code = "from llmconf import cli, git; git._TIMEOUT = 1; raise SystemExit(cli.main(['apply', '--yes']))"
    import llmconf

    src = str(Path(llmconf.__file__).parents[1])  # the llmconf under test, wherever the cwd is
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=20)
    assert (done.returncode, done.stderr.splitlines()) == (
        1,
        [unknown_line(f"repo/{SETTINGS}", "git did not answer within 1 s", "repo", "check the repository at repo"), NOTHING],
    )
    assert snapshot(repo / SETTINGS) == before
    child = int((tmp_path / "child.pid").read_text())
    for _ in range(100):  # SIGKILL is asynchronous: wait (up to 5 s) for it to land
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"git's child {child} still runs")
