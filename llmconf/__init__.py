"""llmconf: declarative LLM backend config for Claude Code worktrees."""

__version__ = "0.1.0"
