"""Uploaded articles: check each file, store the good ones under RAG_HOME/uploads, rebuild the index
once, and report per file what happened."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..documents import SUFFIXES, read_document
from ..errors import DocumentError
from ..index import stored_name
from ..types import Document
from .safe import guard, safe_text

UPLOAD_SUFFIXES = tuple(sorted(SUFFIXES))


@dataclass(frozen=True)
class UploadResult:
    name: str  # the file name as uploaded
    ok: bool
    message: str
    stored: str | None = None  # the stored file's name under RAG_HOME/uploads


def check_upload(path: Path, max_bytes: int, name: str | None = None) -> Document:
    """Read an uploaded file as an article, or raise DocumentError with the reason: a suffix other
    than .txt/.md/.html, over the size limit, empty, binary (by its content, whatever its suffix),
    not UTF-8, or no article text."""
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"{name}: {suffix or 'no extension'} files are not accepted; upload .txt, .md or .html")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    try:
        return read_document(path, max_bytes=max_bytes)
    except DocumentError as e:
        raise DocumentError(str(e).replace(path.name, name, 1)) from e


def add_uploads(paths: Sequence[Path], settings, indexed: Mapping[str, str],
                build: Callable[[Sequence[Path]], object]) -> list[UploadResult]:
    """Check uploaded files, store the good ones under settings.uploads and rebuild the index once.

    indexed: sha256 -> title of the articles already in the index (duplicates are refused).
    build: given the stored copies, indexes them (rag.ui.tools.refresh with its settings bound); it returns a report
    whose `skipped` lists files the build refused. If the build fails, the new files are removed
    again, so the folder and the index agree and nothing already indexed changes."""
    uploads = settings.uploads
    uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
    results: dict[int, UploadResult] = {}
    new: dict[int, tuple[Path, Document]] = {}
    seen: dict[str, str] = {}
    for i, path in enumerate(paths):
        path = Path(path)
        name = path.name
        try:
            doc = check_upload(path, settings.max_file_bytes)
        except DocumentError as e:
            results[i] = UploadResult(name, False, str(e))
            continue
        if doc.sha256 in indexed:
            results[i] = UploadResult(name, False, f"{name}: already indexed, as “{indexed[doc.sha256]}”")
            continue
        if doc.sha256 in seen:
            results[i] = UploadResult(name, False, f"{name}: same content as {seen[doc.sha256]} in this upload")
            continue
        seen[doc.sha256] = name
        dest = uploads / stored_name(name, doc.sha256)
        tmp = uploads / f".{dest.name}.part"
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
        new[i] = (dest, doc)
    if new:
        try:
            report = build([dest for dest, _ in new.values()])
        except Exception as e:
            for dest, _ in new.values():
                dest.unlink(missing_ok=True)
            for i, (_, _doc) in new.items():
                results[i] = UploadResult(Path(paths[i]).name, False,
                                          f"{Path(paths[i]).name}: indexing failed ({e}); the index is unchanged")
            return [results[i] for i in sorted(results)]
        refused = {s.path: s.reason for s in getattr(report, "skipped", ())}
        for i, (dest, doc) in new.items():
            name = Path(paths[i]).name
            if str(dest) in refused:
                dest.unlink(missing_ok=True)
                results[i] = UploadResult(name, False, refused[str(dest)].replace(dest.name, name))
            else:
                n = len(doc.paragraphs)
                results[i] = UploadResult(name, True, f"{name}: added “{doc.title}” ({n} paragraph{'s' if n != 1 else ''})",
                                          dest.name)
    return [results[i] for i in sorted(results)]


def render_upload_results(results: Sequence[UploadResult]) -> str:
    if not results:
        return '<div class="upload-status"><p>Choose one or more .txt, .md or .html files first.</p></div>'
    items = "".join(
        f'<li class="{"ok" if r.ok else "bad"}">{"✓" if r.ok else "✗"} {safe_text(r.message)}</li>' for r in results
    )
    added = sum(r.ok for r in results)
    head = (f"{added} article{'s' if added != 1 else ''} added and searchable now." if added
            else "No article was added; the index is unchanged.")
    return guard(f'<div class="upload-status"><p><strong>{safe_text(head)}</strong></p><ul>{items}</ul></div>',
                  head)
