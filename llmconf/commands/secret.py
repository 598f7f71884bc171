"""llmconf secret set|list|rm: the key store. Values go in through stdin and never come out."""

from __future__ import annotations

import argparse

from llmconf.errors import LlmconfError
from llmconf.lock import locked
from llmconf.secrets import SecretStore, check_name
from llmconf.state import state_file
from llmconf.ui import Ui


def run(args: argparse.Namespace, ui: Ui) -> int:
    store = SecretStore()
    if args.secret_command == "list":
        for name in store.names():
            ui.out(name)
        return 0
    name = check_name(args.name)
    with locked(state_file().parent):  # read-modify-write of the store
        return _change(store, name, args, ui)


def _change(store: SecretStore, name: str, args: argparse.Namespace, ui: Ui) -> int:
    if args.secret_command == "rm":
        if not store.remove(name):
            raise LlmconfError(f"no secret named '{name}'", store.path, hint="see 'llmconf secret list'")
        ui.out(f"Removed secret '{name}'.")
        return 0
    value = ui.read_secret(f"Value for secret '{name}' (input hidden): ")
    if not value:
        raise LlmconfError(f"empty value for secret '{name}'; nothing stored", hint="pipe the value on stdin")
    store.set(name, value)
    ui.out(f"Stored secret '{name}' in {store.path} (0600).")
    return 0
