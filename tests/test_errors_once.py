"""The same error in several worktrees is printed once, naming them (issue 13, trap 12)."""

from __future__ import annotations

from tests.conftest import write_tree

PROFILE = "base_url: http://127.0.0.1:9/api\nauth_token: \"{{ secret('gw') }}\"\n"


def test_an_error_shared_by_worktrees_is_printed_once_with_their_names(tmp_path, run):
    names = ["a", "b", "c", "d", "e", "f", "g"]
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "worktrees:\n" + "".join(f"  {n}: p\n" for n in names) + "  ok: anthropic\n",
            "profiles/p.yaml": PROFILE,
            **{f"{n}/.keep": "" for n in [*names, "ok"]},
        },
    )
    missing = (
        "profiles/p.yaml:2: profile 'p' needs secret 'gw', which is not set (in 7 worktrees: a, b, c, d, e and 2 more) "
        "(run 'llmconf secret set gw', or export LLMCONF_SECRET_GW)"
    )
    for argv in (("plan",), ("status",), ("apply", "--yes")):
        result = run(*argv)
        assert result.code == 1
        assert result.err.splitlines()[0] == f"llmconf: {missing}", argv


def test_an_error_of_one_worktree_names_none(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": PROFILE, "a/.keep": ""})
    result = run("plan")
    assert result.err == (
        "llmconf: profiles/p.yaml:2: profile 'p' needs secret 'gw', which is not set "
        "(run 'llmconf secret set gw', or export LLMCONF_SECRET_GW)\n"
    )
