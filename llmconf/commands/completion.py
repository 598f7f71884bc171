"""llmconf completion: bash and zsh completion scripts, generated from the command table.

The script is static text, so a normal run pays nothing for it. Commands and options come
from cli.LLMCONF, the table the parser is built from, so they cannot drift from the real CLI.
The part of each script that does not depend on the commands is a file in llmconf/shell/.
Profile and worktree names change with the config: the script asks for them on Tab with
the hidden `llmconf completion --names profiles|worktrees`, which prints one name a line
and stays silent (exit 0, nothing printed) when there is no config or it is broken.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llmconf import __version__
from llmconf.cli import LLMCONF, Arg, Command
from llmconf.console import Ui
from llmconf.records import dataclass, field

#: What each metavar's value is, as completion kinds: a word of the metavar (split on |)
#: maps to kinds; "" means nothing to offer (free text). An unknown word is an error, so a
#: new argument gets a decision here (tests/test_completion.py walks the whole table).
METAVAR_KINDS: dict[str, tuple[str, ...]] = {
    "WORKTREE": ("worktrees",),
    "PROFILE": ("profiles",),
    "PLANFILE": ("files",),
    "FILE": ("files",),
    "PATH": ("files",),  # a file (secret --file) or a folder (import): files offers both
    "DIR": ("dirs",),
    "REPO": ("dirs",),
    "MODEL": (),
    "SLOT=ID": (),
    "ID": (),  # rollback --to: an apply id from --list  # use --model sonnet=z-ai/glm-4.7: a slot and any model ID
    "NAME": (),
    "DATE": (),  # usage --since/--until: a day
    "URL": (),
    "N": (),
    "SECONDS": (),
    "ARG": (),
    "COMMAND": (),  # exec: any program, with its own arguments
    "SHELL": (),
}


@dataclass
class Node:
    """One (sub)command: its listed subcommands, options and positional arguments."""

    path: str  # "" for llmconf itself, "secret set" for a nested one
    subs: list[tuple[str, str]] = field(default_factory=list)  # (name, help)
    options: list[tuple[str, str]] = field(default_factory=list)  # (option string, help)
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # option -> kinds of its value
    positionals: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)  # (kinds, repeats)


def _kinds(arg: Arg) -> tuple[str, ...]:
    if arg.choices is not None:
        return ("choices=" + ",".join(arg.choices),)
    metavar = arg.metavar or ""
    kinds: list[str] = []
    for word in metavar.split("|"):
        if word not in METAVAR_KINDS:
            raise ValueError(f"completion does not know what {metavar!r} of {'/'.join(arg.names)} is: add it to METAVAR_KINDS")
        kinds.extend(k for k in METAVAR_KINDS[word] if k not in kinds)
    return tuple(kinds)


def nodes(command: Command = LLMCONF, path: str = "") -> list[Node]:
    """Every command reachable from `command`, depth first; unlisted ones (no help) left out."""
    node = Node(path)
    found = [node]
    for arg in command.all_arguments:
        if arg.hidden:
            continue
        if arg.names[0].startswith("-"):
            for option in arg.names:
                node.options.append((option, arg.help or ""))
                if arg.takes_value:
                    node.values[option] = _kinds(arg)
        else:
            node.positionals.append((_kinds(arg), arg.nargs in ("*", "+")))
    for sub in command.subcommands:
        if sub.help is not None:  # only the subcommands --help lists
            node.subs.append((sub.name, sub.help))
            found.extend(nodes(sub, f"{path} {sub.name}".strip()))
    return found


# --- bash -----------------------------------------------------------------------------


def _engine(name: str) -> str:
    """The part of a script that reads the generated tables: shell code, kept in a shell file
    (so an editor, bash -n and shellcheck read it as one) and printed as it is."""
    return (Path(__file__).resolve().parent.parent / "shell" / name).read_text()


def _bash_word(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _lookups(tree: list[Node], reply: str) -> list[str]:
    """_llmconf_optarg and _llmconf_pos, shared by both shells: bash answers with `echo `
    (the caller captures it), zsh with `REPLY=` (no subshell on each Tab)."""
    said = "" if reply == "echo " else reply
    out = [f"_llmconf_optarg() {{  # COMMAND OPTION: {said}what its value is; fails for a flag", '    case "$1 $2" in']
    out += [f"        {_bash_word(f'{n.path} {o}')}) {reply}{_bash_word(' '.join(k))} ;;" for n in tree for o, k in n.values.items()]
    out += ["        *) return 1 ;;", "    esac", "}", "", f"_llmconf_pos() {{  # COMMAND N: {said}what its Nth argument is", "    case $1 in"]
    for n in tree:
        if not n.positionals:
            continue
        out += [f"        {_bash_word(n.path)})", "            case $2 in"]
        for i, (kinds, repeats) in enumerate(n.positionals):
            out.append(f"                {'*' if repeats else i}) {reply}{_bash_word(' '.join(kinds))} ;;")
            if repeats:  # a repeating argument takes every word from here on
                break
        out.append("            esac ;;")
    return [*out, "    esac", "}"]


def bash_script() -> str:
    """The bash completion script."""
    tree = nodes()
    out = [
        f"# llmconf {__version__} bash completion, generated by 'llmconf completion bash'.",
        "# Install: eval \"$(llmconf completion bash)\" in ~/.bashrc",
        "",
        "_llmconf_subs() {  # COMMAND: its subcommands",
        "    case $1 in",
    ]
    out += [f"        {_bash_word(n.path)}) echo {_bash_word(' '.join(s for s, _ in n.subs))} ;;" for n in tree if n.subs]
    out += ["    esac", "}", "", "_llmconf_opts() {  # COMMAND: its options", "    case $1 in"]
    out += [f"        {_bash_word(n.path)}) echo {_bash_word(' '.join(o for o, _ in n.options))} ;;" for n in tree]
    out += ["    esac", "}", "", *_lookups(tree, "echo ")]
    return "\n".join(out) + "\n\n" + _engine("completion.bash")


# --- zsh ------------------------------------------------------------------------------


def _zsh_item(name: str, help: str) -> str:
    return _bash_word(f"{name.replace(':', chr(92) + ':')}:{help}")


def zsh_script() -> str:
    """The zsh completion script (sourced, or installed in $fpath as _llmconf)."""
    tree = nodes()
    out = [
        "#compdef llmconf",
        f"# llmconf {__version__} zsh completion, generated by 'llmconf completion zsh'.",
        "# Install: eval \"$(llmconf completion zsh)\" in ~/.zshrc, or save it as _llmconf in a $fpath folder.",
        "",
        "_llmconf_spec() {  # COMMAND: set subs and opts (name:help) of the caller",
        "    case $1 in",
    ]
    for n in tree:
        out.append(f"        {_bash_word(n.path)})")
        if n.subs:
            out.append("            subs=(" + " ".join(_zsh_item(s, h) for s, h in n.subs) + ")")
        out.append("            opts=(" + " ".join(_zsh_item(o, h) for o, h in n.options) + ") ;;")
    out += ["    esac", "}", "", *_lookups(tree, "REPLY=")]
    return "\n".join(out) + "\n\n" + _engine("completion.zsh")


# --- names ----------------------------------------------------------------------------


def names(what: str, config_dir: str | None, cwd: Path) -> list[str]:
    """Profile or worktree names of the config, for the script; [] when there is none."""
    # Not session.open_for: it imports the secret store and reads the state file, neither of
    # which a Tab needs.
    from llmconf.config import cache
    from llmconf.config.discover import resolve
    from llmconf.config.load import load_config, shipped_profiles_dir
    from llmconf.config.profiles import Profiles

    try:
        folder = resolve(config_dir, cwd)
        hit = cache.load(folder)  # no YAML or pydantic when the config did not change
        config = hit[0] if hit else load_config(folder)
    except Exception:  # no config, or a broken one: complete what is certain, say nothing
        return Profiles((shipped_profiles_dir(),)).names() if what == "profiles" else []
    if what == "worktrees":
        return list(dict.fromkeys(d.name for d in config.worktrees))
    return Profiles(config.profile_dirs).names()


def run(args: argparse.Namespace, ui: Ui) -> int:
    if args.names:
        try:
            found = names(args.names, getattr(args, "config_dir", None), ui.cwd)
        except Exception:  # Tab must never print an error into the command line
            found = []
        if found:
            ui.out("\n".join(found))
        return 0
    from llmconf.errors import LlmconfError

    if args.shell is None:
        raise LlmconfError("name a shell: llmconf completion bash, or llmconf completion zsh")
    ui.stdout.write(bash_script() if args.shell == "bash" else zsh_script())
    return 0
