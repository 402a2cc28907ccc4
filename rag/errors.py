"""Errors a user can act on. Each message says what went wrong and how to fix it."""


class RagError(Exception):
    "Base class: shown to the user as a one-line message, never as a traceback."


class ConfigError(RagError):
    "A setting or environment variable has a value we cannot use."


class DocumentError(RagError):
    "An article could not be read (empty, binary, undecodable, too large)."


class IndexCorruptError(RagError):
    "The index on disk failed its checksums or does not match its manifest."


class BackendError(RagError):
    "A generation or embedding back-end failed (endpoint down, model missing)."
