"""Codex (npm @openai/codex) as a target: a profile file llmconf owns whole in $CODEX_HOME,
selected with `codex -p` by `llmconf exec`, and its key kept outside the repository."""
