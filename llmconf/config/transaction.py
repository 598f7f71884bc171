"""Adding to the config folder as one transaction, for `llmconf import`: new profile files
(unused until declared), then secrets, then worktrees.yaml last. A failure undoes what this
run wrote (new files and the folders made for them deleted, new secrets removed) and its
error says what is left."""

from __future__ import annotations

from pathlib import Path

from llmconf import fs
from llmconf.errors import LlmconfError, display_path
from llmconf.secrets.store import SecretStore


def add_to_config(
    new_files: list[tuple[Path, str]],
    secrets: dict[str, str],
    store: SecretStore,
    config_file: Path,
    new_config: str | None,
    cwd: Path,
) -> None:
    """Write each new file (none may exist), store each secret, then write `new_config` (None:
    worktrees.yaml is unchanged)."""
    for path, _ in new_files:
        if path.exists():  # appeared since the profiles were listed
            raise LlmconfError("exists already; nothing changed", path, hint="run the import again")
    created: list[Path] = []  # files, then the folders made for them, in the order to delete
    stored: list[str] = []
    try:
        for path, text in new_files:
            made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
            _write_file(path, text)
            created[:0] = [path]
            created += made
        for name, value in secrets.items():
            store.set(name, value)
            stored.append(name)
        if new_config is not None:
            _write_file(config_file, new_config)
    except LlmconfError as e:
        left = _undo(created, stored, store, cwd)
        raise LlmconfError(f"{e.message}; {left}", e.path, e.line, e.hint) from None


def _write_file(path: Path, text: str) -> None:
    try:
        fs.make_dirs(path.parent)  # as root: the config owner's folder, like the files in it
        fs.write_atomic(path, text)
    except OSError as e:
        reason = e.strerror or e.__class__.__name__
        if e.filename and Path(e.filename) != path:
            reason += f": {e.filename}"
        raise LlmconfError(f"cannot write it ({reason})", path) from None


def _undo(created: list[Path], stored: list[str], store: SecretStore, cwd: Path) -> str:
    """Delete what this run wrote; what could not be undone, as the end of the error message."""
    left = []
    for path in created:
        try:
            path.rmdir() if path.is_dir() else path.unlink()
        except OSError:
            left.append(display_path(path, cwd))
    for name in stored:
        try:
            store.remove(name)
        except (LlmconfError, OSError):
            left.append(f"secret '{name}'")
    if not left:
        return "nothing changed"
    return f"written before it and left in place: {', '.join(left)}; worktrees.yaml unchanged"
