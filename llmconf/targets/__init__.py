"""The agents llmconf configures, one package each: where their settings live, the layers
they read, the deliveries they support. Claude Code (claude_code/) is the first."""

#: The agents a worktree can list under `agents:`, by the name worktrees.yaml gives them.
AGENTS = ("claude-code", "opencode", "gemini", "qwen", "codex")
#: What a worktree configures when neither it, its `repos:` entry nor the top level says.
DEFAULT_AGENTS = ("claude-code",)
#: The protocols a profile can give an endpoint for (`endpoints:`); base_url is the anthropic one.
PROTOCOLS = ("anthropic", "openai", "gemini")
