"""llmconf validate: load and render everything; report every problem at once."""

from __future__ import annotations

import argparse

from llmconf.config.load import folder_identity
from llmconf.console import Ui
from llmconf.errors import LlmconfError, LlmconfErrors
from llmconf.plan.planner import Planner, missing_folder
from llmconf.records import replace
from llmconf.secrets.store import SecretStore, env_var
from llmconf.session import open_for
from llmconf.views import done


class _AnySecret(SecretStore):
    """Renders without the real keys: validate checks the config, not this machine's store."""

    def __init__(self, real: SecretStore) -> None:
        super().__init__(real.path, real.sources, real.config_dir)
        self.real = real
        self.missing: set[str] = set()

    def get(self, name: str) -> str:
        if "command" in self.sources.get(name, {}):
            # validate gates changes (a pre-commit hook, CI): it never runs a command that the
            # config under review names. plan and apply do, on a config the user chose to run.
            return "placeholder"
        try:
            value = self.real.get(name)
        except LlmconfError:
            value = None
        if value is None:
            self.missing.add(name)
            return "placeholder"
        return value


def run(args: argparse.Namespace, ui: Ui) -> int:
    session = open_for(getattr(args, "config_dir", None), ui.cwd)
    errors: list[LlmconfError] = list(session.profiles.all_errors())
    lenient = _AnySecret(session.secrets)
    planner = Planner(replace(session, secrets=lenient))
    rendered = []
    for decl in session.config.worktrees:
        try:
            rendered.append((decl, planner.desired(decl)))
            if folder_identity(decl.path) is None:  # unlike is_dir, no PermissionError from a folder above it
                errors.append(decl.profile.error(*missing_folder(decl)))
        except LlmconfErrors as e:
            errors.extend(e.errors)
        except LlmconfError as e:
            errors.append(e)
    for warning in lenient.real.warnings:
        ui.warn(warning)
    for name in sorted(lenient.missing):
        ui.warn(f"secret '{name}' is not set on this machine (run 'llmconf secret set {name}', or export {env_var(name)})")
    try:
        from llmconf.catalog import catalog, lint

        warnings = lint.check(rendered, session.profiles, catalog.load(session.config.dir))
    except LlmconfErrors as e:  # a bad catalog.yaml: reported with the rest, nothing to lint against
        errors.extend(e.errors)
        warnings = []
    except LlmconfError as e:
        errors.append(e)
        warnings = []
    if getattr(args, "strict", False) or session.config.strict:
        errors.extend(warnings)  # one list, one count: --strict makes them problems like any other
    else:
        lint.show(warnings, ui, strict=False)
    if errors:
        ui.error(LlmconfErrors(errors))
        unique = len({e.format(ui.cwd) for e in errors})
        ui.stderr.write(f"llmconf: {unique} problem{'s' if unique != 1 else ''} found\n")
        return 1
    ui.out(done.valid(len(session.profiles.names()), len(session.config.worktrees)))
    return 0
