"""Word .docx to article text (python-docx, MIT licence): body paragraphs in reading order, with
headings, list items and table rows as their own blocks. The title is the document's Title
property or its first Title-styled paragraph; the cleaner falls back to the first heading.

A .docx is a ZIP archive: its declared member sizes are checked before parsing, so a crafted
archive that inflates to gigabytes is refused instead of filling memory.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import DocumentError
from . import Extracted, TextBuilder

MAX_INFLATED = 200 * 1024 * 1024  # bytes all members may inflate to; real articles use a few MB
_SPACES = re.compile(r"[ \t\u00a0\v\f\r\n]+")


def is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def read_docx(data: bytes, name: str) -> Extracted:
    try:
        from docx import Document
    except ImportError as e:  # a broken install; python-docx is a dependency
        raise DocumentError(f"{name}: reading .docx needs python-docx: pip install python-docx") from e
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            inflated = sum(i.file_size for i in z.infolist())
        if inflated > MAX_INFLATED:
            raise DocumentError(f"{name}: the .docx inflates to {inflated / 1e6:.0f} MB, over the "
                                f"{MAX_INFLATED / 1e6:.0f} MB limit")
        doc = Document(io.BytesIO(data))
        out = TextBuilder()
        title = (doc.core_properties.title or "").strip() or None
        for item in doc.iter_inner_content():
            if hasattr(item, "rows"):  # a table: one block per row, cells joined
                for row in item.rows:
                    cells = []
                    for cell in row.cells:
                        text = _SPACES.sub(" ", cell.text).strip()
                        if text and (not cells or cells[-1] != text):  # merged cells repeat
                            cells.append(text)
                    out.add(" | ".join(cells))
                continue
            text = _SPACES.sub(" ", item.text).strip()
            style = (item.style.name if item.style is not None else "") or ""
            if style == "Title" and title is None:
                title = text or None
            kind = ("heading" if style.startswith(("Heading", "Title", "Subtitle"))
                    else "item" if style.startswith("List") or item._p.pPr is not None and item._p.pPr.numPr is not None
                    else "text")
            out.add(("• " + text) if kind == "item" and text else text, kind)
    except DocumentError:
        raise
    except Exception as e:  # python-docx and lxml raise many types on malformed files
        raise DocumentError(f"{name}: not a readable .docx ({type(e).__name__}: {str(e)[:120]})") from e
    return out.build(title)
