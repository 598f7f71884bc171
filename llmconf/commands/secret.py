"""llmconf secret set|list|rm: the key store. Values go in through stdin and never come out."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmconf.apply.lock import locked
from llmconf.apply.state import state_file
from llmconf.config.discover import resolve
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.secrets.store import SecretStore, check_name
from llmconf.views import done


def run(args: argparse.Namespace, ui: Ui) -> int:
    store = SecretStore(Path(args.file).expanduser() if args.file else None)
    if args.secret_command == "get":
        # Only with -C, which the apiKeyHelper passes when the secret has a `secrets:` source
        # there (render.key_helper_command); without it, the store alone.
        folder = resolve(getattr(args, "config_dir", None), ui.cwd, search=False, required=False)
        if folder is not None:
            from llmconf.session import open_session

            sources = open_session(folder).secrets
            store = SecretStore(store.path, sources.sources, sources.config_dir)
        return _get(store, args.name, ui)
    if args.secret_command == "list":
        for name in store.names():
            ui.out(name)
        return 0
    name = check_name(args.name)
    with locked(state_file().parent):  # read-modify-write of the store
        return _change(store, name, args, ui)


def _get(store: SecretStore, name: str, ui: Ui) -> int:
    """The one way a value comes out: to Claude Code, which runs this as its apiKeyHelper."""
    if getattr(ui.stdout, "isatty", lambda: False)():
        raise LlmconfError(
            "refusing to print a secret to a terminal", hint="this is Claude Code's apiKeyHelper; pipe it if you must"
        )
    value = store.get(check_name(name))
    if value is None:
        raise LlmconfError(f"no secret named '{name}'", store.path, hint=f"run 'llmconf secret set {name}'")
    ui.stdout.write(value)
    ui.stdout.flush()
    return 0


def _change(store: SecretStore, name: str, args: argparse.Namespace, ui: Ui) -> int:
    if args.secret_command == "rm":
        if not store.remove(name):
            raise LlmconfError(f"no secret named '{name}'", store.path, hint="see 'llmconf secret list'")
        ui.out(done.secret_removed(name))
        return 0
    try:
        value = ui.read_secret(f"Value for secret '{name}' (input hidden): ")
    except UnicodeDecodeError:  # stdin read strictly (store.set refuses what it read leniently)
        raise LlmconfError(
            f"the value for secret '{name}' is not valid UTF-8 (not shown); nothing stored", hint="store the key as UTF-8 text"
        ) from None
    if not value:
        raise LlmconfError(f"empty value for secret '{name}'; nothing stored", hint="pipe the value on stdin")
    store.set(name, value)
    ui.out(done.secret_stored(name, store.path))
    return 0
