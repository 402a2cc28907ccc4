"""The prompt templates (*.txt), installed as the package data `rag._prompts` (see pyproject.toml).
rag/prompts.py reads and renders them; this file only makes the folder an importable package."""
