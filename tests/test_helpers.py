"""The shared test helpers catch what they are there to catch (else a test using them cannot fail)."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest

from tests.conftest import write_tree
from tests.helpers import Reply, assert_unchanged, changed_paths, git, make_repo, serve, snapshot_tree


@pytest.fixture
def tree(tmp_path):
    write_tree(tmp_path, {"a/f.json": "{}\n", "b/.keep": ""})
    (tmp_path / "link").symlink_to("a/f.json")
    return tmp_path


def _same_bytes_atomically(path):
    temp = path.with_name(path.name + ".tmp")
    temp.write_bytes(path.read_bytes())
    os.replace(temp, path)


def _same_bytes_in_place(path):
    st = path.stat()
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a coarse clock could hide it


@pytest.mark.parametrize(
    ("write", "changed"),
    [
        (_same_bytes_atomically, {"a/f.json"}),
        (_same_bytes_in_place, {"a/f.json"}),
        (lambda p: p.chmod(0o600), {"a/f.json"}),
        (lambda p: (p.parent / "new").mkdir(), {"a/new"}),
        (lambda p: p.unlink(), {"a/f.json"}),
        (lambda p: (p.parent.parent / "link").unlink(), {"link"}),
        (lambda p: (p.parent.parent / "b").chmod(0o700), {"b"}),
    ],
)
def test_a_snapshot_sees_every_kind_of_write(tree, write, changed):
    before = snapshot_tree(tree)
    assert_unchanged(before, tree)
    write(tree / "a/f.json")
    assert changed_paths(before, snapshot_tree(tree)) == changed
    with pytest.raises(AssertionError):
        assert_unchanged(before, tree)


def test_a_snapshot_of_one_file_and_of_nothing(tree):
    assert list(snapshot_tree(tree / "a/f.json")) == ["."]
    assert snapshot_tree(tree / "missing") == {}
    assert snapshot_tree(tree / "link")["."].data == "a/f.json"  # the link, not what it points at


def test_skipped_paths_are_left_out_but_not_what_is_under_them(tree):
    skip = lambda rel: rel.parts[:1] == ("a",)  # noqa: E731
    before = snapshot_tree(tree, skip)
    assert sorted(before) == [".", "b", "b/.keep", "link"]
    (tree / "a/f.json").write_text("changed\n")
    assert_unchanged(before, tree, skip)
    shallow = snapshot_tree(tree, lambda rel: str(rel) == "a")
    assert sorted(shallow) == [".", "a/f.json", "b", "b/.keep", "link"]


def test_make_repo_makes_linked_worktrees_on_their_own_branches(tmp_path):
    repo = make_repo(tmp_path, "main", linked=("x/app",), files={".gitignore": "*.local\n"})
    listed = git(repo, "worktree", "list", "--porcelain").stdout.splitlines()
    assert [line for line in listed if line.startswith(("worktree ", "branch "))] == [
        f"worktree {repo}",
        "branch refs/heads/main",
        f"worktree {tmp_path / 'x/app'}",
        "branch refs/heads/x-app",
    ]
    assert git(repo, "ls-files").stdout == ".gitignore\n"
    assert git(repo, "no-such-command", check=False).returncode == 1


def test_serve_answers_records_and_stops(tmp_path):
    with serve(Reply.json({"ok": True})) as server:
        request = urllib.request.Request(f"{server.url}/x?y=1", data=b"hi", headers={"Authorization": "Bearer k"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert (response.status, response.headers["Content-Type"], response.read()) == (200, "application/json", b'{"ok": true}')
        server.answer = lambda r: Reply(418, r.path.encode())
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/teapot", timeout=5)
        assert (refused.value.code, refused.value.read()) == (418, b"/teapot")
    assert [(r.method, r.path, r.headers.get("authorization"), r.body) for r in server.requests] == [
        ("POST", "/x?y=1", "Bearer k", b"hi"),
        ("GET", "/teapot", None, b""),
    ]
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        urllib.request.urlopen(server.url, timeout=5)
