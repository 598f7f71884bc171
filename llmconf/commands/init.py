"""llmconf init [WORKTREE...]: a starter worktrees.yaml and the shipped profiles, in one command.

Each worktree named is adopted as `llmconf import` adopts it (adoption.py): one a switch
script left on a gateway is declared as that backend, its key moved to the secret store, so
the first plan changes nothing there. If any cannot be adopted, init takes back every file it
wrote and says why.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from llmconf import fs
from llmconf.config.discover import resolve
from llmconf.config.load import CONFIG_FILE, PROFILES_DIR, shipped_profiles_dir, user_path
from llmconf.config.schema import PROFILE_SCHEMA, SCHEMA_DIR, WORKTREES_SCHEMA, modeline, write_schemas
from llmconf.console import Ui
from llmconf.errors import LlmconfError
from llmconf.views import done

_MODELINE_PREFIX = "# yaml-language-server:"
_STARTER = """\
# worktrees.yaml: which backend profile each worktree uses (llmconf).
# Paths are relative to this file; ~ works. A profile is a file in profiles/ or a shipped one.
#   llmconf plan     what would change        llmconf apply   write it
#   llmconf use P    switch this worktree     llmconf status  what each one uses
vars: {}                # available to templates as {{ vars.NAME }}
worktrees:
"""
_EXAMPLE = """\
  # ../my-repo: anthropic
  # ../my-repo-glm:
  #   profile: openrouter
  #   models: {sonnet: z-ai/glm-4.7}   # override any profile field for one worktree
"""


def run(args: argparse.Namespace, ui: Ui) -> int:
    # -C DIR, or here: init starts a config, so it never looks for one.
    folder = resolve(getattr(args, "config_dir", None), ui.cwd, search=False, required=False) or user_path(ui.cwd, ".")
    config = folder / CONFIG_FILE
    if config.exists():
        raise LlmconfError(f"{CONFIG_FILE} already exists here; nothing written", config, hint="edit it, or init another folder")
    for arg in args.worktrees:
        if not user_path(ui.cwd, arg).is_dir():
            raise LlmconfError(f"no such folder: {arg}; nothing written", hint="create it first, or leave it out")
    schemas = folder / SCHEMA_DIR
    profiles = folder / PROFILES_DIR
    made = [path for path in (folder / SCHEMA_DIR.parts[0], profiles) if not path.exists()]
    written: list[Path] = []
    try:
        copied = _write(config, schemas, profiles, written, declared=bool(args.worktrees))
        adopted = _adopt(args, ui, folder) if args.worktrees else None
    except BaseException:
        _undo(written, made)
        raise
    ui.out(done.initialised(config, profiles, copied, schemas, declared=adopted is not None))
    if adopted is not None:
        ui.out(adopted)
    return 0


def _write(config: Path, schemas: Path, profiles: Path, written: list[Path], declared: bool) -> list[str]:
    """The schemas, the shipped profiles the folder lacks, and the starter worktrees.yaml; each
    file written goes in `written`. Returns the names of the profiles copied."""
    # Editors with the YAML language server check and complete fields against these schemas:
    # each file's first line points at them, relatively, so the folder can move or be cloned.
    write_schemas(schemas, hint="init another folder")
    fs.make_dirs(profiles)
    copied = []
    for source in sorted(shipped_profiles_dir().glob("*.yaml")):
        dest = profiles / source.name
        if not dest.exists():
            text = source.read_text(encoding="utf-8")
            if not text.startswith(_MODELINE_PREFIX):
                text = modeline(dest, schemas / PROFILE_SCHEMA) + text
            fs.write_atomic(dest, text)
            written.append(dest)
            copied.append(source.stem)
    fs.write_atomic(config, modeline(config, schemas / WORKTREES_SCHEMA) + _STARTER + ("" if declared else _EXAMPLE))
    written.append(config)
    return copied


def _adopt(args: argparse.Namespace, ui: Ui, folder: Path) -> str:
    """Declare each worktree named as what its settings file holds, as `import` does."""
    from llmconf.adoption import adopt
    from llmconf.apply.lock import locked
    from llmconf.apply.state import state_file
    from llmconf.session import open_for
    from llmconf.views.import_ import imported

    with locked(state_file().parent):
        session = open_for(str(folder), ui.cwd)
        adopted = adopt(session, args.worktrees, [], ui, dry_run=False)
    return imported(adopted.skipped, adopted.decls, adopted.stored, adopted.left_out, session.secrets.path, False, ui.cwd, adopted.agents)


def _undo(written: list[Path], made: list[Path]) -> None:
    """Take back what this init wrote: its files, then the folders it made (init writes into
    a folder that has no worktrees.yaml, so nothing of the user's is among them)."""
    for path in reversed(written):
        path.unlink(missing_ok=True)
    for path in made:
        shutil.rmtree(path, ignore_errors=True)
