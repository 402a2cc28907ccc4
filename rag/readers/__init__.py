"""Readers turn a file's bytes into article text plus, where the format has structure, its blocks.

    html   the page's main content (article/main), code blocks kept, the page's own title and date
    pdf    the text layer page by page, lines joined into paragraphs by their layout (pypdf)
    docx   Word paragraphs, headings, list items and table rows (python-docx)

Plain text and Markdown need no reader: rag.documents splits them at blank lines. Every reader
returns the text it extracted (this becomes Document.text, so every paragraph is an exact span
of it) and blocks over that text: one per paragraph, heading, list item or code block.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("text", "heading", "item", "code")


@dataclass(frozen=True)
class Block:
    start: int  # offsets into Extracted.text
    end: int
    kind: str = "text"  # one of KINDS; code is never merged, re-flowed or dropped as boilerplate
    page: int | None = None  # 1-based page of a paginated source


@dataclass(frozen=True)
class Extracted:
    text: str
    blocks: tuple[Block, ...]
    title: str | None = None  # stated by the file itself (<title>/<h1>, PDF or Word metadata)
    date: str | None = None  # publication date stated by the file's metadata, ISO


class TextBuilder:
    "Collects blocks into one text, blank-line separated, recording each block's span."

    def __init__(self):
        self._parts: list[str] = []
        self._blocks: list[Block] = []
        self._at = 0

    def add(self, text: str, kind: str = "text", page: int | None = None) -> None:
        if not text.strip():
            return
        if self._parts:
            self._parts.append("\n\n")
            self._at += 2
        self._parts.append(text)
        self._blocks.append(Block(self._at, self._at + len(text), kind, page))
        self._at += len(text)

    def build(self, title: str | None = None, date: str | None = None) -> Extracted:
        return Extracted("".join(self._parts) + ("\n" if self._parts else ""), tuple(self._blocks), title, date)
