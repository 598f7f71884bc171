"""Claude Code: which client will run, how that version reads its settings layers, and how a
worktree's settings reach it (its own local file, or the `--settings` layer)."""
