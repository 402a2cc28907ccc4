"""Uploaded articles: added to the collection through rag.index.add_sources (copy=True), the same way
in as `rag index PATH`, under the RAG_HOME writer lock, so an upload can never race a rebuild by
another process; then reported per file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..collection import SUFFIXES
from ..errors import RagError
from ..index import add_sources
from .safe import guard, safe_text

UPLOAD_SUFFIXES = tuple(sorted(SUFFIXES))
FORMATS = ".txt, .md, .html, .pdf or .docx"  # SUFFIXES as people name them (.markdown and .htm go too)


@dataclass(frozen=True)
class UploadResult:
    name: str  # the file name as uploaded
    ok: bool
    message: str
    stored: str | None = None  # the stored file's name under RAG_HOME/uploads


def add_uploads(paths: Sequence[Path], settings, *, progress: bool = True) -> list[UploadResult]:
    """Add uploaded files to the collection, one rebuild for all of them, and say per file what
    happened (in upload order). Files that are not articles, or already in the collection, are
    refused with the reason; if the build fails, nothing is added and every file says why."""
    names = [Path(p).name for p in paths]
    try:
        if settings.store:  # RAG_STORE: into the shared database's collection, seen by every replica
            from ..store.pg_load import add_uploads as load_uploads

            report = load_uploads(settings, list(paths), names, progress=progress, warn=lambda m: None)
        else:
            report = add_sources(settings, list(paths), copy=True, names=names, progress=progress,
                                 warn=lambda m: None)
    except RagError as e:
        return [UploadResult(n, False, f"{n}: not added ({e})") for n in names]
    refused = {s.path: s.reason for s in report.skipped}
    added = {a.name: a for a in report.added}
    out = []
    for name in names:
        if (a := added.get(name)) is not None:
            n = a.paragraphs
            out.append(UploadResult(name, True, f"{name}: added “{a.title}” ({n} paragraph{'s' if n != 1 else ''})",
                                    Path(a.path).name))
        else:
            out.append(UploadResult(name, False, refused.get(name, f"{name}: not added")))
    return out


def render_upload_results(results: Sequence[UploadResult]) -> str:
    if not results:
        return f'<div class="upload-status"><p>Choose one or more article files ({FORMATS}) first.</p></div>'
    items = "".join(
        f'<li class="{"ok" if r.ok else "bad"}">{"✓" if r.ok else "✗"} {safe_text(r.message)}</li>' for r in results
    )
    added = sum(r.ok for r in results)
    head = (f"{added} article{'s' if added != 1 else ''} added and searchable now." if added
            else "No article was added; the index is unchanged.")
    return guard(f'<div class="upload-status"><p><strong>{safe_text(head)}</strong></p><ul>{items}</ul></div>',
                  head)
