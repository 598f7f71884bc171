"""llmconf init: a starter worktrees.yaml and the shipped profiles, in one command."""

from __future__ import annotations

import argparse
import os

from llmconf import fs
from llmconf.config.discover import resolve
from llmconf.config.load import CONFIG_FILE, PROFILES_DIR, shipped_profiles_dir, user_path
from llmconf.config.schema import PROFILE_SCHEMA, SCHEMA_DIR, WORKTREES_SCHEMA, modeline, write_schemas
from llmconf.config.yamledit import yaml_key  # the quoting `llmconf use` writes new entries with
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
    entries = ""
    for arg in args.worktrees:
        wt = user_path(ui.cwd, arg)
        if not wt.is_dir():
            raise LlmconfError(f"no such folder: {arg}; nothing written", hint="create it first, or leave it out")
        entries += f"  {yaml_key(os.path.relpath(wt, folder))}: anthropic\n"
    # Editors with the YAML language server check and complete fields against these schemas:
    # each file's first line points at them, relatively, so the folder can move or be cloned.
    schemas = folder / SCHEMA_DIR
    write_schemas(schemas, hint="init another folder")
    profiles = folder / PROFILES_DIR
    fs.make_dirs(profiles)
    copied = []
    for source in sorted(shipped_profiles_dir().glob("*.yaml")):
        dest = profiles / source.name
        if not dest.exists():
            text = source.read_text(encoding="utf-8")
            if not text.startswith(_MODELINE_PREFIX):
                text = modeline(dest, schemas / PROFILE_SCHEMA) + text
            fs.write_atomic(dest, text)
            copied.append(source.stem)
    fs.write_atomic(config, modeline(config, schemas / WORKTREES_SCHEMA) + _STARTER + (entries or _EXAMPLE))
    ui.out(done.initialised(config, profiles, copied, schemas))
    return 0
