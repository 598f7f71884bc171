"""The one step that writes: atomic edits of settings files, state, backups, rollback and the lock."""
