"""Prompt templates: the *.txt files of the top-level prompts/ folder, rendered strictly.

They ship inside the package as `rag._prompts` (rag/_prompts links to prompts/) and are read
with importlib.resources, so an installed wheel finds them exactly as a checkout does.

A template is plain text with `{name}` fields (`{{` and `}}` for literal braces). `render` fills every
field by keyword and refuses a missing variable, an extra one the template does not use, and any
field that is not a plain name (`{0}`, `{a.b}`, `{x!r}`, `{x:>5}`), so a template and its caller
cannot drift apart silently. Substituted values are never parsed again: braces inside a source
paragraph stay literal text.

    >>> render("rewrite", question="And when?", history="User: Who won?")[:27]
    'Rewrite the follow-up quest'
    >>> render("rewrite", question="And when?")
    Traceback (most recent call last):
    rag.prompts.PromptError: Prompt 'rewrite' needs variable(s) ['history'] (rewrite.txt uses {history}, {question}).
"""

from __future__ import annotations

import re
import string
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from .errors import ConfigError

PACKAGE = "rag._prompts"
# None: the installed templates. A folder (any Traversable) to read instead, e.g. in a test.
PROMPTS: Traversable | None = None
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class PromptError(ConfigError):
    "A prompt template is missing, malformed, or rendered with the wrong variables."


def folder() -> Traversable:
    "Where the templates are read from."
    if PROMPTS is not None:
        return PROMPTS
    try:
        return resources.files(PACKAGE)
    except ModuleNotFoundError as e:  # a checkout whose rag/_prompts link did not survive (e.g. no symlinks)
        raise PromptError(
            f"The prompt templates ({PACKAGE}) are missing. Reinstall rag-news; in a checkout, rag/_prompts "
            "must be the symlink to prompts/ (git checkout -- rag/_prompts)."
        ) from e


def available() -> list[str]:
    "The names of every template shipped (whatever files prompts/ holds)."
    return sorted(f.name.removesuffix(".txt") for f in folder().iterdir() if f.name.endswith(".txt"))


@cache
def load(name: str) -> tuple[str, frozenset[str]]:
    "A template's text (without the file's final newline) and its field names; read once."
    if not _NAME.fullmatch(name):
        raise PromptError(f"Invalid prompt name {name!r}: use lowercase letters, digits and _.")
    path = folder().joinpath(f"{name}.txt")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"No prompt {name!r}: {name}.txt is not among the templates. "
                          f"Available: {available()}") from None
    text = text.removesuffix("\n")
    fields = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:  # a lone { or }
        raise PromptError(f"{path.name} is not a valid template ({e}). Write literal braces as {{{{ and }}}}.") from e
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _NAME.fullmatch(field) or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise PromptError(
                f"{path.name} has field {shown}; only plain names like {{question}} are allowed. "
                "Write literal braces as {{ and }}."
            )
        fields.add(field)
    return text, frozenset(fields)


def render(name: str, /, **variables: object) -> str:
    "Fill template `name` with exactly the variables it uses."
    text, fields = load(name)
    missing = sorted(fields - variables.keys())
    extra = sorted(variables.keys() - fields)
    uses = ", ".join("{" + f + "}" for f in sorted(fields)) or "no variables"
    if missing:
        raise PromptError(f"Prompt {name!r} needs variable(s) {missing} ({name}.txt uses {uses}).")
    if extra:
        raise PromptError(f"Prompt {name!r} does not use variable(s) {extra} ({name}.txt uses {uses}).")
    return text.format_map({k: str(v) for k, v in variables.items()})
