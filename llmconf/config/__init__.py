"""Read worktrees.yaml and profiles into validated models with file:line errors; find the config; keep its cache; edit it keeping comments."""
