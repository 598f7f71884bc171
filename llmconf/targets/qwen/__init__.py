"""Qwen Code (npm @qwen-code/qwen-code) as a target: its project file .qwen/settings.json, with
one entry of modelProviders.openai that llmconf owns whole, and its key kept outside the
repository."""
