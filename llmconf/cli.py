"""The command line: the table of commands, the parser built from it, dispatch, and the one
place errors become exit codes.

Exit codes: 0 success; 1 error (bad input, usage, refused); 2 changes pending (plan with
--detailed-exitcode); 3 internal error (traceback with --debug); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable, Sequence

from llmconf import __version__

# Start-up time: `python -X importtime` puts this module, argparse included, at about 3.5 ms,
# typing at 4 ms more and dataclasses (with inspect) at 12 ms. Hence this TYPE_CHECKING, which
# mypy reads as true like typing's own, and plain classes below instead of frozen dataclasses.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

# --- the table ------------------------------------------------------------------------
# Every command, its arguments and its help, as data: _parser() builds argparse from it and
# 'llmconf completion' builds the shell scripts from it, so the two cannot drift. Nothing
# changes the table once built.


def _keep(record: object, given: dict[str, object]) -> None:
    """Set each slot of a record from its __init__'s argument of the same name (what a
    dataclass would write out, without importing dataclasses)."""
    for name in type(record).__slots__:  # type: ignore[attr-defined]
        setattr(record, name, given[name])


class Arg:
    """One argument of a command, in add_argument's terms: Arg("--yes", "-y", help=..., action="store_true")."""

    __slots__ = ("names", "help", "metavar", "nargs", "action", "choices", "type", "default", "dest", "hidden")
    names: tuple[str, ...]
    help: str | None
    metavar: str | None
    nargs: str | None
    action: str | None
    choices: tuple[str, ...] | None
    type: Callable[[str], float] | None
    default: str | float | None
    dest: str | None
    hidden: bool

    def __init__(
        self,
        *names: str,  # "worktrees" for a positional; "--yes", "-y" for an option
        help: str | None = None,
        metavar: str | None = None,  # also what completion offers for the value: see completion.METAVAR_KINDS
        nargs: str | None = None,  # "?", "*" or argparse.REMAINDER
        action: Literal["store_true", "append", "help", "version"] | None = None,  # None: store the value
        choices: tuple[str, ...] | None = None,
        type: Callable[[str], float] | None = None,
        default: str | float | None = None,
        dest: str | None = None,
        hidden: bool = False,  # parsed, but in neither --help nor completion
    ) -> None:
        _keep(self, locals())

    @property
    def takes_value(self) -> bool:
        return self.action in (None, "append")


class Command:
    """A command, or an action of one (secret set): its parser, and its line in the parent's --help."""

    __slots__ = ("name", "help", "epilog", "arguments", "description", "subcommands", "dest", "module")
    name: str
    help: str | None
    epilog: str
    arguments: tuple[Arg, ...]
    description: str | None
    subcommands: tuple[Command, ...]
    dest: str
    module: str | None

    def __init__(
        self,
        name: str,
        help: str | None,  # the line in the parent's --help; None: not listed, nor completed
        epilog: str = "",
        *,
        arguments: tuple[Arg, ...] = (),
        description: str | None = None,  # the text under usage; None: the help line; "": none
        subcommands: tuple[Command, ...] = (),
        dest: str = "",  # with subcommands: the attribute of args that names the one given
        module: str | None = None,  # llmconf.commands.MODULE has its run(args, ui); None: the name, - as _
    ) -> None:
        _keep(self, locals())

    @property
    def all_arguments(self) -> tuple[Arg, ...]:
        """What its parser takes, in order: the arguments of every parser, then its own."""
        return (*EVERY_PARSER, *self.arguments)


#: What every parser takes first. The common options are accepted before and after the
#: command; their default is SUPPRESS so that a command's parser, which has them too, does not
#: overwrite `llmconf -C DIR plan` with its own default.
EVERY_PARSER = (
    Arg("-h", "--help", help="show this help message and exit", action="help"),
    Arg(
        "-C", dest="config_dir", metavar="DIR", default=argparse.SUPPRESS,
        help="config folder holding worktrees.yaml (default: $LLMCONF_CONFIG, else the nearest one upward, "
        "else the one that last applied the worktree you are in)",
    ),
    Arg("--no-color", help="plain output (NO_COLOR is honoured too)", action="store_true", default=argparse.SUPPRESS),
    Arg("--debug", help="show a traceback on internal errors", action="store_true", default=argparse.SUPPRESS),
)


_EXAMPLES = """\
examples:
  llmconf plan                      what would change, in every declared worktree
  llmconf apply --yes               write those changes (only the keys llmconf owns)
  llmconf use openrouter ../wt-a    switch a worktree's profile in worktrees.yaml
  llmconf status                    which backend and models each worktree gets
  llmconf secret set openrouter     store an API key (read from stdin or a hidden prompt)
  llmconf import ../wt-a ../wt-b    adopt settings files a switch script wrote

files:
  worktrees.yaml     which profile each worktree uses, with per-worktree overrides
  profiles/*.yaml    named backends: gateway URL, key, model per slot, extra env
Run 'llmconf COMMAND --help' for each command's options.
"""


def _count(text: str) -> int:
    """A whole number of tokens or calls, zero or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is negative")
    return value


def _seconds(text: str) -> float:
    """A timeout: seconds, more than zero, at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"'{text}' is not more than 0 and at most 3600 seconds")
    return value


_WORKTREE_HELP = "a worktree path (relative to the current folder) or its name as 'status' shows it; default: all"
_WORKTREES = Arg("worktrees", help=_WORKTREE_HELP, metavar="WORKTREE", nargs="*")
_REPO = Arg("repo", help="a folder of the git repository (any of its worktrees)", metavar="REPO")
_SECRETS_FILE = Arg(
    "--file", metavar="PATH", help="the secrets file (default: $LLMCONF_SECRETS_FILE, else ~/.config/llmconf/secrets.env)"
)

COMMANDS = (
    Command(
        "plan", "show what apply would change, key by key, without writing anything",
        "symbols: + add, ~ change (old -> new), - remove. Secret values show as (sensitive).\n"
        "A linked git worktree whose main checkout's settings.local.json would win (Claude Code\n"
        "2.1.211+) also gets a --settings file outside the repo, for 'llmconf exec' and 'activate'.\n"
        "exit: 0 ok; 1 error; with --detailed-exitcode 0 no changes, 2 changes pending.",
        arguments=(
            _WORKTREES,
            Arg("--detailed-exitcode", help="exit 2 when there are changes (for CI and scripts)", action="store_true"),
            Arg("--json", help="print the plan as JSON (format in README.md)", action="store_true"),
            Arg("--out", help="also save the plan (no secret in it) for 'llmconf apply FILE'", metavar="FILE"),
            Arg("--strict", help="treat lint warnings as errors (exit 1)", action="store_true"),
        ),
    ),
    Command(
        "apply", "write the planned changes to each worktree's settings file",
        "Shows the plan, asks for 'yes' (or takes --yes), then writes only the files that change,\n"
        "atomically, keeping every key llmconf does not own; each file's previous version is kept\n"
        "for 'llmconf rollback'.\n\n"
        "  llmconf apply PLANFILE   apply a plan saved by 'plan --out' exactly, or refuse (changing\n"
        "                           nothing) if any input or target file changed since",
        arguments=(
            Arg("worktrees", help=_WORKTREE_HELP, metavar="WORKTREE|PLANFILE", nargs="*"),
            Arg("--yes", "-y", help="apply without asking (needed when stdin is not a terminal)", action="store_true"),
            Arg("--strict", help="refuse, writing nothing, when the lint warns", action="store_true"),
        ),
    ),
    Command(
        "rollback", "put back the files the last apply (or rollback) changed, from their backups",
        "Shows what it would restore as a plan and asks like apply. Backups are kept per file\n"
        "(the last 5 versions) in $XDG_STATE_HOME/llmconf/backups, 0600, outside any repo.\n"
        "A rollback is itself recorded, so a second rollback redoes what the first undid.\n"
        "examples:\n  llmconf rollback --list\n  llmconf rollback --to 20261205T101500.123456Z   back to before that apply",
        arguments=(
            _WORKTREES,
            Arg("--yes", "-y", help="roll back without asking", action="store_true"),
            Arg(
                "--to", metavar="ID",
                help="put the files back as they were before apply ID (any kept backup: see --list), not the last one",
            ),
            Arg("--list", help="list the kept backups (names, times, sizes; never content)", action="store_true"),
        ),
    ),
    Command(
        "status", "one row per worktree: profile, backend, model per slot, default model, sync state",
        "On a terminal the table fits its width ($COLUMNS when set): a gateway shows as its host and\n"
        "model IDs without their vendor, then the slot columns go (fable, haiku, opus, sonnet), then\n"
        "the cost and the backend; a last line says what was left out. A pipe gets every column.",
        arguments=(
            _WORKTREES,
            Arg("--wide", help="every column in full, however wide the terminal", action="store_true"),
            Arg("--json", help="print the table as JSON", action="store_true"),
        ),
    ),
    Command(
        "validate", "load and render every profile and worktree; report every problem with file:line",
        "Also lints each worktree against the model catalog (unknown IDs, poor slot fits, unused\n"
        ":exacto, legacy models, unset gateway slots, API keys, deprecated variables): warnings,\n"
        "or errors with --strict (or strict: true in worktrees.yaml). Each shows its rule code;\n"
        "'# noqa: CODE reason' at the warning's line accepts it there.",
        arguments=(Arg("--strict", help="treat lint warnings as errors (exit 1)", action="store_true"),),
    ),
    Command(
        "models", "the model catalog: price, context window and the guide's ratings per OpenRouter ID",
        "The catalog ships with llmconf; catalog.yaml in the config folder extends or overrides it by ID.\n"
        "  llmconf models --refresh   update that file's prices, context windows and IDs from\n"
        "                             OpenRouter's model list (ratings kept)",
        arguments=(
            Arg("--sort", help="row order (default: name)", choices=("name", "price", "context"), default="name"),
            Arg("--json", help="print the catalog as JSON", action="store_true"),
            Arg("--refresh", help="update the config folder's catalog.yaml from OpenRouter", action="store_true"),
            Arg(
                "--from", dest="source", metavar="URL",
                help="with --refresh: fetch URL/api/v1/models (default https://openrouter.ai)",
            ),
        ),
    ),
    Command(
        "cost", "estimated cost of a session per profile, and the saving against a baseline",
        "A session is, by default, the guide's typical one: 50K tokens in and 15K out per call, 10\n"
        "calls, on the model of the slot Claude Code starts on (the profile's default, else opus).\n"
        "An unset slot costs what Claude Code's own model for it costs.\n"
        "examples:\n  llmconf cost                         every profile\n"
        "  llmconf cost deepseek z-ai/glm-4.7   a profile and a model\n"
        "  llmconf cost --slot sonnet --baseline anthropic",
        arguments=(
            Arg("names", help="profiles or catalog model IDs (default: every profile)", metavar="PROFILE|MODEL", nargs="*"),
            Arg("--input-tokens", help="input tokens per call (default 50000)", metavar="N", type=_count, default=50_000),
            Arg("--output-tokens", help="output tokens per call (default 15000)", metavar="N", type=_count, default=15_000),
            Arg("--calls", help="calls per session (default 10)", metavar="N", type=_count, default=10),
            # target.SLOTS, written out: --help and --version import nothing beyond argparse.
            Arg("--slot", help="price this slot's model (default: the one a session starts on)", choices=("haiku", "sonnet", "opus")),
            Arg("--baseline", help="compare against this (default anthropic/claude-opus-4.5)", metavar="PROFILE|MODEL"),
            Arg("--json", help="print the estimates as JSON", action="store_true"),
        ),
    ),
    Command(
        "usage", "what each worktree really spent: tokens and cost from Claude Code's transcripts",
        "Reads ~/.claude/projects (or $CLAUDE_CONFIG_DIR/projects), attributes each session to the\n"
        "declared worktree holding its folder, and prices its tokens (cache reads and writes too)\n"
        "from the catalog; a model the catalog cannot price shows as ?, never as $0. Lists sessions\n"
        "that ran on a model their worktree's profile does not map. A re-run reads only new lines.\n"
        "examples:\n  llmconf usage                              every worktree, all time\n"
        "  llmconf usage --by day --since 2026-01-01  a row per day\n"
        "  llmconf usage ../wt-a --what-if deepseek   the same tokens at that profile's prices",
        arguments=(
            _WORKTREES,
            Arg("--since", help="from this day on (YYYY-MM-DD, local time)", metavar="DATE"),
            Arg("--until", help="up to this day, included (YYYY-MM-DD)", metavar="DATE"),
            Arg("--by", help="what each row is: a worktree, model, day or session (default: worktree)", choices=("worktree", "model", "day", "session"), default="worktree"),
            Arg(
                "--what-if", dest="what_if", metavar="PROFILE", action="append",
                help="also price the same tokens, slot by slot, as if the worktree had used PROFILE (repeatable)",
            ),
            Arg("--json", help="print the report as JSON", action="store_true"),
        ),
    ),
    Command(
        "doctor", "check each worktree the way Claude Code will read it, and say what to fix",
        "Merges Claude Code's settings layers (managed > --settings > the repository root's local file\n"
        "(2.1.211+) > local > project > user > shell), for the installed Claude Code, and reports\n"
        "what overrides or blocks the profile: backend keys set elsewhere, what a plain 'claude'\n"
        "takes from the main checkout where llmconf delivers through --settings, a managed policy, an\n"
        "availableModels list, a /model choice, a file Claude Code would drop, a key git could commit,\n"
        "and claude sessions still running on old settings.\n"
        "--online also tries each slot through the gateway, key and model Claude Code will use there:\n"
        "the key (OpenRouter: its label, limit and credit left), the model in the gateway's list, and\n"
        "one Messages call with a tool definition and max_tokens 1 (its cost is said first).\n"
        "exit codes: 0 nothing to fix; 1 an error, or (--online) a slot that cannot work.",
        arguments=(
            _WORKTREES,
            Arg("--online", help="also send one tiny request per slot, as Claude Code would, and report each", action="store_true"),
            Arg("--timeout", help="with --online: seconds each request may take (default 20)", metavar="SECONDS", type=_seconds, default=20),
            Arg("--json", help="print the findings as JSON", action="store_true"),
        ),
    ),
    Command(
        "use", "set the profile of worktrees in worktrees.yaml (comments and layout kept)",
        "examples:\n  llmconf use deepseek              the worktree holding the current folder\n"
        "  llmconf use anthropic ../wt-a --apply --yes\n"
        "  llmconf use deepseek --reset      DeepSeek in every slot: the worktree's own overrides go\n"
        "  llmconf use openrouter --model sonnet=z-ai/glm-4.7   one slot, the rest from the profile\n"
        "A path not yet declared is added to worktrees.yaml. Without --reset a worktree keeps its\n"
        "own overrides (models, env ...), and use says which.",
        arguments=(
            Arg("profile", help="profile name (a file in profiles/, or a shipped one)", metavar="PROFILE"),
            Arg("worktrees", help="default: the innermost declared worktree holding the current folder", metavar="WORKTREE", nargs="*"),
            Arg("--reset", help="drop the worktrees' own overrides: the profile alone decides", action="store_true"),
            Arg(
                "--model", metavar="SLOT=ID", action="append",
                help="set one slot's model for these worktrees (repeatable): --model sonnet=z-ai/glm-4.7",
            ),
            Arg("--apply", help="apply those worktrees right after", action="store_true"),
            Arg("--yes", "-y", help="with --apply: do not ask", action="store_true"),
        ),
    ),
    Command(
        "forget", "remove worktrees from worktrees.yaml (comments and layout kept), even when their folder is gone",
        "The settings file of a worktree that still exists keeps what llmconf wrote there: run\n"
        "'llmconf use anthropic WORKTREE --apply' first to clear it. A worktree found through\n"
        "repos: goes with its repos: entry, not on its own.",
        arguments=(Arg("worktrees", help="a worktree path or its name as 'status' shows it", metavar="WORKTREE", nargs="+"),),
    ),
    Command(
        "exec", "run a command with the current worktree's Claude Code delivery (for scripts, IDEs, CI)",
        "In a worktree whose settings reach Claude Code through its --settings layer (a linked git\n"
        "worktree on Claude Code 2.1.211+, whose main checkout's settings.local.json would win),\n"
        "'claude' gets '--settings FILE'; any other command runs with such a 'claude' first on PATH.\n"
        "Everywhere else the command runs untouched. 'llmconf plan' says which delivery each\n"
        "worktree gets, and why.\n"
        "examples:\n  llmconf exec -- claude\n  llmconf exec -- ./scripts/agent.sh\n"
        "exit: the command's own; 127 when it is not found.",
        arguments=(
            Arg("argv", help="what to run, with its arguments (after --)", metavar="COMMAND", nargs=argparse.REMAINDER),
        ),
        module="exec_",
    ),
    Command(
        "activate", "print a shell function that makes a plain 'claude' use its worktree's delivery",
        "Set your shell up once, and a plain 'claude' in a worktree delivered through --settings gets\n"
        "that worktree's file; elsewhere it runs untouched, at no cost (shell built-ins only).\n"
        "install:\n"
        "  bash: echo 'eval \"$(llmconf activate bash)\"' >> ~/.bashrc\n"
        "  zsh:  echo 'eval \"$(llmconf activate zsh)\"' >> ~/.zshrc\n"
        "  fish: echo 'llmconf activate fish | source' >> ~/.config/fish/config.fish",
        arguments=(Arg("shell", help="bash, zsh or fish", metavar="SHELL", choices=("bash", "zsh", "fish")),),
    ),
    Command(
        "init", "start a config here: a commented worktrees.yaml and profiles/ with the shipped profiles",
        arguments=(Arg("worktrees", help="folders to declare, each adopted as 'llmconf import' adopts it", metavar="WORKTREE", nargs="*"),),
    ),
    Command(
        "import", "adopt existing settings files: recognise their backend, declare them, store their keys",
        "Reads each PATH's .claude/settings.local.json (as the guide's switch scripts left it), finds\n"
        "the profile with the same gateway and models (or writes a new one in profiles/), adds the\n"
        "worktree to worktrees.yaml (comments kept) and moves any API key into the secret store,\n"
        "never into a YAML file. Afterwards 'llmconf plan' shows no changes for those worktrees\n"
        "(but an ANTHROPIC_API_KEY: \"\" to add where a file lacked it; import names those).\n"
        "Keys are also read from the guide's key files (~/.config/forgerank/.env.*).\n"
        "examples:\n  llmconf import ../Forgerank ../forgerank-glm\n  llmconf import --dry-run ../wt-*",
        arguments=(
            Arg("paths", help="worktree folders to adopt (default: the current folder)", metavar="PATH", nargs="*"),
            Arg(
                "--key-file", action="append", metavar="FILE",
                help="an env-style key file (NAME_API_KEY=...) to read keys from; repeatable",
            ),
            Arg("--dry-run", help="say what would be imported; change nothing", action="store_true"),
        ),
        module="import_",  # import is a keyword
    ),
    Command(
        "git-hook", "keep git worktrees on their declared backend: a post-checkout hook for 'git worktree add'",
        "Claude Code does not copy .claude/settings.local.json into a new worktree. The hook applies\n"
        "the repo's declared profile (a repos: entry in worktrees.yaml) to each worktree git adds.\n"
        "An existing post-checkout hook is kept and still runs first. The hook goes only into the\n"
        "repo's own hooks folder; for a shared or committed one (core.hooksPath), see 'git-hook run --help'.\n"
        "examples:\n  llmconf git-hook install ../Forgerank\n  llmconf git-hook uninstall ../Forgerank",
        dest="hook_command",
        subcommands=(
            Command("install", "install the post-checkout hook in REPO", arguments=(_REPO,)),
            Command("uninstall", "remove llmconf's part of REPO's hook", arguments=(_REPO,)),
            Command(
                "run", "what the installed hook calls; add it to a shared hooks folder yourself (see --help)",
                description="What a post-checkout hook calls, with git's three arguments: on 'git worktree add',\n"
                "apply the declared profile to the new worktree. Never fails git; silent outside the\n"
                "repos the config covers. For a hooks folder install refuses (core.hooksPath in the work\n"
                "tree or shared), add this line to its post-checkout yourself:\n"
                "  llmconf -C CONFIG_DIR git-hook run \"$@\"",
                arguments=(Arg("hook_args", help="git's post-checkout arguments: old HEAD, new HEAD, flag", metavar="ARG", nargs="*"),),
            ),
        ),
    ),
    Command(
        "schema", "write JSON Schemas of profiles/*.yaml and worktrees.yaml, for editors",
        "Writes profile.schema.json and worktrees.schema.json, generated from llmconf's own models.\n"
        "By default they go to .llmconf/schema/ in the config folder, where 'llmconf init' puts them\n"
        "and where the '# yaml-language-server: $schema=...' first line of its files points: run\n"
        "this after upgrading llmconf to refresh them.",
        arguments=(Arg("--out", help="write them to DIR instead (created if needed)", metavar="DIR"),),
    ),
    Command(
        "completion", "print a shell completion script for bash or zsh",
        "The script completes commands, options, profile and worktree names (read from the config\n"
        "when you press Tab; a normal run costs nothing).\n"
        "install:\n"
        "  bash: echo 'eval \"$(llmconf completion bash)\"' >> ~/.bashrc\n"
        "  zsh:  echo 'eval \"$(llmconf completion zsh)\"' >> ~/.zshrc   (after compinit)\n"
        "        or: llmconf completion zsh > \"${fpath[1]}/_llmconf\"",
        arguments=(
            Arg("shell", help="bash or zsh", metavar="SHELL", nargs="?", choices=("bash", "zsh")),
            # What the script calls on Tab: names, one a line; silent, and exit 0, when there are none.
            Arg("--names", choices=("profiles", "worktrees"), hidden=True),
        ),
    ),
    Command(
        "secret", "store API keys outside any repo (0600 file; values are never printed)",
        "examples:\n  printf %s \"$KEY\" | llmconf secret set openrouter\n  llmconf secret list\n"
        "Templates read them with {{ secret('openrouter') }}; LLMCONF_SECRET_OPENROUTER overrides.",
        dest="secret_command",
        subcommands=(  # description="": their --help has never had one
            Command(
                "set", "store a secret read from stdin (or a hidden prompt); never from argv", description="",
                arguments=(_SECRETS_FILE, Arg("name", metavar="NAME")),
            ),
            Command("list", "list stored secret names (never values)", description="", arguments=(_SECRETS_FILE,)),
            Command("rm", "remove a stored secret", description="", arguments=(_SECRETS_FILE, Arg("name", metavar="NAME"))),
            Command(
                "get", "print a secret for Claude Code's apiKeyHelper (key_via: helper); refuses a terminal", description="",
                arguments=(_SECRETS_FILE, Arg("name", metavar="NAME")),
            ),
        ),
    ),
)

#: llmconf itself: the parser the commands hang from.
LLMCONF = Command(
    "llmconf", None, _EXAMPLES,
    description="Declarative LLM backend config for Claude Code: one worktrees.yaml says which "
    "backend profile each worktree uses; plan shows what would change in each "
    ".claude/settings.local.json, apply writes only that.",
    arguments=(Arg("--version", help="show program's version number and exit", action="version"),),
    subcommands=COMMANDS,
    dest="command",
)


# --- the parser -----------------------------------------------------------------------

#: What other tools (and the guide's scripts) call a command: `llmconf switch` means `use`.
_SYNONYMS = {"switch": "use", "diff": "plan", "show": "status", "check": "doctor", "run": "exec"}
_INVALID_CHOICE = r"invalid choice: '([^']*)' \(choose from (.*)\)$"  # compiled only for a usage error


def _meant(word: str, choices: str) -> str | None:
    """`did you mean 'use'?` for a synonym or a typo of one of argparse's choices."""
    from llmconf.errors import did_you_mean

    names = re.findall(r"'([^']*)'", choices)
    if _SYNONYMS.get(word) in names:
        return f"did you mean '{_SYNONYMS[word]}'?"
    return did_you_mean(word, names)


class _Parser(argparse.ArgumentParser):
    # Usage errors exit 1, not argparse's 2: 2 means "changes pending" to --detailed-exitcode.
    def error(self, message: str) -> None:  # type: ignore[override]
        from llmconf.secrets.mask import looks_like_key, scrub

        self.print_usage(sys.stderr)
        if (m := re.search(_INVALID_CHOICE, message)) and (hint := _meant(m[1], m[2])):
            message = f"{message} ({hint})"
        elif message.endswith("required: ACTION") and (sub := _subparsers(self)) is not None:
            message += f" (one of: {', '.join(sub.choices)}; 'llmconf {self.prog.split(' ', 1)[-1]} --help' says more)"
        if looks_like_key(message):  # `secret set NAME KEY`: the old habit puts a key in argv
            message = scrub(message) + (
                "; a key is never an argument: pipe it in, as in printf %s \"$KEY\" | llmconf secret set NAME"
            )
        self.exit(1, f"llmconf: {message}\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes one for every add_argument (to check its metavar), and its own asks
        # shutil for the width: the same width, as the help cache's key finds it.
        from llmconf.replay import terminal_columns

        return self.formatter_class(prog=self.prog, width=terminal_columns() - 2)  # type: ignore[call-arg]


def _subparsers(parser: argparse.ArgumentParser) -> Any:
    """A parser's subcommands (argparse's _SubParsersAction), or None."""
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """argv parsed; an argument no command knows is reported with the usage of the command it
    was given to (`llmconf plan --bogus` shows plan's usage, not llmconf's)."""
    # Only the command given gets its arguments (building every command's took longer than a
    # cached plan): argparse runs the parser of that command alone, so the result is the same.
    # Where the first word that names a command is not the command argparse finds (it was an
    # option's value, say), the whole parser parses again.
    guess = _command_in(sys.argv[1:] if argv is None else argv)
    parser = _parser(guess)
    args, extra = parser.parse_known_args(argv)
    if args.command != guess:
        parser = _parser()
        args, extra = parser.parse_known_args(argv)
    if extra:
        chosen = parser
        while (sub := _subparsers(chosen)) is not None and getattr(args, sub.dest, None) in sub.choices:
            chosen = sub.choices[getattr(args, sub.dest)]
        chosen.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _command_in(argv: Sequence[str]) -> str | None:
    """The command argv names: its first word that is not an option or a top-level option's value."""
    takes = {name for arg in LLMCONF.all_arguments if arg.takes_value for name in arg.names if name.startswith("-")}
    value = False
    for word in argv:
        if value:
            value = False
        elif word == "--":
            return None
        elif word.startswith("-"):
            value = word in takes
        else:
            return word if any(c.name == word for c in COMMANDS) else None
    return None


_EVERY = "\0every"  # _parser's default: every command's arguments


def _add(parser: argparse.ArgumentParser, command: Command, only: str | None = _EVERY) -> None:
    """Give `parser` the arguments and subcommands of `command`, recursively (for the top
    level's commands, only those of `only` when it is given: the others are listed, empty)."""
    for arg in command.all_arguments:
        options: dict[str, Any] = {"help": argparse.SUPPRESS if arg.hidden else arg.help}
        for key in ("metavar", "nargs", "action", "choices", "type", "default", "dest"):
            if (value := getattr(arg, key)) is not None:
                options[key] = value
        if arg.action == "version":
            options["version"] = f"llmconf {__version__}"
        elif arg.action == "append":  # commands get [] when it is not given, not None
            options.setdefault("default", [])
        parser.add_argument(*arg.names, **options)
    if not command.subcommands:
        return
    top = command is LLMCONF
    sub = parser.add_subparsers(
        # llmconf alone prints its help; a command alone (git-hook, secret) is a usage error.
        dest=command.dest, metavar="COMMAND" if top else "ACTION", required=not top, parser_class=_Parser,
    )
    for child in command.subcommands:
        listed: dict[str, Any] = {} if child.help is None else {"help": child.help}  # any help=, even None, lists it
        description = child.help if child.description is None else child.description
        child_parser = sub.add_parser(
            child.name, **listed, description=description or None, epilog=child.epilog or None, add_help=False,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if only == _EVERY or child.name == only:
            _add(child_parser, child)


def _parser(only: str | None = _EVERY) -> argparse.ArgumentParser:
    """The argparse parser of the table; with `only`, the arguments of that command alone (or
    of none, for None)."""
    parser = _Parser(
        prog=LLMCONF.name, description=LLMCONF.description, epilog=LLMCONF.epilog, add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add(parser, LLMCONF, only)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run llmconf with `argv` (default: sys.argv[1:]); return the exit code."""
    return run(_parse(argv))


def run(args: argparse.Namespace) -> int:
    """Run the command `args` names (as _parse made them); return the exit code."""
    if args.command is None:
        _parser().print_help()
        return 0
    from llmconf.console import Ui, wants_color

    ui = Ui()
    ui.color = wants_color(ui.stdout, getattr(args, "no_color", False))
    debug = getattr(args, "debug", False)
    from llmconf.errors import LlmconfError

    command = next(c for c in COMMANDS if c.name == args.command)
    try:
        module = importlib.import_module(f"llmconf.commands.{command.module or command.name.replace('-', '_')}")
        return int(module.run(args, ui))
    except LlmconfError as e:
        ui.error(e)
        return 1
    except KeyboardInterrupt:
        ui.stderr.write("llmconf: interrupted\n")
        return 130
    except Exception as e:  # the one place an unexpected error is caught
        if debug:
            import traceback

            traceback.print_exc()
        else:
            ui.stderr.write(f"llmconf: internal error: {e.__class__.__name__} (run with --debug for a traceback)\n")
        return 3
