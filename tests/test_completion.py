"""llmconf completion: real bash and real zsh, with the generated script, complete a real config."""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmconf import cli
from llmconf.commands import completion
from llmconf.config.load import shipped_profiles_dir
from tests.conftest import write_tree

SHIPPED = sorted(p.stem for p in shipped_profiles_dir().glob("*.yaml"))
COMMANDS = ["plan", "apply", "rollback", "status", "validate", "models", "cost", "usage", "doctor", "use", "forget", "exec", "activate", "init", "import",
            "git-hook", "schema", "completion", "secret"]  # as --help lists them


def _config_folder(root: Path, worktrees: dict[str, str], profiles: list[str]) -> Path:
    """A config folder at root: worktrees (folder name -> profile, each folder made) and local profiles."""
    declared = "".join(f"  {json.dumps(name)}: {profile}\n" for name, profile in worktrees.items())
    return write_tree(
        root,
        {
            "worktrees.yaml": "worktrees:\n" + declared,
            **{f"{name}/.keep": "" for name in worktrees},
            **{f"profiles/{name}.yaml": "description: mine\n" for name in profiles},
        },
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config folder with two worktrees (one with a space in its name) and a local profile."""
    return _config_folder(tmp_path / "cfg", {"alpha": "anthropic", "my repo": "deepseek"}, ["local-one"])


@pytest.fixture
def shim(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has `llmconf` running this checkout with this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "llmconf"
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} -m llmconf "$@"\n')
    exe.chmod(0o755)
    repo = Path(__file__).resolve().parent.parent
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(repo)}


def _script(run, shell: str, tmp_path: Path) -> Path:
    result = run("completion", shell)
    assert (result.code, result.err) == (0, "")
    path = tmp_path / f"llmconf.{shell}"
    path.write_text(result.out)
    return path


# --- bash -----------------------------------------------------------------------------


def _bash(script: Path, lines: list[str], cwd: Path, env: dict[str, str]) -> list[list[str]]:
    """COMPREPLY for each command line, as bash fills it (the last word is the one completed)."""
    driver = [f"source {script}", "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _llmconf llmconf; printf '%s\\n' \"${COMPREPLY[@]}\" ::end::; }"]
    for line in lines:
        words = line.split(" ")
        driver.append("t " + " ".join("'" + w + "'" for w in words))
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(driver)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    replies = [chunk.strip("\n").split("\n") if chunk.strip("\n") else [] for chunk in out.stdout.split("::end::")[:-1]]
    return [[r for r in reply if r] for reply in replies]


def test_bash_completes_commands_options_and_names(tmp_path, run, config, shim):
    script = _script(run, "bash", tmp_path)
    cases = {
        "llmconf ": COMMANDS,
        "llmconf pl": ["plan"],
        "llmconf plan ": ["alpha", "my\\ repo"],
        "llmconf doctor m": ["my\\ repo"],
        "llmconf use ": sorted(SHIPPED + ["local-one"]),
        "llmconf use de": ["deepseek", "devstral"],
        "llmconf use deepseek ": ["alpha", "my\\ repo"],
        "llmconf cost --baseline lo": ["local-one"],
        "llmconf secret ": ["set", "list", "rm", "get"],
        "llmconf models --sort ": ["name", "price", "context"],
        "llmconf cost --slot ": ["haiku", "sonnet", "opus"],
        "llmconf plan --d": ["--debug", "--detailed-exitcode"],
        "llmconf completion ": ["bash", "zsh"],
    }
    assert dict(zip(cases, _bash(script, list(cases), config, shim))) == cases


def test_bash_follows_dash_c_from_another_folder(tmp_path, run, config, shim):
    script = _script(run, "bash", tmp_path)
    replies = _bash(script, ["llmconf -C cfg status ", "llmconf rollback -C cfg a", "llmconf -C cfg use local"], tmp_path, shim)
    assert replies == [["alpha", "my\\ repo"], ["alpha"], ["local-one"]]


def test_bash_without_a_config_offers_folders_and_shipped_profiles(tmp_path, run, shim):
    script = _script(run, "bash", tmp_path)
    write_tree(tmp_path, {"empty/sub/x": ""})
    replies = _bash(script, ["llmconf plan ", "llmconf use ", "llmconf plan zz"], tmp_path / "empty", shim)
    assert replies == [["sub"], SHIPPED, []]


@pytest.fixture
def odd(tmp_path: Path) -> Path:
    """A config folder with a space in its name, and names a shell would expand or split."""
    return _config_folder(tmp_path / "my cfg", dict.fromkeys(["w$x [1]", "q't", 'say "hi"'], "anthropic"), ["it's", "zed"])


def test_bash_quotes_odd_names(tmp_path, run, odd, shim):
    """Each name is offered as a word that reads back as the name; compgen -W would expand them."""
    script = _script(run, "bash", tmp_path)
    replies = _bash(script, ["llmconf plan ", "llmconf use z", "llmconf use i"], odd, shim)
    assert replies == [["w\\$x\\ \\[1\\]", "q\\'t", 'say\\ \\"hi\\"'], ["zed"], ["it\\'s"]]


class _Terminal:
    """An interactive shell in a pseudo-terminal: type into it, and wait while reading its screen."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True)
        os.close(slave)
        self.screen = b""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, done, deadline: float) -> None:  # type: ignore[no-untyped-def]
        while not done() and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    pass

    def __enter__(self) -> _Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def _bash_tab(script: Path, lines: list[str], cwd: Path, env: dict[str, str], tmp: Path, timeout: float = 40.0) -> list[list[str]]:
    """The words bash runs for each line after Tab is pressed at its end: real readline, real quoting.

    An interactive bash runs in a pseudo-terminal; after the Tab, Ctrl-A puts `show ` in
    front of the completed line and Enter runs it, so `show` logs the words bash parsed.
    """
    log = tmp / "bash-words"
    log.write_bytes(b"")
    rc = tmp / "bashrc"
    rc.write_text(
        f"PS1='$ '\nunset HISTFILE\nsource {shlex.quote(str(script))}\n"
        f"show() {{ printf '%s\\0' \"$@\" ::end:: >> {shlex.quote(str(log))}; }}\n"
    )
    term = _Terminal(["bash", "--noprofile", "--rcfile", str(rc), "-i"], cwd, {**env, "TERM": "dumb", "INPUTRC": os.devnull})

    def records() -> list[list[str]]:
        return [r.strip("\0").split("\0")[1:] for r in log.read_text().split("::end::")[:-1]]

    found: list[list[str]] = []
    with term:
        deadline = time.monotonic() + timeout
        term.wait_for(lambda: b"$ " in term.screen, deadline)
        for line in lines:
            term.type(line.encode() + b"\t\x01show \r")
            term.wait_for(lambda: len(records()) > len(found), min(deadline, time.monotonic() + timeout / 4))
            if len(records()) == len(found):  # an unclosed quote waits for more: cancel the line
                term.type(b"\x03")
                found.append(["<nothing ran: " + term.screen.decode(errors="replace")[-200:] + ">"])
                log.write_text(log.read_text() + "::end::")
            else:
                found.append(records()[-1])
    return found


def test_bash_completes_odd_names_into_a_correct_command_line(tmp_path, run, odd, shim):
    script = _script(run, "bash", tmp_path)
    cases = {
        "llmconf -C my\\ cfg plan w": ["-C", "my cfg", "plan", "w$x [1]"],
        "llmconf -C my\\ cfg status q": ["-C", "my cfg", "status", "q't"],
        "llmconf -C 'my cfg' doctor 's": ["-C", "my cfg", "doctor", 'say "hi"'],  # inside a quote
        'llmconf -C "my cfg" plan "q': ["-C", "my cfg", "plan", "q't"],
        "llmconf -C my\\ cfg use z": ["-C", "my cfg", "use", "zed"],  # it's does not hide zed
        "llmconf -C m\\y\\ c'f'g use it": ["-C", "my cfg", "use", "it's"],
    }
    assert dict(zip(cases, _bash_tab(script, list(cases), tmp_path, shim, tmp_path))) == cases


def test_every_option_of_every_command_is_offered(tmp_path, run, shim):
    """The lists come from the parser, so they cannot drift: check them against it."""
    script = _script(run, "bash", tmp_path)
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, cli.argparse._SubParsersAction))
    lines, expected = [], []
    for name, command in sub.choices.items():
        if name not in COMMANDS:
            continue
        lines.append(f"llmconf {name} -")
        expected.append(sorted(o for a in command._actions if a.help != cli.argparse.SUPPRESS for o in a.option_strings))
    assert [sorted(r) for r in _bash(script, lines, tmp_path, shim)] == expected
    assert "--names" not in expected[COMMANDS.index("completion")]  # the hidden fast path is not offered
    assert len(expected) == len(COMMANDS)


# --- the names fast path ----------------------------------------------------------------


def test_names_are_silent_without_a_config(tmp_path, run):
    for what, names in (("worktrees", ""), ("profiles", "\n".join(SHIPPED) + "\n")):
        result = run("completion", "--names", what)
        assert (result.code, result.out, result.err) == (0, names, "")


def test_names_are_silent_with_a_broken_config(tmp_path, run):
    write_tree(tmp_path, {"worktrees.yaml": "worktrees: [\n", "profiles/mine.yaml": "x: 1\n"})
    result = run("completion", "--names", "worktrees")
    assert (result.code, result.out, result.err) == (0, "", "")


def test_names_of_a_config(run, config):
    result = run("-C", "cfg", "completion", "--names", "worktrees")
    assert (result.code, result.out, result.err) == (0, "alpha\nmy repo\n", "")
    result = run("-C", "cfg", "completion", "--names", "profiles")
    assert result.out.splitlines() == sorted(SHIPPED + ["local-one"])


def test_names_from_a_worktree_after_a_plan(tmp_path, run):
    """Tab inside a worktree finds the config upward, and reads the cache the plan left."""
    cfg = _config_folder(tmp_path / "cfg", {"alpha": "anthropic", "beta": "anthropic"}, [])
    assert run("plan", cwd=cfg).code == 0
    assert len(list((Path(os.environ["XDG_CACHE_HOME"]) / "llmconf").glob("config-*.json"))) == 1
    result = run("completion", "--names", "worktrees", cwd=cfg / "alpha")
    assert (result.code, result.out, result.err) == (0, "alpha\nbeta\n", "")


def test_completion_needs_a_shell(run):
    result = run("completion")
    assert (result.code, result.err) == (1, "llmconf: name a shell: llmconf completion bash, or llmconf completion zsh\n")


def test_hidden_option_stays_out_of_help(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps at the terminal's width
    sub = next(a for a in cli._parser()._actions if isinstance(a, cli.argparse._SubParsersAction))
    text = sub.choices["completion"].format_help()
    lines = text.splitlines()
    assert lines[0] == "usage: llmconf completion [-h] [-C DIR] [--no-color] [--debug] [SHELL]"
    assert "  SHELL       bash or zsh" in lines
    assert "--names" not in text


def test_every_metavar_has_a_completion_kind():
    """A new argument with an unknown metavar fails here until METAVAR_KINDS says what it is."""
    found = completion.nodes()
    assert [n.path for n in found][:2] == ["", "plan"]
    assert {"secret set", "git-hook install"} <= {n.path for n in found}
    assert "git-hook run" in {n.path for n in found}  # listed in git-hook --help, so completed too (issue 13)


# --- zsh ------------------------------------------------------------------------------

ZSH = shutil.which("zsh")
needs_zsh = pytest.mark.skipif(ZSH is None and os.environ.get("CI") != "true", reason="zsh is not installed")


def _zsh(script: Path, line: str, cwd: Path, env: dict[str, str], tmp: Path, before: str = "", timeout: float = 30.0) -> list[str]:
    """The matches zsh's completion system adds when Tab is pressed after `line`.

    An interactive zsh runs in a pseudo-terminal with compinit and the script; compadd is
    wrapped to log each match it adds, and a comppostfuncs hook marks the end.
    """
    log = tmp / "zsh-matches"
    log.write_text("")
    home = tmp / "zdot"
    home.mkdir(exist_ok=True)
    (home / ".zshrc").write_text(
        "PS1='%% '\n"
        f"{before}\n"
        "autoload -Uz compinit && compinit -u -D\n"
        f"source {script}\n"
        "zstyle ':completion:*' list-prompt ''\n"
        "compadd() {\n"
        # calls that only collect (-O -A -D) are compsys's own bookkeeping, not matches
        "  if [[ ${@[1,(i)(-|--)]} == *-[[:alpha:]]#[OAD]* ]]; then builtin compadd \"$@\"; return; fi\n"
        "  local -a __hits\n"
        "  builtin compadd -A __hits \"$@\"\n"
        f"  (( $#__hits )) && print -rl -- $__hits >> {log}\n"
        "  builtin compadd \"$@\"\n"
        "}\n"
        f"_test_done() {{ print -r -- '::done::' >> {log} }}\n"
        "comppostfuncs=(_test_done)\n"
    )
    with _Terminal([ZSH or "zsh", "-d", "-i"], cwd, {**env, "ZDOTDIR": str(home), "TERM": "dumb"}) as term:
        deadline = time.monotonic() + timeout
        term.wait_for(lambda: b"% " in term.screen, deadline)
        term.type(line.encode() + b"\t")
        term.wait_for(lambda: "::done::" in log.read_text(), deadline)
    text = log.read_text()
    assert "::done::" in text, term.screen.decode(errors="replace")[-2000:]
    return list(dict.fromkeys(m for m in text.splitlines() if m != "::done::"))


@needs_zsh
def test_zsh_script_parses(tmp_path, run):
    script = _script(run, "zsh", tmp_path)
    assert script.read_text().startswith("#compdef llmconf\n")
    checked = subprocess.run([ZSH or "zsh", "-n", str(script)], capture_output=True, text=True)
    assert (checked.returncode, checked.stderr) == (0, "")


@needs_zsh
@pytest.mark.parametrize(
    ("line", "matches"),
    [
        ("llmconf ", COMMANDS),
        ("llmconf st", ["status"]),
        ("llmconf plan ", ["alpha", "my\\ repo"]),
        ("llmconf use ", sorted(SHIPPED + ["local-one"])),
        ("llmconf use deepseek ", ["alpha", "my\\ repo"]),
        ("llmconf secret ", ["set", "list", "rm", "get"]),
        ("llmconf models --sort ", ["name", "price", "context"]),
        ("llmconf status --j", ["--json"]),
    ],
)
def test_zsh_completes_commands_options_and_names(tmp_path, run, config, shim, line, matches):
    script = _script(run, "zsh", tmp_path)
    assert _zsh(script, line, config, shim, tmp_path) == matches


@needs_zsh
def test_zsh_follows_dash_c(tmp_path, run, config, shim):
    script = _script(run, "zsh", tmp_path)
    assert _zsh(script, "llmconf -C cfg doctor ", tmp_path, shim, tmp_path) == ["alpha", "my\\ repo"]


@needs_zsh
def test_zsh_installed_in_fpath_autoloads(tmp_path, run, config, shim):
    """`llmconf completion zsh > $fpath[1]/_llmconf` works too, without sourcing anything."""
    funcs = tmp_path / "funcs"
    funcs.mkdir()
    (funcs / "_llmconf").write_text(run("completion", "zsh").out)
    nothing = tmp_path / "nothing.zsh"
    nothing.write_text("")
    # compinit (in _zsh, after `before`) finds '#compdef llmconf' in the folder
    assert _zsh(nothing, "llmconf use lo", config, shim, tmp_path, before=f"fpath=({funcs} $fpath)") == ["local-one"]
