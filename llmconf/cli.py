"""The command line: argument parsing, dispatch, and the one place errors become exit codes.

Exit codes: 0 success; 1 error (bad input, usage, refused); 2 changes pending (plan with
--detailed-exitcode); 3 internal error (traceback with --debug); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence

from llmconf import __version__

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


#: What other tools (and the guide's scripts) call a command: `llmconf switch` means `use`.
_SYNONYMS = {"switch": "use", "diff": "plan", "show": "status", "check": "doctor", "run": "exec"}
_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")


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
        from llmconf.secrets import looks_like_key, scrub

        self.print_usage(sys.stderr)
        if (m := _INVALID_CHOICE.search(message)) and (hint := _meant(m[1], m[2])):
            message = f"{message} ({hint})"
        if looks_like_key(message):  # `secret set NAME KEY`: the old habit puts a key in argv
            message = scrub(message) + (
                "; a key is never an argument: pipe it in, as in printf %s \"$KEY\" | llmconf secret set NAME"
            )
        self.exit(1, f"llmconf: {message}\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "-C", dest="config_dir", metavar="DIR", default=argparse.SUPPRESS,
        help="config folder holding worktrees.yaml (default: $LLMCONF_CONFIG, else the nearest one upward, "
        "else the one that last applied the worktree you are in)",
    )
    common.add_argument("--no-color", action="store_true", default=argparse.SUPPRESS, help="plain output (NO_COLOR is honoured too)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on internal errors")

    parser = _Parser(
        prog="llmconf",
        description="Declarative LLM backend config for Claude Code: one worktrees.yaml says which "
        "backend profile each worktree uses; plan shows what would change in each "
        ".claude/settings.local.json, apply writes only that.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"llmconf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, epilog: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help, description=help, epilog=epilog, parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    worktree_help = "a worktree path (relative to the current folder) or its name as 'status' shows it; default: all"

    p = command(
        "plan", "show what apply would change, key by key, without writing anything",
        "symbols: + add, ~ change (old -> new), - remove. Secret values show as (sensitive).\n"
        "A linked git worktree whose main checkout's settings.local.json would win (Claude Code\n"
        "2.1.211+) also gets a --settings file outside the repo, for 'llmconf exec' and 'activate'.\n"
        "exit: 0 ok; 1 error; with --detailed-exitcode 0 no changes, 2 changes pending.",
    )
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE", help=worktree_help)
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes (for CI and scripts)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON (format in README.md)")
    p.add_argument("--out", metavar="FILE", help="also save the plan (no secret in it) for 'llmconf apply FILE'")
    p.add_argument("--strict", action="store_true", help="treat lint warnings as errors (exit 1)")

    p = command(
        "apply", "write the planned changes to each worktree's settings file",
        "Shows the plan, asks for 'yes' (or takes --yes), then writes only the files that change,\n"
        "atomically, keeping every key llmconf does not own; each file's previous version is kept\n"
        "for 'llmconf rollback'.\n\n"
        "  llmconf apply PLANFILE   apply a plan saved by 'plan --out' exactly, or refuse (changing\n"
        "                           nothing) if any input or target file changed since",
    )
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE|PLANFILE", help=worktree_help)
    p.add_argument("--yes", "-y", action="store_true", help="apply without asking (needed when stdin is not a terminal)")
    p.add_argument("--strict", action="store_true", help="refuse, writing nothing, when the lint warns")

    p = command(
        "rollback", "put back the files the last apply (or rollback) changed, from their backups",
        "Shows what it would restore as a plan and asks like apply. Backups are kept per file\n"
        "(the last 5 versions) in $XDG_STATE_HOME/llmconf/backups, 0600, outside any repo.\n"
        "A rollback is itself recorded, so a second rollback redoes what the first undid.",
    )
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE", help=worktree_help)
    p.add_argument("--yes", "-y", action="store_true", help="roll back without asking")
    p.add_argument("--list", action="store_true", help="list the kept backups (names, times, sizes; never content)")

    p = command("status", "one row per worktree: profile, backend, model per slot, default model, sync state")
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE", help=worktree_help)
    p.add_argument("--json", action="store_true", help="print the table as JSON")

    p = command(
        "validate", "load and render every profile and worktree; report every problem with file:line",
        "Also lints each worktree against the model catalog (unknown IDs, poor slot fits, unused\n"
        ":exacto, legacy models, unset gateway slots, API keys, deprecated variables): warnings,\n"
        "or errors with --strict.",
    )
    p.add_argument("--strict", action="store_true", help="treat lint warnings as errors (exit 1)")

    p = command(
        "models", "the model catalog: price, context window and the guide's ratings per OpenRouter ID",
        "The catalog ships with llmconf; catalog.yaml in the config folder extends or overrides it by ID.\n"
        "  llmconf models --refresh   update that file's prices, context windows and IDs from\n"
        "                             OpenRouter's model list (ratings kept)",
    )
    p.add_argument("--sort", choices=("name", "price", "context"), default="name", help="row order (default: name)")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    p.add_argument("--refresh", action="store_true", help="update the config folder's catalog.yaml from OpenRouter")
    p.add_argument(
        "--from", dest="source", metavar="URL", help="with --refresh: fetch URL/api/v1/models (default https://openrouter.ai)"
    )

    p = command(
        "cost", "estimated cost of a session per profile, and the saving against a baseline",
        "A session is, by default, the guide's typical one: 50K tokens in and 15K out per call, 10\n"
        "calls, on the model of the slot Claude Code starts on (the profile's default, else opus).\n"
        "An unset slot costs what Claude Code's own model for it costs.\n"
        "examples:\n  llmconf cost                         every profile\n"
        "  llmconf cost deepseek z-ai/glm-4.7   a profile and a model\n"
        "  llmconf cost --slot sonnet --baseline anthropic",
    )
    p.add_argument("names", nargs="*", metavar="PROFILE|MODEL", help="profiles or catalog model IDs (default: every profile)")
    p.add_argument("--input-tokens", type=_count, default=50_000, metavar="N", help="input tokens per call (default 50000)")
    p.add_argument("--output-tokens", type=_count, default=15_000, metavar="N", help="output tokens per call (default 15000)")
    p.add_argument("--calls", type=_count, default=10, metavar="N", help="calls per session (default 10)")
    # target.SLOTS, written out: --help and --version import nothing beyond argparse.
    p.add_argument("--slot", choices=("haiku", "sonnet", "opus"), help="price this slot's model (default: the one a session starts on)")
    p.add_argument("--baseline", metavar="PROFILE|MODEL", help="compare against this (default anthropic/claude-opus-4.5)")
    p.add_argument("--json", action="store_true", help="print the estimates as JSON")

    p = command(
        "doctor", "check each worktree the way Claude Code will read it, and say what to fix",
        "Merges Claude Code's settings layers (managed > --settings > the repository root's local file\n"
        "(2.1.211+) > local > project > user > shell), for the installed Claude Code, and reports\n"
        "what overrides or blocks the profile: backend keys set elsewhere, what a plain 'claude'\n"
        "takes from the main checkout where llmconf delivers through --settings, a managed policy, an\n"
        "availableModels list, a /model choice, a file Claude Code would drop, a key git could commit,\n"
        "and claude sessions still running on old settings. Exit 1 when something must be fixed.",
    )
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE", help=worktree_help)
    p.add_argument("--online", action="store_true", help="also check that each gateway answers (one request per base URL)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")

    p = command(
        "use", "set the profile of worktrees in worktrees.yaml (comments and layout kept)",
        "examples:\n  llmconf use deepseek              the worktree holding the current folder\n"
        "  llmconf use anthropic ../wt-a --apply --yes\n"
        "A path not yet declared is added to worktrees.yaml.",
    )
    p.add_argument("profile", metavar="PROFILE", help="profile name (a file in profiles/, or a shipped one)")
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE", help="default: the innermost declared worktree holding the current folder")
    p.add_argument("--apply", action="store_true", help="apply those worktrees right after")
    p.add_argument("--yes", "-y", action="store_true", help="with --apply: do not ask")

    p = command(
        "exec", "run a command with the current worktree's Claude Code delivery (for scripts, IDEs, CI)",
        "In a worktree whose settings reach Claude Code through its --settings layer (a linked git\n"
        "worktree on Claude Code 2.1.211+, whose main checkout's settings.local.json would win),\n"
        "'claude' gets '--settings FILE'; any other command runs with such a 'claude' first on PATH.\n"
        "Everywhere else the command runs untouched. 'llmconf plan' says which delivery each\n"
        "worktree gets, and why.\n"
        "examples:\n  llmconf exec -- claude\n  llmconf exec -- ./scripts/agent.sh\n"
        "exit: the command's own; 127 when it is not found.",
    )
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND", help="what to run, with its arguments (after --)")

    p = command(
        "activate", "print a shell function that makes a plain 'claude' use its worktree's delivery",
        "Set your shell up once, and a plain 'claude' in a worktree delivered through --settings gets\n"
        "that worktree's file; elsewhere it runs untouched, at no cost (shell built-ins only).\n"
        "install:\n"
        "  bash: echo 'eval \"$(llmconf activate bash)\"' >> ~/.bashrc\n"
        "  zsh:  echo 'eval \"$(llmconf activate zsh)\"' >> ~/.zshrc\n"
        "  fish: echo 'llmconf activate fish | source' >> ~/.config/fish/config.fish",
    )
    p.add_argument("shell", choices=("bash", "zsh", "fish"), metavar="SHELL", help="bash, zsh or fish")

    p = command("init", "start a config here: a commented worktrees.yaml and profiles/ with the shipped profiles")
    p.add_argument("worktrees", nargs="*", metavar="WORKTREE", help="folders to declare (with the 'anthropic' profile)")

    p = command(
        "import", "adopt existing settings files: recognise their backend, declare them, store their keys",
        "Reads each PATH's .claude/settings.local.json (as the guide's switch scripts left it), finds\n"
        "the profile with the same gateway and models (or writes a new one in profiles/), adds the\n"
        "worktree to worktrees.yaml (comments kept) and moves any API key into the secret store,\n"
        "never into a YAML file. Afterwards 'llmconf plan' shows no changes for those worktrees\n"
        "(but an ANTHROPIC_API_KEY: \"\" to add where a file lacked it; import names those).\n"
        "Keys are also read from the guide's key files (~/.config/forgerank/.env.*).\n"
        "examples:\n  llmconf import ../Forgerank ../forgerank-glm\n  llmconf import --dry-run ../wt-*",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="worktree folders to adopt (default: the current folder)")
    p.add_argument(
        "--key-file", action="append", default=[], metavar="FILE",
        help="an env-style key file (NAME_API_KEY=...) to read keys from; repeatable",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be imported; change nothing")

    p = command(
        "git-hook", "keep git worktrees on their declared backend: a post-checkout hook for 'git worktree add'",
        "Claude Code does not copy .claude/settings.local.json into a new worktree. The hook applies\n"
        "the repo's declared profile (a repos: entry in worktrees.yaml) to each worktree git adds.\n"
        "An existing post-checkout hook is kept and still runs first. The hook goes only into the\n"
        "repo's own hooks folder; for a shared or committed one (core.hooksPath), see 'git-hook run --help'.\n"
        "examples:\n  llmconf git-hook install ../Forgerank\n  llmconf git-hook uninstall ../Forgerank",
    )
    hook = p.add_subparsers(dest="hook_command", metavar="ACTION", required=True, parser_class=_Parser)
    for action, text in (("install", "install the post-checkout hook in REPO"), ("uninstall", "remove llmconf's part of REPO's hook")):
        s = hook.add_parser(action, help=text, description=text, parents=[common])
        s.add_argument("repo", metavar="REPO", help="a folder of the git repository (any of its worktrees)")
    s = hook.add_parser(  # what the installed hook calls; not listed
        "run", parents=[common],
        description="What a post-checkout hook calls, with git's three arguments: on 'git worktree add',\n"
        "apply the declared profile to the new worktree. Never fails git; silent outside the\n"
        "repos the config covers. For a hooks folder install refuses (core.hooksPath in the work\n"
        "tree or shared), add this line to its post-checkout yourself:\n"
        "  llmconf -C CONFIG_DIR git-hook run \"$@\"",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("hook_args", nargs="*", metavar="ARG", help="git's post-checkout arguments: old HEAD, new HEAD, flag")

    p = command(
        "schema", "write JSON Schemas of profiles/*.yaml and worktrees.yaml, for editors",
        "Writes profile.schema.json and worktrees.schema.json, generated from llmconf's own models.\n"
        "By default they go to .llmconf/schema/ in the config folder, where 'llmconf init' puts them\n"
        "and where the '# yaml-language-server: $schema=...' first line of its files points: run\n"
        "this after upgrading llmconf to refresh them.",
    )
    p.add_argument("--out", metavar="DIR", help="write them to DIR instead (created if needed)")

    p = command(
        "completion", "print a shell completion script for bash or zsh",
        "The script completes commands, options, profile and worktree names (read from the config\n"
        "when you press Tab; a normal run costs nothing).\n"
        "install:\n"
        "  bash: echo 'eval \"$(llmconf completion bash)\"' >> ~/.bashrc\n"
        "  zsh:  echo 'eval \"$(llmconf completion zsh)\"' >> ~/.zshrc   (after compinit)\n"
        "        or: llmconf completion zsh > \"${fpath[1]}/_llmconf\"",
    )
    p.add_argument("shell", nargs="?", choices=("bash", "zsh"), metavar="SHELL", help="bash or zsh")
    # What the script calls on Tab: names, one a line; silent, and exit 0, when there are none.
    p.add_argument("--names", choices=("profiles", "worktrees"), help=argparse.SUPPRESS)

    p = command(
        "secret", "store API keys outside any repo (0600 file; values are never printed)",
        "examples:\n  printf %s \"$KEY\" | llmconf secret set openrouter\n  llmconf secret list\n"
        "Templates read them with {{ secret('openrouter') }}; LLMCONF_SECRET_OPENROUTER overrides.",
    )
    store = _Parser(add_help=False, parents=[common])
    store.add_argument("--file", metavar="PATH", help="the secrets file (default: $LLMCONF_SECRETS_FILE, else ~/.config/llmconf/secrets.env)")
    secret = p.add_subparsers(dest="secret_command", metavar="ACTION", required=True, parser_class=_Parser)
    s = secret.add_parser("set", help="store a secret read from stdin (or a hidden prompt); never from argv", parents=[store])
    s.add_argument("name", metavar="NAME")
    secret.add_parser("list", help="list stored secret names (never values)", parents=[store])
    s = secret.add_parser("rm", help="remove a stored secret", parents=[store])
    s.add_argument("name", metavar="NAME")
    s = secret.add_parser(
        "get", help="print a secret for Claude Code's apiKeyHelper (key_via: helper); refuses a terminal", parents=[store]
    )
    s.add_argument("name", metavar="NAME")
    return parser


#: Commands whose module name differs from the command ("import" is a Python keyword).
_MODULES = {"import": "import_", "git-hook": "git_hook", "exec": "exec_"}


def _count(text: str) -> int:
    """A whole number of tokens or calls, zero or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is negative")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run llmconf with `argv` (default: sys.argv[1:]); return the exit code."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    from llmconf.console import Ui, wants_color

    ui = Ui()
    ui.color = wants_color(ui.stdout, getattr(args, "no_color", False))
    debug = getattr(args, "debug", False)
    from llmconf.errors import LlmconfError

    try:
        module = importlib.import_module(f"llmconf.commands.{_MODULES.get(args.command, args.command)}")
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
