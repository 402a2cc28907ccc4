"""The prompt templates (*.txt). rag/_prompts links here, so they ship inside the package as
`rag._prompts` (see pyproject.toml); rag/prompts.py reads and renders them. This file only makes
the folder an importable package."""
