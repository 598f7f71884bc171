"""What `llmconf import` did, or with --dry-run would do."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llmconf.config.load import PROFILES_DIR
from llmconf.targets.claude_code.settings import API_KEY, SETTINGS_FILE

if TYPE_CHECKING:
    from llmconf.secrets.keyfiles import FoundKey
    from llmconf.targets.claude_code.adopt import Declaration, Folder


def imported(
    skipped: Sequence[tuple[str, str, str]],
    decls: Sequence[tuple[Folder, Declaration]],
    stored: Sequence[FoundKey],
    left_out: Sequence[tuple[FoundKey, str]],
    store: Path,
    dry_run: bool,
    cwd: Path,
) -> str:
    """What `import` did (or, with --dry-run, would do): each folder already declared, each
    worktree declared, each secret stored, each --key-file key left out, then what to do next."""
    lines = [f"{key}: already declared in {config} (profile '{profile}'); left as it is." for key, config, profile in skipped]
    for wt, decl in decls:
        lines.append(f"{wt.key}: {_declared(decl, dry_run)}")
        if decl.how == "new" and decl.closest:
            near = ", ".join(decl.closest)
            lines.append(f"  close to existing profiles: {near}; to switch to one: llmconf use PROFILE {os.path.relpath(wt.path, cwd)}")
        if decl.loose_mode:
            lines.append(
                f"  its file holds the key and others can read it ({decl.loose_mode:04o}): plan will make it 0600."
            )
        if decl.adds_api_key:
            lines.append(
                f"  its file has no {API_KEY}: plan will add {API_KEY}: \"\" (the one change there; "
                "the token is still what Claude Code sends)."
            )
    verb = "would be stored" if dry_run else "stored"
    lines += (f"Secret '{found.name}': {verb} from {found.origin} in {store} (0600)." for found in stored)
    lines += (f"{found.origin}: {found.var} not stored: {why}." for found, why in left_out)
    if dry_run:
        lines.append("Dry run: nothing changed.")
        return "\n".join(lines)
    extra = []
    if blank := [wt.key for wt, d in decls if d.adds_api_key]:
        extra.append(f"{API_KEY} for {', '.join(blank)} ('llmconf apply' adds it)")
    if loose := [wt.key for wt, d in decls if d.loose_mode]:
        extra.append(f"the file mode of {', '.join(loose)} ('llmconf apply' makes it 0600)")
    if extra:
        lines.append(
            f"Next: 'llmconf plan' shows no changes for them, except {' and '.join(extra)}; "
            "switch a worktree with 'llmconf use PROFILE WORKTREE'."
        )
    elif decls:
        lines.append("Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.")
    return "\n".join(lines)


def _declared(decl: Declaration, would: bool) -> str:
    verb = "would be declared" if would else "declared"
    if decl.how == "absent":
        return f"{verb} with profile '{decl.profile}' (no {SETTINGS_FILE} there: Anthropic direct, nothing to adopt)."
    if decl.how == "match":
        return f"{verb} with profile '{decl.profile}' (its settings are exactly that profile)."
    if decl.how == "reuse":
        return f"{verb} with new profile '{decl.profile}' (the same backend as above)."
    if decl.how == "new":
        return f"{verb} with new profile '{decl.profile}' ({PROFILES_DIR}/{decl.profile}.yaml)."
    fields = ", ".join(".".join(fp) for fp in decl.overrides if fp != ("catalog_info",))
    said = f"{verb} with profile '{decl.profile}'" + (f" and its own {fields} (as the file holds it)" if fields else "")
    if ("catalog_info",) in decl.overrides:  # the file has no /model labels, and plan adds none
        said += f"{',' if fields else ''} and catalog_info: false (the file has no /model labels)"
    return said + "."
