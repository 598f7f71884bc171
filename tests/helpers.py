"""What several test files need: proof that nothing was written, real git, a local HTTP server.

Fixtures live in conftest.py; these are plain functions and context managers, imported as
`from tests.helpers import ...` (conftest registers this module for pytest's assert rewriting).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any, Union

# --- "nothing was written" ------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One file, folder or link as the disk has it. A rewrite with the same bytes still shows:
    an atomic write gives a new inode, an in-place one a new mtime."""

    kind: str  # "file", "dir" or "link"
    inode: int
    mode: int
    mtime_ns: int | None = None  # None for a folder: its mtime follows its listing, which is compared anyway
    data: bytes | str | None = None  # a file's bytes, a link's target


Tree = dict[str, Node]


def snapshot_tree(root: Path, skip: Callable[[PurePosixPath], bool] | None = None) -> Tree:
    """Every file, folder and link under root (root itself if it is a file; nothing if it is
    missing), keyed by its path relative to root. Links are not followed. The paths for which
    `skip` (given the relative path) is true are left out; what is in a skipped folder is not."""
    shot: Tree = {}

    def visit(path: Path, rel: PurePosixPath) -> None:
        try:
            st = path.lstat()
        except FileNotFoundError:
            return
        kept = skip is None or not skip(rel)
        if stat.S_ISLNK(st.st_mode):
            if kept:
                shot[str(rel)] = Node("link", st.st_ino, st.st_mode, st.st_mtime_ns, os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            if kept:
                shot[str(rel)] = Node("dir", st.st_ino, st.st_mode)
            for child in sorted(os.listdir(path)):
                visit(path / child, rel / child)
        elif kept:
            shot[str(rel)] = Node("file", st.st_ino, st.st_mode, st.st_mtime_ns, path.read_bytes())

    visit(root, PurePosixPath("."))
    return shot


def changed_paths(before: Tree, after: Tree) -> set[str]:
    """The relative paths created, deleted or written between two snapshots."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def assert_unchanged(before: Tree, root: Path, skip: Callable[[PurePosixPath], bool] | None = None) -> None:
    """Fail, naming what changed, unless root is exactly as `before` (taken with the same `skip`)."""
    after = snapshot_tree(root, skip)
    assert changed_paths(before, after) == set(), f"written under {root}"


# --- git -----------------------------------------------------------------------------

#: A git identity and no system config (HOME is the isolated one already).
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `cwd` with GIT_ENV; with `check`, fail the test if git fails."""
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=check, env={**os.environ, **GIT_ENV})


def make_repo(
    root: Path,
    name: str = "repo",
    linked: tuple[str, ...] = (),
    files: Mapping[str, str] | None = None,
    ignore: bool = True,
) -> Path:
    """root/name: a repo on branch main with one commit (of `files`, else empty) and a linked
    worktree beside it, on a branch of its own, for each name in `linked`. With `ignore`, git
    ignores every .claude/settings.local.json in it, as a repo set up for Claude Code does (llmconf
    writes no key into a file git would commit)."""
    git(root, "init", "-q", "-b", "main", name)
    repo = root / name
    for rel, text in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    if files:
        git(repo, "add", *files)
    git(repo, "commit", "-q", *([] if files else ["--allow-empty"]), "-m", "init")
    if ignore:  # after the commit: `files` may track one, which ignore rules never untrack
        ignore_settings(repo)
    for wt in linked:
        git(repo, "worktree", "add", "-q", "-b", wt.replace("/", "-"), f"../{wt}")
    return repo


def ignore_settings(repo: Path) -> None:
    """Make git ignore every .claude/settings.local.json in `repo`, for this clone only."""
    exclude = repo / ".git/info/exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a") as f:
        f.write("**/.claude/settings.local.json\n")


# --- a local HTTP server -------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as it reached the server."""

    method: str
    path: str
    headers: Message  # case-insensitive .get()
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # Content-Length is added

    @classmethod
    def json(cls, doc: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(doc).encode(), {"Content-Type": "application/json"})


Answer = Union[Reply, Callable[[Received], Reply]]


@dataclass
class LocalServer:
    """A server on 127.0.0.1 that records every request and answers each with `answer` (a
    Reply, or a function of the request); a test may change `answer` while it runs."""

    answer: Answer
    port: int = 0
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serve(answer: Answer) -> Iterator[LocalServer]:
    """Serve on a free port of 127.0.0.1 until the block ends, then stop: the port refuses again."""
    local = LocalServer(answer)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do; every reply has a Content-Length

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received = Received(self.command, self.path, self.headers, self.rfile.read(length) if length else b"")
            local.requests.append(received)
            reply = local.answer(received) if callable(local.answer) else local.answer
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):  # a client that stopped waiting (a timeout test)
                self.close_connection = True

        do_GET = do_HEAD = do_POST = _handle  # noqa: N815 (http.server's names); others get its 501

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    local.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield local
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def files_holding(root: Path, text: str) -> list[str]:
    """The files under root that hold `text`, as it is or escaped as in a JSON string (a
    key must be in none of a worktree's files)."""
    import json

    forms = {text, json.dumps(text)[1:-1]}
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and any(f in p.read_text(errors="replace") for f in forms)
    )


_HEAVY_IMPORTS = """
import sys
from llmconf import cli
code = cli.main(sys.argv[1:])
print(sorted(m for m in ('pydantic', 'ruamel.yaml', 'jinja2') if m in sys.modules), code, file=sys.stderr)
"""


def heavy_imports(root: Path, *argv: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    """Run `llmconf -C root ARGV...` in a fresh Python: (which of pydantic, ruamel.yaml and
    jinja2 it imported and its exit code, as one line; the finished process)."""
    out = subprocess.run([sys.executable, "-c", _HEAVY_IMPORTS, "-C", str(root), *argv], capture_output=True, text=True, env=os.environ)
    return out.stderr.strip().splitlines()[-1], out
