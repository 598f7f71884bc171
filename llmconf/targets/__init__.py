"""The agents llmconf configures, one package each: where their settings live, the layers
they read, the deliveries they support. Claude Code (claude_code/) is the first."""
