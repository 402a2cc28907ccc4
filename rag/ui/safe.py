"""Sanitising: every character of model or document text reaches the browser HTML-escaped, with
markdown images and links reduced to their text. The only markup on the page is the markup the
renderers write, and its only links are in-page anchors, so a poisoned article cannot make the
browser fetch anything. `html_problems` audits a fragment against that vocabulary."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Zero-width and bidirectional-override characters: invisible, and able to disguise text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_URL = r"\((?:[^()\n]|\([^()\n]{0,500}\)){0,2000}\)"  # "(url)", allowing one level of parentheses inside
_MD_IMAGE = re.compile(r"!\[([^\]\n]{0,300})\]" + _URL)
_MD_IMAGE_REF = re.compile(r"!\[([^\]\n]{0,300})\]\[[^\]\n]{0,300}\]")
_MD_LINK = re.compile(r"\[([^\]\n]{0,300})\]" + _URL)


def _image_text(m: re.Match) -> str:
    alt = m.group(1).strip()
    return f"[image removed: {alt}]" if alt else "[image removed]"


def clean_text(text: str) -> str:
    """Text without control or invisible characters, markdown images replaced by their alt text and
    markdown links by their text: what the page shows, before escaping (also used for copy text).

    >>> clean_text('See ![chart](http://evil.example/p.png) and [this](javascript:alert(1))')
    'See [image removed: chart] and this'
    """
    text = _INVISIBLE.sub("", _CONTROL.sub("", str(text)))
    text = _MD_IMAGE.sub(_image_text, text)
    text = _MD_IMAGE_REF.sub(_image_text, text)
    return _MD_LINK.sub(lambda m: m.group(1), text)


def safe_text(text: str) -> str:
    """Text as inert HTML: `clean_text`, then everything HTML-escaped.

    >>> safe_text('See ![chart](http://evil.example/p.png) and [this](javascript:alert(1)) <b>x</b>')
    'See [image removed: chart] and this &lt;b&gt;x&lt;/b&gt;'
    """
    return html.escape(clean_text(text), quote=True)


ALLOWED_TAGS = {"div", "span", "p", "a", "sup", "mark", "strong", "em", "details", "summary", "section",
                "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li", "br", "small", "code", "button",
                "h2", "h3", "header"}
ALLOWED_ATTRS = {"class", "id", "title", "open", "aria-label", "aria-hidden", "aria-expanded", "role", "scope",
                 "type", "tabindex", "data-doc", "data-para", "data-quotes", "data-query", "data-rank"}


class _Audit(HTMLParser):
    "Collects what a fragment asks the browser to do: tags, links, sources, handlers, styles."

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name == "href":
                if not value.startswith("#"):
                    self.problems.append(f"link to {value!r}")
            elif name not in ALLOWED_ATTRS:
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")


def html_problems(fragment: str) -> list[str]:
    """Everything in an HTML fragment outside the UI's own vocabulary: unknown tags, attributes such
    as src/style/on*, and links that leave the page. Empty for every fragment the UI renders.

    >>> html_problems('<a class="cite" href="#src-0-1">[1]</a>')
    []
    >>> html_problems('<img src="//evil.example/x.png">')
    ['tag <img>', "attribute src='//evil.example/x.png' on <img>"]
    """
    audit = _Audit()
    audit.feed(fragment)
    audit.close()
    return audit.problems


def guard(fragment: str, fallback: str) -> str:
    "The fragment if it audits clean; otherwise the fallback text, fully escaped. Belt and braces."
    return fragment if not html_problems(fragment) else f"<p>{html.escape(fallback)}</p>"
