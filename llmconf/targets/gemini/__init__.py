"""Gemini CLI (npm @google/gemini-cli) as a target: its project file .gemini/settings.json,
where llmconf owns the auth type and the model, and its gateway URL and key kept outside the
repository."""
