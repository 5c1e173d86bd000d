"""Local Cloud Build runner (draft docstring)."""
