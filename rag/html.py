"""HTML to article text with a real parser (BeautifulSoup over the stdlib html.parser).

The result is plain text with one block per line group, separated by blank lines, so the same
cleaning and paragraph offsets apply as for .txt files. Offsets of an HTML article refer to this
extracted text, which the index stores alongside the paragraphs.
"""

from __future__ import annotations

import re

_DROP = ["script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form", "iframe"]
_BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "td", "th", "dt", "dd"]


def html_to_text(html: str) -> tuple[str | None, str]:
    "(title, text) of an HTML page."
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = None
    if soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(" ", strip=True)
    for tag in soup(_DROP):
        tag.decompose()
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    body = soup.body or soup
    blocks = []
    for el in body.find_all(_BLOCKS):
        if el.find(_BLOCKS):  # a container of other blocks: its children are taken instead
            continue
        text = re.sub(r"\s+", " ", el.get_text(" ", strip=True)).strip()
        if text:
            prefix = "• " if el.name == "li" else ""
            blocks.append(prefix + text)
    if not blocks:
        text = body.get_text("\n", strip=True)
        blocks = [line for line in text.splitlines() if line.strip()]
    return title, "\n\n".join(blocks) + "\n"
