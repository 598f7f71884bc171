"""Renderings of values for people (text) and tools (JSON); they never read or write files."""
