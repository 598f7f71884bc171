"""What `llmconf import` did, or with --dry-run would do."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmconf.config.load import PROFILES_DIR
from llmconf.targets.claude_code.settings import API_KEY, SETTINGS_FILE

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:
    from llmconf.adoption import AgentAdopted
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
    agents: Mapping[str, Sequence[AgentAdopted]] | None = None,
) -> str:
    """What `import` did (or, with --dry-run, would do): each folder already declared, each
    worktree declared (with the other agents found there), each secret stored, each --key-file
    key left out, then what to do next."""
    agents = agents or {}
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
        lines += _agent_lines(agents.get(wt.key, ()), dry_run, cwd)
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
    switched = sorted({a.agent for found in agents.values() for a in found if a.left_out is None})
    if switched:
        extra.append(
            f"the switch of {', '.join(switched)} to llmconf's own keys ('llmconf apply' makes it; "
            "start them with 'llmconf exec -- AGENT' or 'llmconf activate' so they get the key)"
        )
    if extra:
        lines.append(
            f"Next: 'llmconf plan' shows no changes for them, except {' and '.join(extra)}; "
            "switch a worktree with 'llmconf use PROFILE WORKTREE'."
        )
    elif decls:
        lines.append("Next: 'llmconf plan' shows no changes for them; switch a worktree with 'llmconf use PROFILE WORKTREE'.")
    return "\n".join(lines)


def _agent_lines(found: Sequence[AgentAdopted], would: bool, cwd: Path) -> list[str]:
    """What import made of each other agent found in a folder. Never a key, nor a URL (one
    may hold a key): the file and line, the fields, the secret's name."""
    lines = []
    for a in found:
        where = _at(a.found.file, a.found.line, cwd)
        if a.left_out is not None:
            lines.append(f"  {a.agent} ({where}): not adopted: {a.left_out}. llmconf leaves it as it is.")
            continue
        listed = "would be added" if would else "added"
        said = f"  {a.agent} ({where}): {listed} to its agents"
        if a.fields:
            names = ", ".join(".".join(fp) for fp in a.fields)
            said += f", with its own {names} " + ("in the new profile" if a.where == "profile" else "in its entry")
        lines.append(said + f"; {a.found.switch}.")
        key_at = _at(a.found.key_file or a.found.file, a.found.key_line, cwd)
        if a.key in ("same", "stored"):
            lines.append(
                f"  its key ({key_at}) is the profile's (secret '{a.secret}'); llmconf leaves it in that file: take it out by hand."
            )
        elif a.key == "ref":
            lines.append(f"  its key is read from {a.found.key_ref} ({key_at}): llmconf will hand over the profile's key instead.")
        if a.other_host is not None:
            lines.append(
                f"  so the profile's key will go to {a.other_host}, which is not the profile's gateway: check it before 'llmconf apply'."
            )
    return lines


def _at(path: Path, line: int | None, cwd: Path) -> str:
    rel = os.path.relpath(path, cwd)
    return f"{rel}:{line}" if line else rel


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
