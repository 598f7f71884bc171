"""repos: in worktrees.yaml and the post-checkout hook, with real git in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import write_tree
from tests.helpers import GIT_ENV, assert_unchanged, git, make_repo, snapshot_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

SONNET = "ANTHROPIC_DEFAULT_SONNET_MODEL"
PROFILES = {"profiles/p.yaml": "models: {sonnet: p/sonnet}\n", "profiles/q.yaml": "models: {sonnet: q/sonnet}\n"}
NOT_A_REPO_HINT = "point it at a folder of a git repository (any of its worktrees), or list the folders under worktrees:"


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The git that llmconf and its hook run gets the helpers' identity and no system config too."""
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)


def sonnet(folder: Path) -> str | None:
    """The sonnet model a worktree's settings file holds (None: no file)."""
    path = folder / ".claude/settings.local.json"
    return json.loads(path.read_text())["env"][SONNET] if path.exists() else None


def headers(plan_out: str) -> list[str]:
    """The worktree names a text plan has a section for (a linked worktree has two: its own
    settings file and its --settings file; it is named once)."""
    return list(dict.fromkeys(line.split(":")[0][2:] for line in plan_out.splitlines() if line.startswith("# ")))


# --- repos: ---------------------------------------------------------------------------


def test_repos_covers_the_main_and_every_linked_worktree(tmp_path, run):
    make_repo(tmp_path, linked=("wt-a", "wt-b"))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo:\n    profile: p\n    env: {TEAM: x}\n"})
    plan = run("plan")
    assert plan.code == 0, plan.err
    assert headers(plan.out) == ["repo", "wt-a", "wt-b"]
    assert run("apply", "--yes").code == 0
    for name in ("repo", "wt-a", "wt-b"):
        env = json.loads((tmp_path / name / ".claude/settings.local.json").read_text())["env"]
        assert env == {SONNET: "p/sonnet", "TEAM": "x"}, name
    # A found worktree is a WORKTREE argument like any other, by name or by path.
    assert headers(run("plan", "wt-b", "./wt-a").out) == []  # nothing left to change
    (tmp_path / "wt-b/.claude/settings.local.json").unlink()
    assert headers(run("plan", "wt-b").out) == ["wt-b"]
    status = run("status", "wt-a")
    assert [line.split()[:2] for line in status.out.splitlines()[1:2]] == [["wt-a", "p"]]


def test_a_worktree_listed_by_itself_wins(tmp_path, run):
    make_repo(tmp_path, linked=("wt-a", "wt-b"))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\nworktrees:\n  ./wt-a: q\n"})
    result = run("apply", "--yes")
    assert result.code == 0, result.err
    assert [sonnet(tmp_path / n) for n in ("repo", "wt-a", "wt-b")] == ["p/sonnet", "q/sonnet", "p/sonnet"]
    assert result.err == ""  # no "same settings file" warning


def test_a_new_worktree_shows_in_the_next_plan_with_the_cache_warm(tmp_path, run, isolated_home):
    from llmconf.session import open_session

    repo = make_repo(tmp_path, linked=("wt-a",))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    assert headers(run("plan").out) == ["repo", "wt-a"]
    cached = json.loads(next((isolated_home / ".cache/llmconf").glob("config-*.json")).read_text())
    assert (cached["worktrees"], [r[0] for r in cached["repos"]]) == ([], ["repo"])  # git's part is not cached
    git(repo, "worktree", "add", "-q", "../wt-new")
    session = open_session(tmp_path)
    assert session.cache.hit  # the file-derived part came from the cache...
    assert [d.name for d in session.config.worktrees] == ["repo", "wt-a", "wt-new"]  # ...git's from git
    assert headers(run("plan").out) == ["repo", "wt-a", "wt-new"]
    git(repo, "worktree", "remove", "../wt-a")
    assert headers(run("plan").out) == ["repo", "wt-new"]


def test_use_on_a_found_worktree_lists_it_by_itself(tmp_path, run):
    make_repo(tmp_path, linked=("wt-a", "wt-b"))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: {profile: p, env: {X: '1'}}\n"})
    result = run("use", "q", "wt-a", "--apply", "--yes")
    assert result.code == 0, result.err
    assert result.err == ""  # no "keeps its own overrides" warning: the repo entry's env is not wt-a's own
    assert (tmp_path / "worktrees.yaml").read_text() == "repos:\n  repo: {profile: p, env: {X: '1'}}\nworktrees:\n  wt-a: q\n"
    assert [sonnet(tmp_path / n) for n in ("repo", "wt-a", "wt-b")] == [None, "q/sonnet", None]  # only wt-a applied


def test_bare_and_prunable_worktrees_are_skipped(tmp_path, run):
    repo = make_repo(tmp_path, linked=("wt-a", "wt-gone"))
    git(tmp_path, "clone", "-q", "--bare", str(repo), "bare.git")
    git(tmp_path / "bare.git", "worktree", "add", "-q", "../from-bare")
    shutil.rmtree(tmp_path / "wt-gone")  # git now calls it prunable
    assert "prunable" in git(repo, "worktree", "list", "--porcelain").stdout
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n  bare.git: q\n"})
    plan = run("plan")
    assert (plan.code, headers(plan.out)) == (0, ["repo", "wt-a", "from-bare"]), plan.err


def test_names_clash_so_found_worktrees_are_named_by_key(tmp_path, run):
    make_repo(tmp_path, linked=("x/app", "y/app"))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    assert headers(run("plan").out) == ["repo", "x/app", "y/app"]
    assert headers(run("plan", "y/app").out) == ["y/app"]
    wrong = run("plan", "app")
    assert (wrong.code, wrong.err) == (
        1,
        "llmconf: 'app' is not a worktree declared in worktrees.yaml (did you mean 'y/app'?)\n",
    )


def test_errors_about_a_found_worktree_point_at_its_repos_entry(tmp_path, run):
    make_repo(tmp_path, linked=("wt-a",))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "vars: {}\nrepos:\n  repo:\n    profile: pp\n"})
    plan = run("plan", "wt-a")
    assert plan.code == 1
    assert plan.err == "llmconf: worktrees.yaml:3: unknown profile 'pp' (did you mean 'p'?)\n"
    write_tree(tmp_path, {"worktrees.yaml": "repos:\n  repo:\n    profile: p\n    env:\n      TEAM: '{{ nope }}'\n"})
    plan = run("plan", "wt-a")
    assert plan.code == 1
    assert plan.err == (
        "llmconf: worktrees.yaml:5: template error in env.TEAM: 'nope' is undefined "
        "(templates see worktree.path, worktree.name, profile.name, vars, secret(name), env(name, default))\n"
    )


@pytest.mark.parametrize(
    ("yaml", "error"),
    [
        ("repos:\n  plain: p\n", f"worktrees.yaml:2: repo 'plain' is not a git repository ({NOT_A_REPO_HINT})"),
        ("repos:\n  nowhere: p\n", "worktrees.yaml:2: repo folder nowhere does not exist (clone it there, or remove the entry)"),
        (
            "worktrees: {}\nrepos:\n  repo: p\n  wt-a: q\n",
            "worktrees.yaml:4: repo 'wt-a' is the same repository as 'repo' (list it once)",
        ),
        (
            "repos:\n  repo/src: p\n",
            "worktrees.yaml:2: repo 'repo/src' is a folder inside a git worktree, not its top "
            "(write the top folder, where git's worktree list starts: repo)",
        ),
        ("repos:\n  repo: {profile: p, modles: {}}\n", "worktrees.yaml:2: unknown field 'modles' in repos.repo (did you mean 'models'?)"),
    ],
)
def test_bad_repos_entries(tmp_path, run, yaml, error):
    make_repo(tmp_path, linked=("wt-a",))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": yaml, "plain/x": "", "repo/src/x": ""})
    result = run("plan")
    assert (result.code, result.err) == (1, f"llmconf: {error}\n")


def test_a_broken_repos_entry_fails_alone(tmp_path, run):
    """Like a missing worktree folder: the entry's error is its own, the rest still works."""
    make_repo(tmp_path, linked=("wt-a",))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "worktrees:\n  solo: p\nrepos:\n  repo: p\n  nowhere: q\n", "solo/x": ""})
    missing = "llmconf: worktrees.yaml:5: repo folder nowhere does not exist (clone it there, or remove the entry)\n"
    plan = run("plan")
    assert (plan.code, headers(plan.out), plan.err) == (1, ["solo", "repo", "wt-a"], missing)
    apply = run("apply", "--yes", "solo", "wt-a")
    assert (apply.code, apply.err) == (0, "")
    assert [sonnet(tmp_path / n) for n in ("solo", "repo", "wt-a")] == ["p/sonnet", None, "p/sonnet"]
    refused = run("apply", "--yes")
    assert refused.code == 1
    assert sonnet(tmp_path / "repo") is None  # an apply of everything still stops at the error
    status = run("status")
    assert status.code == 1
    assert [line.split()[:2] for line in status.out.splitlines()[1:5]] == [["solo", "p"], ["repo", "p"], ["wt-a", "p"], ["nowhere", "q"]]
    assert status.out.splitlines()[4] == "nowhere   q        ?                 ?      ?         ?     ?         -          no such folder  -"
    assert run("git-hook", "install", "repo").code == 0
    text = (tmp_path / "worktrees.yaml").read_text()
    use = run("use", "p", "nowhere")  # the entry is broken: use says so, and does not declare it
    assert (use.code, use.err) == (1, missing)
    assert (tmp_path / "worktrees.yaml").read_text() == text


def test_repos_without_git(tmp_path, run, monkeypatch):
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n", "repo/x": ""})
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    result = run("plan")
    assert (result.code, result.err) == (
        1,
        "llmconf: worktrees.yaml:2: repos: needs git: git is not installed (install git, or list the worktrees under worktrees:)\n",
    )


def test_no_repos_means_no_git(tmp_path, run, monkeypatch):
    """repos: absent costs nothing: git is never asked."""
    from llmconf import git as gitwt

    def no_git(*args, **kwargs):
        raise AssertionError("git was run")

    monkeypatch.setattr(gitwt, "_start", no_git)
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "worktrees:\n  a: p\n", "a/x": ""})
    assert run("plan").code == 0
    assert run("plan").code == 0  # the cached path too


# --- git-hook -------------------------------------------------------------------------

MARKER_HOOK = '#!/bin/sh\necho "$@" >> "{marker}"\nexit {code}\n'


def test_git_worktree_add_applies_the_declared_profile(tmp_path, run, monkeypatch):
    repo = make_repo(tmp_path, linked=())
    write_tree(
        tmp_path,
        {
            "profiles/gw.yaml": "base_url: http://gw.example\nauth_token: \"{{ secret('k') }}\"\nmodels: {sonnet: gw/s}\n",
            "worktrees.yaml": "repos:\n  repo:\n    profile: gw\n    env: {WT: '{{ worktree.name }}'}\n",
        },
    )
    monkeypatch.setenv("LLMCONF_SECRET_K", "sk-test")
    install = run("git-hook", "install", "repo")
    assert install.code == 0, install.err
    assert install.out == (
        "Installed the post-checkout hook in repo/.git/hooks: 'git worktree add' now applies the profile "
        "worktrees.yaml declares.\n"
    )
    added = git(repo, "worktree", "add", "-q", "../feature")
    assert added.returncode == 0, added.stderr
    settings = tmp_path / "feature/.claude/settings.local.json"
    assert json.loads(settings.read_text()) == {
        "env": {
            "ANTHROPIC_BASE_URL": "http://gw.example",
            "ANTHROPIC_AUTH_TOKEN": "sk-test",
            "ANTHROPIC_API_KEY": "",
            SONNET: "gw/s",
            "WT": "feature",
        }
    }
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600  # it holds a key
    # Only that worktree: the main one was not applied.
    assert not (repo / ".claude").exists()
    # A branch switch in an existing worktree is not the hook's business.
    settings.unlink()
    assert git(tmp_path / "feature", "checkout", "-q", "-b", "other").returncode == 0
    assert not settings.exists()


def test_an_existing_hook_still_runs_first_and_uninstall_restores_it(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    marker = tmp_path / "marker"
    original = repo / ".git/hooks/post-checkout"
    original.write_text(MARKER_HOOK.format(marker=marker, code=0))
    original.chmod(0o750)
    before = original.read_bytes()
    first = run("git-hook", "install", "repo")
    assert first.out.splitlines()[0] == (
        "Kept the existing post-checkout hook as repo/.git/hooks/post-checkout.llmconf-chained; it still runs first."
    )
    hook_text = original.read_text()
    again = run("git-hook", "install", "./repo")  # idempotent: the kept hook is not chained to itself
    assert (again.code, original.read_text()) == (0, hook_text)
    assert (repo / ".git/hooks/post-checkout.llmconf-chained").read_bytes() == before
    assert git(repo, "worktree", "add", "-q", "../wt-new").returncode == 0
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert marker.read_text() == f"{'0' * 40} {head} 1\n"  # same arguments
    assert sonnet(tmp_path / "wt-new") == "p/sonnet"
    result = run("git-hook", "uninstall", "repo")
    assert (result.code, result.out) == (0, "Removed llmconf's post-checkout hook and put back the one it had kept.\n")
    assert original.read_bytes() == before
    assert stat.S_IMODE(original.stat().st_mode) == 0o750
    assert not (repo / ".git/hooks/post-checkout.llmconf-chained").exists()
    assert run("git-hook", "uninstall", "repo").code == 0  # idempotent
    assert original.read_bytes() == before


def test_the_chained_hook_status_is_git_s_and_llmconf_never_fails_git(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: nope\n"})
    (repo / ".git/hooks/post-checkout").write_text(MARKER_HOOK.format(marker=tmp_path / "marker", code=0))
    (repo / ".git/hooks/post-checkout").chmod(0o755)
    assert run("git-hook", "install", "repo").code == 0
    # The profile is unknown: a one-line warning, and git succeeds.
    added = git(repo, "worktree", "add", "-q", "../wt-1")
    assert added.returncode == 0
    assert added.stderr == (
        "llmconf: warning: the new worktree's backend was not applied: "
        f"{tmp_path}/worktrees.yaml:2: unknown profile 'nope' (profiles: anthropic, best-value, budget, deepseek, "
        "devstral, max-no-claude, mixed, openrouter, openrouter-base, p, q, qwen3-coder, ultra-budget)\n"
    )
    assert (tmp_path / "marker").exists()
    # The kept hook's failure is still git's.
    (repo / ".git/hooks/post-checkout.llmconf-chained").write_text(MARKER_HOOK.format(marker=tmp_path / "marker", code=7))
    write_tree(tmp_path, {"worktrees.yaml": "repos:\n  repo: p\n"})
    added = git(repo, "worktree", "add", "-q", "../wt-2", check=False)
    assert added.returncode == 7
    assert sonnet(tmp_path / "wt-2") == "p/sonnet"  # and llmconf ran all the same


def test_git_hook_respects_core_hooks_path_inside_the_git_folder(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    git(repo, "config", "core.hooksPath", ".git/my-hooks")
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    assert run("git-hook", "install", "repo/").code == 0
    assert (repo / ".git/my-hooks/post-checkout").exists()
    assert not (repo / ".git/hooks/post-checkout").exists()
    assert git(repo, "worktree", "add", "-q", "../wt-new").returncode == 0
    assert sonnet(tmp_path / "wt-new") == "p/sonnet"


def test_install_refuses_a_hooks_folder_in_the_work_tree(tmp_path, run):
    """A .husky folder is the team's: a machine-specific hook there would be committed."""
    repo = make_repo(tmp_path, linked=())
    write_tree(repo, {".husky/post-checkout": "#!/bin/sh\nnpx husky-run post-checkout\n"})
    git(repo, "add", ".husky")
    git(repo, "commit", "-q", "-m", "husky")
    git(repo, "config", "core.hooksPath", ".husky")
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    before = snapshot_tree(repo / ".husky")
    def in_work_tree(hooks: str) -> str:
        return (
            f"llmconf: {hooks}: core.hooksPath points git at a hooks folder inside the work tree: its hooks are "
            "the repository's files, committed for everyone; nothing installed "
            f"(add the line 'llmconf -C {tmp_path} git-hook run \"$@\"' to its post-checkout hook yourself)\n"
        )

    result = run("git-hook", "install", "repo")
    assert (result.code, result.out, result.err) == (1, "", in_work_tree("repo/.husky"))
    assert git(repo, "status", "--porcelain").stdout == ""
    assert_unchanged(before, repo / ".husky")
    # From a linked worktree too (git resolves .husky in that worktree).
    git(repo, "worktree", "add", "-q", "../wt-a")
    result = run("git-hook", "install", "wt-a")
    assert (result.code, result.out, result.err) == (1, "", in_work_tree("wt-a/.husky"))


def test_install_refuses_a_global_hooks_folder_and_the_hook_is_silent_elsewhere(tmp_path, run, isolated_home):
    """A global core.hooksPath is every repository's: install refuses; a hook the user wires
    up there by hand says nothing in the repositories the config does not cover."""
    import sys

    repo = make_repo(tmp_path, linked=())
    make_repo(tmp_path, name="other", linked=())
    shared = isolated_home / "git-hooks"
    git(tmp_path, "config", "--global", "core.hooksPath", str(shared))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    result = run("git-hook", "install", "repo")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        f"llmconf: {shared}: core.hooksPath points git at a hooks folder outside the repository: other "
        "repositories run their hooks from there too; nothing installed "
        f"(add the line 'llmconf -C {tmp_path} git-hook run \"$@\"' to its post-checkout hook yourself)\n",
    )
    assert not shared.exists()
    # The line the hint gives, by hand (with this venv's python for 'llmconf').
    write_tree(shared, {"post-checkout": f'#!/bin/sh\n{sys.executable} -m llmconf -C {tmp_path} git-hook run "$@"\n'})
    (shared / "post-checkout").chmod(0o755)
    added = git(tmp_path / "other", "worktree", "add", "-q", "../other-new")
    assert (added.returncode, added.stderr) == (0, "")  # not covered: silent
    assert sonnet(tmp_path / "other-new") is None
    assert git(repo, "worktree", "add", "-q", "../repo-new").returncode == 0
    assert sonnet(tmp_path / "repo-new") == "p/sonnet"


def test_install_refuses_to_repoint_a_hook_another_config_installed(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n", "cfg2/worktrees.yaml": "repos:\n  ../repo: p\n"})
    assert run("git-hook", "install", "repo").code == 0
    hook = repo / ".git/hooks/post-checkout"
    before = snapshot_tree(hook.parent)
    result = run("-C", "cfg2", "git-hook", "install", "repo")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "llmconf: repo/.git/hooks: the post-checkout hook there applies worktrees.yaml; nothing changed "
        f"(to switch it to cfg2/worktrees.yaml, run 'llmconf -C {tmp_path} git-hook uninstall repo' first)\n",
    )
    assert_unchanged(before, hook.parent)
    assert run("git-hook", "install", "repo").code == 0  # the same config: an update
    assert run("git-hook", "uninstall", "repo").code == 0
    assert run("-C", "cfg2", "git-hook", "install", "repo").code == 0


def test_git_hook_install_errors(tmp_path, run):
    make_repo(tmp_path, linked=())
    make_repo(tmp_path, name="other", linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n", "plain/x": ""})
    result = run("git-hook", "install", "other")
    assert (result.code, result.err) == (
        1,
        "llmconf: worktrees.yaml: no repos: or worktrees: entry covers the git repository of 'other'; nothing installed "
        "(add it under repos: (repos: {other: PROFILE}), so each new worktree gets that profile)\n",
    )
    assert not (tmp_path / "other/.git/hooks/post-checkout").exists()
    result = run("git-hook", "install", "plain")
    assert (result.code, result.err) == (
        1,
        "llmconf: 'plain' is not in a git repository (name a folder of the git repository (any of its worktrees))\n",
    )
    # Covered only by a worktrees: entry: installed, with a warning that new worktrees are not covered.
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  other: p\n"})
    result = run("git-hook", "install", "other")
    assert (result.code, result.err) == (
        0,
        "llmconf: warning: only worktrees listed under worktrees: in worktrees.yaml get a profile from the hook; "
        "add the repo under repos: to cover every new worktree\n",
    )


def test_git_hook_needs_a_folder_and_git(tmp_path, run, monkeypatch):
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n", "repo/x": ""})
    hint = "(name a folder of the git repository (any of its worktrees))"
    for action in ("install", "uninstall"):
        result = run("git-hook", action, "nowhere")
        assert (result.code, result.out, result.err) == (1, "", f"llmconf: 'nowhere' is not a folder {hint}\n"), action
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    result = run("git-hook", "install", "repo")
    assert (result.code, result.out, result.err) == (1, "", "llmconf: git-hook needs git: git is not installed (install git)\n")


def test_uninstall_leaves_a_foreign_hook_alone(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    hook = repo / ".git/hooks/post-checkout"
    hook.write_text("#!/bin/sh\nexit 0\n")
    result = run("git-hook", "uninstall", "repo")
    assert (result.code, result.out) == (
        0,
        "No llmconf hook in repo/.git/hooks (its post-checkout is not llmconf's: left as it is); nothing to do.\n",
    )
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


def test_hook_run_ignores_anything_but_a_new_worktree(tmp_path, run):
    make_repo(tmp_path, linked=("wt-a",))
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    sha = "1" * 40
    for args in ([sha, sha, "1"], ["0" * 40, sha, "0"], []):
        result = run("-C", str(tmp_path), "git-hook", "run", *args, cwd=tmp_path / "wt-a")
        assert (result.code, result.out, result.err) == (0, "", ""), args
    assert sonnet(tmp_path / "wt-a") is None
    result = run("-C", str(tmp_path), "git-hook", "run", "0" * 40, sha, "1", cwd=tmp_path / "wt-a")
    assert result.code == 0
    assert sonnet(tmp_path / "wt-a") == "p/sonnet"
    assert os.path.exists(tmp_path / "wt-a/.claude/settings.local.json")


def test_install_refuses_when_a_foreign_hook_sits_beside_a_kept_one(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    hooks = repo / ".git/hooks"
    (hooks / "post-checkout").write_text("#!/bin/sh\necho new\n")
    (hooks / "post-checkout.llmconf-chained").write_text("#!/bin/sh\necho kept\n")
    result = run("git-hook", "install", "repo")
    assert (result.code, result.err) == (
        1,
        "llmconf: repo/.git/hooks: both post-checkout and post-checkout.llmconf-chained exist, and post-checkout "
        "is not llmconf's; nothing changed (merge them into post-checkout (or remove post-checkout.llmconf-chained), "
        "then install again)\n",
    )
    assert (hooks / "post-checkout").read_text() == "#!/bin/sh\necho new\n"
    assert (hooks / "post-checkout.llmconf-chained").read_text() == "#!/bin/sh\necho kept\n"


def test_hook_run_in_a_folder_no_entry_covers(tmp_path, run):
    make_repo(tmp_path, name="other", linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "worktrees: {}\n"})
    result = run("-C", str(tmp_path), "git-hook", "run", "0" * 40, "1" * 40, "1", cwd=tmp_path / "other")
    assert (result.code, result.out, result.err) == (0, "", "")  # none of llmconf's business
    result = run("-C", str(tmp_path), "git-hook", "run", "0" * 40, "1" * 40, "1", cwd=tmp_path)  # no repo at all
    assert (result.code, result.out, result.err) == (0, "", "")


def test_hook_run_warns_in_a_covered_repo_whose_new_worktree_is_not_declared(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "worktrees:\n  repo: p\n"})
    git(repo, "worktree", "add", "-q", "../wt-new")
    result = run("-C", str(tmp_path), "git-hook", "run", "0" * 40, "1" * 40, "1", cwd=tmp_path / "wt-new")
    assert (result.code, result.out, result.err) == (
        0,
        "",
        f"llmconf: warning: {tmp_path}/wt-new is not declared in {tmp_path}/worktrees.yaml; no backend applied\n",
    )


# --- a failed install, a moved llmconf ---------------------------------------------------

USER_HOOK = "#!/bin/sh\necho mine\n"


def _user_hook(repo: Path) -> Path:
    hook = repo / ".git/hooks/post-checkout"
    hook.write_text(USER_HOOK)
    hook.chmod(0o750)
    return hook


def _install_failing(tmp_path, run, monkeypatch, name, fake):
    """Install over the user's hook with os.<name> replaced by `fake`: the user's hook, its
    mode and the hooks folder are as they were. Returns the install's result."""
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    hook = _user_hook(repo)
    before = snapshot_tree(hook.parent)
    with monkeypatch.context() as patched:  # undoes this one only, not the isolated home
        patched.setattr(os, name, fake)
        result = run("git-hook", "install", "repo")
    assert hook.read_text() == USER_HOOK
    assert stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert_unchanged(before, hook.parent)  # no temp file, nothing kept aside
    return result


def test_a_failed_write_leaves_the_user_s_hook_in_place(tmp_path, run, monkeypatch):
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    result = _install_failing(tmp_path, run, monkeypatch, "fsync", disk_full)
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "llmconf: repo/.git/hooks/post-checkout: cannot install the hook: No space left on device; nothing changed\n",
    )


def test_a_failed_rename_puts_the_user_s_hook_back(tmp_path, run, monkeypatch):
    real_replace = os.replace

    def replace(src, dst):
        if str(src).endswith(".tmp"):
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    result = _install_failing(tmp_path, run, monkeypatch, "replace", replace)
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "llmconf: repo/.git/hooks/post-checkout: cannot install the hook: Permission denied; nothing changed\n",
    )


def test_uninstall_puts_back_a_hook_an_older_install_left_aside(tmp_path, run):
    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    kept = repo / ".git/hooks/post-checkout.llmconf-chained"
    kept.write_text(USER_HOOK)
    kept.chmod(0o750)
    result = run("git-hook", "uninstall", "repo")
    assert (result.code, result.out, result.err) == (
        0,
        "Put back the post-checkout hook llmconf had kept as repo/.git/hooks/post-checkout.llmconf-chained.\n",
        "",
    )
    assert (repo / ".git/hooks/post-checkout").read_text() == USER_HOOK
    assert not kept.exists()


def test_the_hook_finds_llmconf_on_path_or_says_it_is_missing(tmp_path, run, monkeypatch):
    """llmconf's venv moved: the hook falls back to llmconf on PATH, else warns in one line;
    either way git gets the kept hook's status."""
    import sys

    repo = make_repo(tmp_path, linked=())
    write_tree(tmp_path, {**PROFILES, "worktrees.yaml": "repos:\n  repo: p\n"})
    kept = repo / ".git/hooks/post-checkout"
    kept.write_text(MARKER_HOOK.format(marker=tmp_path / "marker", code=7))
    kept.chmod(0o755)
    real_python = sys.executable
    with monkeypatch.context() as m:
        m.setattr(sys, "executable", str(tmp_path / "moved-venv/bin/python3"))
        assert run("git-hook", "install", "repo").code == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.path.dirname(shutil.which('git'))}")
    added = git(repo, "worktree", "add", "-q", "../wt-1", check=False)
    assert (added.returncode, added.stderr) == (
        7,
        f"llmconf: warning: llmconf not found (reinstall the hook with 'llmconf git-hook install {repo}')\n",
    )
    assert sonnet(tmp_path / "wt-1") is None
    # A branch switch is not the hook's business: no warning there.
    switched = git(tmp_path / "wt-1", "checkout", "-q", "-b", "other", check=False)
    assert (switched.returncode, switched.stderr) == (1, "")  # git checkout's own code for a failed hook
    write_tree(bin_dir, {"llmconf": f'#!/bin/sh\nexec {real_python} -m llmconf "$@"\n'})
    (bin_dir / "llmconf").chmod(0o755)
    added = git(repo, "worktree", "add", "-q", "../wt-2", check=False)
    assert added.returncode == 7
    assert added.stderr == (  # the hook's llmconf prints on git's stderr
        "# wt-2: .claude/settings.local.json (profile p) will be created\n"
        '  + env.ANTHROPIC_DEFAULT_SONNET_MODEL = "p/sonnet"\n'
        "\n"
        "Plan: 1 to add, 0 to change, 0 to remove (in 1 file).\n"
        "Apply complete: 1 added, 0 changed, 0 removed (in 1 file).\n"
    )
    assert sonnet(tmp_path / "wt-2") == "p/sonnet"
