"""HTML to article text with a real parser (BeautifulSoup over lxml).

Real pages are mostly not article: navigation bars, sidebars with a table of contents, headers,
footers, share widgets. The reader takes the page's main content (the largest <article>, else
<main> or role="main", else <body>) and drops navigation, asides, site headers and footers and
permalink anchors ("¶"). Inline elements are joined without inventing spaces, so
"<span>128</span>, typed" stays "128, typed": a citation quotes the text a reader sees. Runs of
whitespace collapse to one space, as a browser renders them, except inside <pre>, whose lines
and indentation are kept as one code block.
"""

from __future__ import annotations

import json
import re

from ..dates import parse_date
from . import Extracted, TextBuilder

# Never article text, wherever they are.
# (Not <form>: ASP.NET pages wrap the whole page in one; its controls are dropped instead.)
_DROP = ["script", "style", "noscript", "template", "svg", "iframe", "nav", "aside", "button",
         "object", "embed", "canvas", "select", "input", "textarea", "dialog", "map", "link", "meta"]
_DROP_ROLES = {"navigation", "search", "complementary", "banner", "contentinfo", "menu", "menubar", "toolbar"}
# Blocks whose text is read as one paragraph (unless they contain other blocks).
_LEAF = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "figcaption", "caption", "address",
         "blockquote", "summary", "legend"}
# Containers: their children are read in order.
_CONTAINER = {"div", "section", "article", "main", "header", "footer", "ul", "ol", "dl", "menu", "figure", "details",
              "table", "thead", "tbody", "tfoot", "fieldset", "center", "body", "html", "hgroup", "search"}
_BLOCK = _LEAF | _CONTAINER | {"pre", "tr", "td", "th", "hr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# What a permalink anchor shows instead of words (Sphinx and MkDocs "¶", GitHub "#", "§", "🔗").
_PERMALINK = {"¶", "#", "§", "🔗", "∞", "⚓"}
_TITLE_TRAILER = re.compile(r"[\s¶#§🔗]+$")
_WS = re.compile(r"\s+")
# <meta> names and properties that carry the publication date, as sites and CMSs write them.
_DATE_META = {"article:published_time", "datepublished", "pubdate", "publishdate", "publish-date", "publish_date",
              "date", "dc.date", "dc.date.issued", "dcterms.issued", "dcterms.created", "citation_publication_date",
              "citation_date", "og:published_time", "sailthru.date", "parsely-pub-date"}


def read_html(html: str) -> Extracted:
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(html, "lxml")
    date = _published(soup)
    page_title = _clean_title(soup.title.get_text("")) if soup.title else None
    _decompose(soup, lambda t: t.name in _DROP or str(t.get("role", "")).lower() in _DROP_ROLES
               or t.has_attr("hidden") or (t.name == "a" and str(t.get("href", "")).startswith("#")
                                           and t.get_text("").strip() in _PERMALINK))
    main = _main_content(soup)
    # A site's header and footer sit outside the article; an article's own header (title, byline)
    # is inside it and kept. Footers inside an article hold tags and share links: dropped too.
    _decompose(soup, lambda t: t.name == "footer" or (t.name == "header" and not _inside(t, main)))
    h1 = main.find("h1") or soup.find("h1")
    title = _clean_title(h1.get_text("")) if h1 else None
    # a numbered first heading ("1. Summary") opens the first section of a numbered document: the
    # page's <title> names the document
    if title and page_title and _NUMBERED.match(title):
        title = None
    title = title or _site_stripped(page_title)

    for br in main.find_all("br"):  # a line break inside a paragraph reads as a space
        br.replace_with("\n")
    # Which elements contain a block: computed once, bottom-up (descendants come after their
    # ancestors in document order), so the walk below never searches a subtree again.
    holds_block: set[int] = set()
    for el in reversed(main.find_all(True)):
        if any(c.name in _BLOCK or id(c) in holds_block for c in el.children if c.name):
            holds_block.add(id(el))

    out = TextBuilder()
    inline: list[str] = []
    # A list item that wraps its text in blocks (<li><p>...</p></li>, as Sphinx and loose Markdown
    # lists write it) is still an item: its first block gets the bullet, so answering reads the lines
    # under "New library modules:" as the list they are.
    bullet = False

    def add(text: str, kind: str = "text") -> None:
        nonlocal bullet
        if bullet and text and kind == "text":
            text, kind = "• " + text, "item"
        bullet = bullet and not text
        out.add(text, kind)

    def flush() -> None:
        text = _WS.sub(" ", "".join(inline)).strip()
        inline.clear()
        add(text)

    def walk(el) -> None:
        nonlocal bullet
        for child in el.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment, CDATA, doctype or declaration
                    inline.append(str(child))
                continue
            nested = id(child) in holds_block
            if child.name == "pre":
                flush()
                out.add(child.get_text("").strip("\n").rstrip(), "code")
            elif child.name == "tr" and (not nested or _data_row(child)):
                # one line a row, cells apart, though a cell wraps its text in <p> (as Sphinx writes it)
                flush()
                cells = [_text(c) for c in child.find_all(["td", "th"], recursive=False)]
                out.add(" | ".join(c for c in cells if c))
            elif child.name in _LEAF and not nested:
                flush()
                kind = "heading" if child.name in _HEADINGS else "item" if child.name == "li" else "text"
                text = _text(child)
                add(("• " + text) if kind == "item" and text else text, kind)
            elif child.name in _BLOCK or nested:
                flush()
                bullet = child.name == "li"
                walk(child)
                flush()
                bullet = False
            else:
                inline.append(child.get_text(""))

    walk(main)
    flush()
    return out.build(title, date)


ROW_CHARS = 500  # a longer row, or one holding a table, lays out a page rather than holding data


def _data_row(tr) -> bool:
    return tr.find("table") is None and len(tr.get_text("")) <= ROW_CHARS


def _text(el) -> str:
    return _WS.sub(" ", el.get_text("")).strip()


def _decompose(soup, drop) -> None:
    "Remove every element `drop` selects (an element inside a removed one goes with it)."
    chosen = [t for t in soup.find_all(True) if drop(t)]
    ids = {id(t) for t in chosen}
    for t in [t for t in chosen if not any(id(p) in ids for p in t.parents)]:
        t.decompose()


def _inside(tag, container) -> bool:
    return tag is container or container in tag.parents


def _main_content(soup):
    "The element that holds the article: the largest <article>, else <main>/role=main, else <body>."
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text("")))
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    return main or soup.body or soup


_NUMBERED = re.compile(r"[1-9]\d?\.(?:\d+\.?)*\s+[A-Z]")


def _clean_title(text: str) -> str | None:
    t = _TITLE_TRAILER.sub("", _WS.sub(" ", text)).strip()
    return t or None


def _site_stripped(title: str | None) -> str | None:
    "A <title> without the site name pages append to it ('Story | Site', 'Story — Site')."
    if not title:
        return None
    cuts = list(re.finditer(r"\s+[|—–-]\s+", title))
    head = title[: cuts[-1].start()] if cuts else title
    return head if len(head.split()) >= 2 else title


def _published(soup) -> str | None:
    "The publication date the page states in its metadata, JSON-LD or <time> element."
    for meta in soup.find_all("meta"):
        key = str(meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _DATE_META and meta.get("content") and (d := parse_date(str(meta["content"]))):
            return d
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        if d := _ld_date(data):
            return d
    for time in soup.find_all("time"):
        published = time.has_attr("pubdate") or str(time.get("itemprop", "")).lower() == "datepublished"
        if published and (d := parse_date(str(time.get("datetime") or time.get_text("")))):
            return d
    # A <time> in the article's own header (next to its title) dates the article; one in the body
    # dates an event.
    for header in soup.find_all("header"):
        if header.find_parent("article") or header.find("h1"):
            time = header.find("time")
            if time and (d := parse_date(str(time.get("datetime") or time.get_text("")))):
                return d
    return None


def _ld_date(data, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    if isinstance(data, list):
        return next((d for x in data if (d := _ld_date(x, depth + 1))), None)
    if isinstance(data, dict):
        if isinstance(data.get("datePublished"), str):
            return parse_date(data["datePublished"])
        return _ld_date(data.get("@graph"), depth + 1)
    return None
