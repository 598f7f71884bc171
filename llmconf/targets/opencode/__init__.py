"""opencode (npm opencode-ai) as a target: its project file opencode.json, with a provider
llmconf owns key by key, and its key kept outside the repository."""
