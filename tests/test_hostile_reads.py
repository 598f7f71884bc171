"""Every read is safe: a FIFO, /dev/zero, a huge file, a YAML bomb, an odd path or encoding in
any file llmconf reads ends in one located line and exit 1: never a hang, a MemoryError, a
crash or an internal error, and nothing on disk changes.

What could hang or eat the memory runs in a subprocess with a timeout and an address-space cap,
so a regression fails the test instead of taking pytest down with it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, write_tree

CONFIG = "worktrees:\n  a: anthropic\n"
LONG = "x" * 300  # longer than any file system's name limit (255 bytes)
MiB = 1 << 20
GW = "base_url: http://127.0.0.1:9/api\nauth_token: t\nmodels: {haiku: h-1, sonnet: s-1}\n"
#: GW without its key: where a `.git` git cannot read stands above, a key is refused ("cannot
#: tell whether git tracks this file", test_hostile_git.py); these tests are about the reading.
KEYLESS = "base_url: http://127.0.0.1:9/api\nmodels: {haiku: h-1, sonnet: s-1}\n"


#: llmconf's own bookkeeping in HOME, written whatever the input: its caches and apply's lock.
BOOKKEEPING = (".cache", ".local", ".local/state", ".local/state/llmconf", ".local/state/llmconf/lock")


def tree(*roots: Path) -> dict[str, tuple[int, int, int, bytes | None]]:
    """Every entry under roots as (kind, inode, mtime, bytes of a regular file), but for
    BOOKKEEPING: a FIFO is never opened, so taking this cannot hang."""
    shot = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, root)
                if rel in BOOKKEEPING or rel.startswith(".cache/"):
                    continue
                st = os.lstat(path)
                data = Path(path).read_bytes() if stat.S_ISREG(st.st_mode) else None
                shot[path] = (stat.S_IFMT(st.st_mode), st.st_ino, st.st_mtime_ns, data)
    return shot


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # a runaway read fails fast, not the machine


def cli(cwd: Path, *argv: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`python -m llmconf ARGV` in cwd (HOME etc. are the isolated ones), or a failed test after 20 s."""
    try:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "llmconf", *argv], cwd=cwd, capture_output=True, text=True, timeout=20, preexec_fn=_capped
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"llmconf {' '.join(argv)} hung")


#: What a command adds below a worktree's error (the worktree failed, not the whole config).
APPLY_TAIL = "llmconf: nothing written: fix the errors above, or name the other worktrees\n"
VALIDATE_TAIL = "llmconf: 1 problem found\n"


def refused(cwd: Path, argv: tuple[str, ...], err: str, *roots: Path, prefix: tuple[str, ...] = ()) -> None:
    """The command exits 1 with exactly `err` on stderr and writes nothing under roots."""
    before = tree(*roots)
    r = cli(cwd, *argv, prefix=prefix)
    assert (r.returncode, r.stderr) == (1, err)
    assert tree(*roots) == before


# --- special files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, err",
    [
        ("worktrees.yaml", "llmconf: worktrees.yaml: is a FIFO, not a regular file (llmconf reads only regular files; replace it with one)\n"),
        ("profiles/p.yaml", "llmconf: profiles/p.yaml: is a FIFO, not a regular file (llmconf reads only regular files; replace it with one)\n"),
        ("catalog.yaml", "llmconf: catalog.yaml: is a FIFO, not a regular file (llmconf reads only regular files; replace it with one)\n"),
        (
            "a/.claude/settings.local.json",
            "llmconf: a/.claude/settings.local.json: is a FIFO, not a settings file (llmconf reads only regular files; replace it with one)\n",
        ),
    ],
)
def test_a_fifo_in_the_config_or_a_settings_file_is_refused(tmp_path, isolated_home, where, err):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "extends: anthropic\n", "a/.claude/x": ""})
    (tmp_path / where).unlink(missing_ok=True)
    os.mkfifo(tmp_path / where)
    refused(tmp_path, ("plan",), err, tmp_path, isolated_home)
    # a profile or a settings file fails its worktree alone; worktrees.yaml or catalog.yaml, the run
    refused(tmp_path, ("apply", "--yes"), err + (APPLY_TAIL if where[0] in "pa" else ""), tmp_path, isolated_home)


@pytest.mark.parametrize("where", ["worktrees.yaml", "profiles/p.yaml", "a/.claude/settings.local.json"])
def test_a_link_to_dev_zero_is_refused_not_read_to_exhaustion(tmp_path, isolated_home, where):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "extends: anthropic\n", "a/.claude/x": ""})
    (tmp_path / where).unlink(missing_ok=True)
    os.symlink("/dev/zero", tmp_path / where)
    what = "settings file" if where.endswith(".json") else "regular file"
    err = f"llmconf: {where}: is a character device, not a {what} (llmconf reads only regular files; replace it with one)\n"
    refused(tmp_path, ("plan",), err, tmp_path, isolated_home)
    refused(tmp_path, ("apply", "--yes"), err + (APPLY_TAIL if where[0] in "pa" else ""), tmp_path, isolated_home)


@pytest.mark.parametrize("special", ["fifo", "zero"])
def test_a_special_secret_store_is_refused(tmp_path, isolated_home, special):
    store = isolated_home / "secrets.env"
    os.mkfifo(store) if special == "fifo" else os.symlink("/dev/zero", store)
    kind = "a FIFO" if special == "fifo" else "a character device"
    err = f"llmconf: {store}: is {kind}, not a regular file (llmconf reads only regular files; replace it with one)\n"
    refused(tmp_path, ("secret", "list"), err, tmp_path, isolated_home)


@pytest.mark.parametrize("layer", ["user", "project", "managed"])
def test_a_fifo_settings_layer_is_a_doctor_finding_not_a_hang(tmp_path, isolated_home, monkeypatch, layer):
    monkeypatch.setenv("LLMCONF_CLAUDE_MANAGED_SETTINGS", str(tmp_path / "managed.json"))
    write_tree(tmp_path, {"worktrees.yaml": CONFIG, "a/.keep": ""})
    fifo = {"user": isolated_home / ".claude/settings.json", "project": tmp_path / "a/.claude/settings.json",
            "managed": tmp_path / "managed.json"}[layer]
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    before = tree(tmp_path, isolated_home)
    status = cli(tmp_path, "status")
    assert (status.returncode, status.stderr) == (0, "")  # status lists the config; doctor judges the layers
    doctor = cli(tmp_path, "doctor")
    assert doctor.returncode == 1 and doctor.stderr == ""
    shown = os.path.relpath(fifo, tmp_path) if layer != "user" else str(fifo)
    assert (
        f"  error: {shown}: {layer} settings cannot be read (is a FIFO, not a settings file): "
        "Claude Code ignores the whole file (fix it by hand)"
    ) in doctor.stdout.splitlines()
    assert tree(tmp_path, isolated_home) == before


def test_a_fifo_key_file_or_secret_source_is_refused(tmp_path, isolated_home):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: openrouter\n", "a/.keep": ""})
    os.mkfifo(tmp_path / "key.env")
    refused(
        tmp_path, ("import", "--key-file", "key.env", "a"),
        "llmconf: key.env: is a FIFO, not a regular file; nothing changed (name a key file holding NAME_API_KEY=...)\n",
        tmp_path, isolated_home,
    )
    (tmp_path / "worktrees.yaml").write_text("secrets:\n  openrouter: {file: key.env}\nworktrees:\n  a: p\n")
    write_tree(tmp_path, {"profiles/p.yaml": "base_url: http://127.0.0.1:9/api\nauth_token: \"{{ secret('openrouter') }}\"\nmodels: {sonnet: s}\n"})
    refused(
        tmp_path, ("plan",),
        f"llmconf: profiles/p.yaml:2: secret 'openrouter' comes from {tmp_path / 'key.env'}, which cannot be read "
        "(is a FIFO, not a regular file) (create it, or fix secrets: in worktrees.yaml)\n",
        tmp_path, isolated_home,
    )


# --- size caps --------------------------------------------------------------------------------


def test_a_settings_file_over_claude_codes_2_mib_is_refused(tmp_path, run, isolated_home):
    write_tree(tmp_path, {"worktrees.yaml": CONFIG, "a/.claude/settings.local.json": '{"env": {"X": "' + "a" * (2 * MiB) + '"}}\n'})
    before = tree(tmp_path, isolated_home)
    err = "llmconf: a/.claude/settings.local.json: is larger than 2 MiB, the most llmconf reads from such a file (is it the right file?)\n"
    for argv, tail in ((("plan",), ""), (("apply", "--yes"), APPLY_TAIL)):
        r = run(*argv)
        assert (r.code, r.err) == (1, err + tail)
    assert tree(tmp_path, isolated_home) == before
    (tmp_path / "a/.claude/settings.local.json").write_text('{"env": {"X": "' + "a" * MiB + '"}}\n')
    r = run("plan")  # under the cap: read as usual
    assert (r.code, r.err) == (0, "")


@pytest.mark.parametrize("where, cap", [("worktrees.yaml", 4), ("profiles/p.yaml", 4), ("catalog.yaml", 4)])
def test_a_config_file_over_its_cap_is_refused(tmp_path, run, isolated_home, where, cap):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "extends: anthropic\n", "a/.keep": ""})
    with open(tmp_path / where, "a") as f:  # one huge comment line: valid YAML, only too big
        f.write("# " + "x" * (cap * MiB) + "\n")
    before = tree(tmp_path, isolated_home)
    r = run("plan")
    assert (r.code, r.err.splitlines()[-1]) == (
        1, f"llmconf: {where}: is larger than {cap} MiB, the most llmconf reads from such a file (is it the right file?)"
    )
    assert tree(tmp_path, isolated_home) == before


def test_a_secret_store_over_1_mib_is_refused(tmp_path, run, isolated_home):
    store = isolated_home / "secrets.env"
    store.write_text("# " + "x" * MiB + "\n")
    store.chmod(0o600)
    before = tree(tmp_path, isolated_home)
    r = run("secret", "list")
    assert (r.code, r.err) == (1, f"llmconf: {store}: is larger than 1 MiB, the most llmconf reads from such a file (is it the right file?)\n")
    assert tree(tmp_path, isolated_home) == before


def test_a_config_just_under_its_caps_still_loads(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": CONFIG + "# " + "x" * (3 * MiB) + "\n", "a/.keep": ""})
    r = run("plan")
    assert (r.code, r.err) == (0, "")


# --- YAML bombs -------------------------------------------------------------------------------


def laughs(levels: int = 9) -> str:
    """A billion-laughs alias bomb: each level a list of ten aliases of the one before."""
    lines = ["  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


BOMB = "llmconf: {file}:{line}: its aliases stand for more than 100,000 values (an alias bomb?) (write the values out, or alias less)\n"
DEEP = "llmconf: {file}:{line}: nested more than 100 levels deep (flatten it)\n"


@pytest.mark.parametrize(
    "files, err",
    [
        ({"worktrees.yaml": "vars:\n" + laughs() + CONFIG}, BOMB.format(file="worktrees.yaml", line=6)),
        ({"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "extends: anthropic\nenv:\n  X: '1'\nx-bomb:\n" + laughs()},
         BOMB.format(file="profiles/p.yaml", line=9)),
        ({"worktrees.yaml": CONFIG, "catalog.yaml": "x-bomb:\n" + laughs()}, BOMB.format(file="catalog.yaml", line=6)),
        ({"worktrees.yaml": "vars:\n  x: " + "[" * 100_000 + "]" * 100_000 + "\n" + CONFIG}, DEEP.format(file="worktrees.yaml", line=2)),
        ({"worktrees.yaml": "vars:\n  x: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n" + CONFIG}, DEEP.format(file="worktrees.yaml", line=2)),
        ({"worktrees.yaml": "vars:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(1000)) + CONFIG},
         DEEP.format(file="worktrees.yaml", line=101)),
        ({"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "env: " + "[" * 100_000 + "]" * 100_000 + "\n"},
         DEEP.format(file="profiles/p.yaml", line=1)),
        # libyaml rejects the ':' in the flow value, so ruamel's own parser reads this one: it is checked too
        ({"worktrees.yaml": "worktrees:\n  a: {profile: anthropic, models: {sonnet: q/c:exacto}}\nvars:\n  x: "
          + "[" * 200_000 + "]" * 200_000 + "\n"}, DEEP.format(file="worktrees.yaml", line=4)),
    ],
    ids=["laughs-vars", "laughs-profile", "laughs-catalog", "deep-flow-list", "deep-flow-map", "deep-block", "deep-profile", "deep-pure"],
)
def test_yaml_bombs_are_refused_before_they_are_built(tmp_path, isolated_home, files, err):
    write_tree(tmp_path, {"a/.keep": "", **files})
    refused(tmp_path, ("plan",), err, tmp_path, isolated_home)
    # validate lists every problem: a profile's or the catalog's is one of them, worktrees.yaml's stops it
    refused(tmp_path, ("validate",), err + ("" if "worktrees.yaml" in err else VALIDATE_TAIL), tmp_path, isolated_home)


def test_aliases_and_nesting_a_config_really_uses_still_load(tmp_path, run):
    nested = "".join("  " * (i + 1) + f"k{i}:\n" for i in range(90)) + "  " * 91 + "leaf: 1\n"  # 90 levels deep
    write_tree(
        tmp_path,
        {
            "worktrees.yaml": "vars:\n  base: &base {region: eu}\n  copy: *base\n  many: [" + ", ".join(["*base"] * 1000) + "]\n"
            + nested.replace("  k0:", "  deep:", 1) + "worktrees:\n  a: &entry {profile: p}\n  b: *entry\n",
            "profiles/p.yaml": GW,
            "a/.keep": "",
            "b/.keep": "",
        },
    )
    r = run("apply", "--yes")
    assert (r.code, r.err) == (0, "")
    assert (tmp_path / "a/.claude/settings.local.json").is_file() and (tmp_path / "b/.claude/settings.local.json").is_file()


# --- located errors for odd paths and encodings -------------------------------------------------


@pytest.mark.parametrize(
    "config, line",
    [
        ('worktrees:\n  "a\\0b": anthropic\n', 2),
        ('profile_paths: ["shared\\0"]\nworktrees:\n  a: anthropic\n', 1),
        ('worktrees:\n  a: "anthropic\\0"\n', 2),
        ('repos:\n  "r\\0": anthropic\n', 2),
        ('claude_code: "/bin/claude\\0"\nworktrees:\n  a: anthropic\n', 1),
        ('secrets:\n  k: {file: "k\\0.env"}\nworktrees:\n  a: anthropic\n', 2),
        ('vars:\n  region: "eu\\x00"\nworktrees:\n  a: anthropic\n', 2),
    ],
    ids=["worktree", "profile_paths", "profile-name", "repo", "claude_code", "secret-file", "var"],
)
def test_a_nul_in_worktrees_yaml_is_located(tmp_path, run, isolated_home, config, line):
    write_tree(tmp_path, {"worktrees.yaml": config, "a/.keep": ""})
    before = tree(tmp_path, isolated_home)
    for argv in (("plan",), ("apply", "--yes"), ("status",), ("validate",)):
        r = run(*argv)
        assert (r.code, r.err) == (1, f"llmconf: worktrees.yaml:{line}: holds a NUL character (\\0) (remove it)\n")
    assert tree(tmp_path, isolated_home) == before


def test_a_nul_in_a_profile_is_located(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": 'extends: anthropic\nenv:\n  X: "a\\0"\n', "a/.keep": ""})
    r = run("plan")
    assert (r.code, r.err.splitlines()[-1]) == (1, "llmconf: profiles/p.yaml:3: holds a NUL character (\\0) (remove it)")


@pytest.mark.parametrize(
    "config, line, written",
    [
        (f"worktrees:\n  {LONG}: anthropic\n", 2, LONG),
        (f"worktrees:\n  a/{LONG}/b: anthropic\n", 2, f"a/{LONG}"),
        (f"profile_paths: [{LONG}]\nworktrees:\n  a: anthropic\n", 1, LONG),
        (f"repos:\n  ~/{LONG}: anthropic\n", 2, f"~/{LONG}"),
        (f"claude_code: /opt/{LONG}\nworktrees:\n  a: anthropic\n", 1, f"/opt/{LONG}"),
        (f"secrets:\n  k: {{file: {LONG}}}\nworktrees:\n  a: anthropic\n", 2, LONG),
    ],
    ids=["worktree", "worktree-middle", "profile_paths", "repo", "claude_code", "secret-file"],
)
def test_a_path_part_longer_than_a_file_system_allows_is_located(tmp_path, run, isolated_home, config, line, written):
    write_tree(tmp_path, {"worktrees.yaml": config, "a/.keep": ""})
    err = (
        f"llmconf: worktrees.yaml:{line}: a part of the path '{written[:40]}...' is longer than 255 bytes, "
        "more than a file system allows (shorten it)\n"
    )
    before = tree(tmp_path, isolated_home)
    for argv in (("plan",), ("apply", "--yes"), ("validate",)):
        r = run(*argv)
        assert (r.code, r.err) == (1, err)
    assert tree(tmp_path, isolated_home) == before


def test_a_profile_name_longer_than_a_file_name_is_an_unknown_profile(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": f"worktrees:\n  a: {LONG}\n", "profiles/p.yaml": "extends: anthropic\n", "a/.keep": ""})
    from llmconf.config.load import shipped_profiles_dir

    names = sorted(["p", *(f.stem for f in shipped_profiles_dir().glob("*.yaml"))])
    r = run("plan")
    assert (r.code, r.err.splitlines()[-1]) == (1, f"llmconf: worktrees.yaml:2: unknown profile '{LONG}' (profiles: {', '.join(names)})")


@pytest.mark.parametrize(
    "files, shown, line",
    [
        ({"worktrees.yaml": b"# ok\nworktrees:\n  a: anthropic # caf\xe9\n"}, "worktrees.yaml", 3),
        ({"worktrees.yaml": b"worktrees:\n  a: p\n", "profiles/p.yaml": b"extends: anthropic\n\n\nenv: {X: \xff}\n"}, "profiles/p.yaml", 4),
        ({"worktrees.yaml": b"worktrees:\n  a: anthropic\n", "catalog.yaml": b"models:\n  # \xc3\x28\n"}, "catalog.yaml", 2),
        ({"worktrees.yaml": b"worktrees:\n  a: anthropic\n", "a/.claude/settings.local.json": b'{\n  "env": {"X": "\xfe"}\n}\n'},
         "a/.claude/settings.local.json", 2),
        ({"worktrees.yaml": b"\r\nworktrees:\r\n  a: anthropic \x80\r\n"}, "worktrees.yaml", 3),
    ],
    ids=["config", "profile", "catalog", "settings", "crlf"],
)
def test_invalid_utf8_names_the_line_of_its_first_bad_byte(tmp_path, run, isolated_home, files, shown, line):
    for rel, data in {"a/.keep": b"", **files}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    before = tree(tmp_path, isolated_home)
    r = run("plan")
    assert (r.code, r.err.splitlines()[-1]) == (1, f"llmconf: {shown}:{line}: is not UTF-8 text (save it as UTF-8; llmconf never overwrites it)")
    assert tree(tmp_path, isolated_home) == before


def test_a_key_file_in_another_encoding_is_located_and_shows_no_byte_of_it(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: openrouter\n", "a/.keep": ""})
    (tmp_path / "key.env").write_bytes(b"# saved\nOPENROUTER_API_KEY=sk-or-v1-\xe9abc\n")
    r = run("import", "--key-file", "key.env", "a")
    assert (r.code, r.err) == (1, "llmconf: key.env:2: not valid UTF-8 (not shown); nothing changed (save the key file as UTF-8 text)\n")
    assert "abc" not in r.out + r.err and "xe9" not in r.err


def permissions_apply() -> tuple[str, ...]:
    """The command prefix under which file permissions stop llmconf as they stop a user: none,
    or for root (who reads any folder) setpriv without the capabilities that let it."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop root's read-anything capabilities")
    drop = "-dac_override,-dac_read_search"
    return ("setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}")


def test_profiles_folder_that_cannot_be_read(tmp_path, isolated_home):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "extends: anthropic\n", "a/.keep": ""})
    as_user = permissions_apply()
    (tmp_path / "profiles").chmod(0)
    try:
        err = "llmconf: profiles: cannot read this profile folder: permission denied (fix its permissions (chmod u+rx))\n"
        refused(tmp_path, ("plan",), err, tmp_path, isolated_home, prefix=as_user)
        refused(tmp_path, ("apply", "--yes"), err + APPLY_TAIL, tmp_path, isolated_home, prefix=as_user)
        refused(tmp_path, ("validate",), err, tmp_path, isolated_home, prefix=as_user)
    finally:
        (tmp_path / "profiles").chmod(0o755)


# --- odd worktrees.yaml -------------------------------------------------------------------------


def loop(tmp_path: Path) -> None:
    os.symlink("worktrees.yaml", tmp_path / "worktrees.yaml")


@pytest.mark.parametrize(
    "make, err",
    [
        (lambda p: (p / "worktrees.yaml").mkdir(), "llmconf: worktrees.yaml: is a directory, not a regular file (move it out of the way)\n"),
        (loop, "llmconf: worktrees.yaml: cannot read it: too many levels of symbolic links "
               "(a symlink there points at itself, or its chain is too long)\n"),
        (lambda p: (p / "worktrees.yaml").write_text("worktrees: {a: anthropic, b: " + "x" * (5 * MiB) + "}\n"),
         "llmconf: worktrees.yaml: is larger than 4 MiB, the most llmconf reads from such a file (is it the right file?)\n"),
    ],
    ids=["directory", "symlink-loop", "huge-line"],
)
def test_a_worktrees_yaml_that_is_no_file_to_read(tmp_path, run, isolated_home, make, err):
    (tmp_path / "a").mkdir()
    make(tmp_path)
    before = tree(tmp_path, isolated_home)
    for argv in (("plan",), ("apply", "--yes"), ("status",), ("validate",)):
        r = run(*argv)
        assert (r.code, r.err) == (1, err)
    assert tree(tmp_path, isolated_home) == before


def test_an_empty_worktrees_yaml_or_one_with_a_bom_reads_as_written(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "", "profiles/p.yaml": GW, "a/.keep": ""})
    r = run("plan")  # an empty file is a config with no worktrees yet, as one holding only comments is
    assert (r.code, r.out, r.err) == (0, "No changes.\n", "")
    (tmp_path / "worktrees.yaml").write_bytes(b"\xef\xbb\xbfworktrees:\n  a: p\n")
    r = run("apply", "--yes")
    assert (r.code, r.err) == (0, "")
    assert json.loads((tmp_path / "a/.claude/settings.local.json").read_text())["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/api"


def test_no_secret_reaches_an_error_about_a_file_holding_it(tmp_path, run, store_secret, isolated_home):
    store_secret()
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: openrouter\n", "a/.keep": ""})
    assert run("apply", "--yes").code == 0
    settings = tmp_path / "a/.claude/settings.local.json"
    settings.write_bytes(settings.read_bytes().replace(b'"env"', b'"\xffenv"'))
    r = run("plan")
    assert (r.code, r.err.splitlines()[-1]) == (1, "llmconf: a/.claude/settings.local.json:2: is not UTF-8 text (save it as UTF-8; llmconf never overwrites it)")
    assert SECRET not in r.out + r.err


# --- llmconf's own files and what git leaves ------------------------------------------------------


def test_a_fifo_saved_plan_or_state_file_is_refused(tmp_path, isolated_home):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": GW, "a/.keep": ""})
    os.mkfifo(tmp_path / "saved.json")  # no regular file, so no saved plan: a worktree's name
    refused(
        tmp_path, ("apply", "saved.json"),
        "llmconf: 'saved.json' is not a worktree declared in worktrees.yaml (see 'llmconf status' for the declared worktrees)\n",
        tmp_path, isolated_home,
    )
    state = isolated_home / ".local/state/llmconf/state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(state)
    refused(
        tmp_path, ("plan",),
        f"llmconf: {state}: cannot read llmconf's state: it is a FIFO, not a regular file "
        "(move it aside; llmconf then re-learns what it owns on the next apply)\n",
        tmp_path, isolated_home,
    )


def test_plan_out_names_a_fifo_profile_it_would_fingerprint(tmp_path, isolated_home):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": GW, "a/.keep": ""})
    assert cli(tmp_path, "apply", "--yes").returncode == 0  # the state a saved plan's fingerprints are salted with
    os.mkfifo(tmp_path / "profiles/unused.yaml")
    refused(
        tmp_path, ("plan", "--out", "saved.json"),
        "llmconf: profiles/unused.yaml: is a FIFO, not a regular file (llmconf reads only regular files; replace it with one)\n",
        tmp_path, isolated_home,
    )


def test_fifos_where_llmconf_keeps_its_caches_or_git_its_files_are_passed_over(tmp_path, isolated_home):
    from llmconf import caches
    from tests.helpers import make_repo

    repo = make_repo(tmp_path)
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n  repo: p\n", "profiles/p.yaml": KEYLESS, "a/.keep": ""})
    os.mkfifo(tmp_path / "a/.git")  # not a gitdir: link, so no main checkout to look at
    os.mkfifo(repo / ".git/hooks/post-checkout")
    for kind in ("config", "catalog"):
        caches.entry(kind, tmp_path).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(caches.entry(kind, tmp_path))
    (isolated_home / ".local/state/llmconf").mkdir(parents=True)
    os.mkfifo(isolated_home / ".local/state/llmconf/configs.json")
    r = cli(tmp_path, "apply", "--yes")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.endswith("Apply complete: 6 added, 0 changed, 0 removed (in 2 files).\n")
    r = cli(tmp_path, "git-hook", "uninstall", "repo")
    assert (r.returncode, r.stderr, r.stdout) == (
        0, "", "No llmconf hook in repo/.git/hooks (its post-checkout is not llmconf's: left as it is); nothing to do.\n"
    )
    assert stat.S_ISFIFO(os.lstat(repo / ".git/hooks/post-checkout").st_mode)


def test_a_fifo_as_the_main_checkouts_settings_is_a_doctor_finding(tmp_path, isolated_home):
    from tests.helpers import make_repo

    repo = make_repo(tmp_path, linked=("wt",))
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  wt: p\n", "profiles/p.yaml": GW})
    (repo / ".claude").mkdir()
    os.mkfifo(repo / ".claude/settings.local.json")
    before = tree(tmp_path, isolated_home)
    plan = cli(tmp_path, "plan")
    assert (plan.returncode, plan.stderr) == (0, "")  # Claude Code ignores that file: it changes no plan
    doctor = cli(tmp_path, "doctor")
    assert (doctor.returncode, doctor.stderr) == (1, "")
    assert (
        "  error: repo/.claude/settings.local.json: root settings cannot be read (is a FIFO, not a settings file): "
        "Claude Code ignores the whole file (fix it by hand)"
    ) in doctor.stdout.splitlines()
    assert tree(tmp_path, isolated_home) == before


@pytest.mark.parametrize("where", ["worktrees.yaml", "profiles/p.yaml", "catalog.yaml", "a/.claude/settings.local.json"])
def test_a_symlink_loop_anywhere_llmconf_reads_is_located(tmp_path, run, isolated_home, where):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": "extends: anthropic\n", "a/.claude/x": ""})
    (tmp_path / where).unlink(missing_ok=True)
    os.symlink(os.path.basename(where), tmp_path / where)
    err = (f"llmconf: {where}: cannot read it: too many levels of symbolic links "
           "(a symlink there points at itself, or its chain is too long)")
    before = tree(tmp_path, isolated_home)
    for argv in (("plan",), ("apply", "--yes")):
        r = run(*argv)
        assert (r.code, r.err.splitlines()[0]) == (1, err)
    assert tree(tmp_path, isolated_home) == before


@pytest.mark.parametrize("folder, config", [("profiles", CONFIG), ("shared", "profile_paths: [shared]\n" + CONFIG)])
def test_a_profile_folder_that_is_a_symlink_loop_is_located(tmp_path, run, isolated_home, folder, config):
    write_tree(tmp_path, {"worktrees.yaml": config, "a/.keep": ""})
    os.symlink(folder + "2", tmp_path / folder)
    os.symlink(folder, tmp_path / (folder + "2"))
    before = tree(tmp_path, isolated_home)
    loop = "cannot read it: too many levels of symbolic links (a symlink there points at itself, or its chain is too long)"
    for argv, tail in ((("plan",), ""), (("apply", "--yes"), APPLY_TAIL)):
        r = run(*argv)
        assert (r.code, r.err) == (1, f"llmconf: {folder}/anthropic.yaml: {loop}\n{tail}")
    r = run("validate")
    assert (r.code, r.err) == (1, f"llmconf: {folder}: cannot read this profile folder: too many levels of symbolic links (fix or remove that folder)\n")
    assert tree(tmp_path, isolated_home) == before


def test_a_git_file_whose_gitdir_is_a_symlink_loop_is_passed_over(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees:\n  a: p\n", "profiles/p.yaml": KEYLESS, "a/.git": "gitdir: loop\n"})
    os.symlink("loop2", tmp_path / "a/loop")
    os.symlink("loop", tmp_path / "a/loop2")
    r = run("apply", "--yes")
    assert (r.code, r.err) == (0, "")
    assert json.loads((tmp_path / "a/.claude/settings.local.json").read_text())["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/api"


@pytest.mark.parametrize(
    "entry, err",
    [
        ("worktrees:\n  locked/a: p\n", "llmconf: worktrees.yaml:2: worktree folder locked/a does not exist (create it, or remove the entry)\n"),
        ("repos:\n  locked/a: p\n", "llmconf: worktrees.yaml:2: repo folder locked/a does not exist (clone it there, or remove the entry)\n"),
    ],
)
def test_a_worktree_or_repo_inside_a_folder_that_cannot_be_searched(tmp_path, isolated_home, entry, err):
    write_tree(tmp_path, {"worktrees.yaml": entry, "profiles/p.yaml": GW, "locked/a/.keep": ""})
    as_user = permissions_apply()
    (tmp_path / "locked").chmod(0)
    try:
        for argv, tail in ((("plan",), ""), (("apply", "--yes"), APPLY_TAIL), (("validate",), VALIDATE_TAIL)):
            refused(tmp_path, argv, err + tail, tmp_path, isolated_home, prefix=as_user)
    finally:
        (tmp_path / "locked").chmod(0o755)
