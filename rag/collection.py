"""The collection in a RAG_HOME: which sources it holds, and the article files they contain.

A RAG_HOME holds exactly one collection. Its definition travels with every snapshot, in the
manifest ("collection": source roots and excluded paths), so the files a snapshot was built from
and the sources of the next build are one record, switched atomically with CURRENT:

    roots     folders or single files added with `rag index PATH` (the seeds, the first time)
    excluded  paths inside a root taken out with `rag index --remove PATH`
    uploads   RAG_HOME/uploads, always a source (articles added through the web UI)

`rag index` with no PATH refreshes exactly these; RAG_SEEDS (or the default seeds) only seed a
RAG_HOME that has no collection yet. Listing follows the rules a demanding user expects of an
index over their folders: hidden files and folders are left out, symlinks that lead outside the
sources are not followed, and every file or folder that cannot be read is named, not skipped
silently.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RagError

# Formats read by rag.documents (text, Markdown, HTML, PDF text layer, Word .docx).
SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class Collection:
    roots: tuple[str, ...]
    uploads: str
    excluded: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"roots": list(self.roots), "excluded": list(self.excluded), "uploads": self.uploads}

    @classmethod
    def from_json(cls, data: dict, uploads: Path) -> Collection:
        return cls(tuple(data.get("roots", ())), str(uploads), tuple(data.get("excluded", ())))

    @property
    def sources(self) -> tuple[str, ...]:
        "Every folder or file whose articles belong to the collection, uploads last."
        return (*self.roots, self.uploads)

    def list_files(self, home: Path) -> Listing:
        return list_files(self.sources, self.excluded, home)


@dataclass
class Listing:
    files: list[Path] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)  # what could not be listed, and why


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve(path: str | Path) -> Path:
    "An absolute path with symlinks in it resolved; a user's PATH is stored like this."
    return Path(os.path.realpath(Path(path).expanduser()))


def seeded(seeds: Iterable[Path], uploads: Path) -> Collection:
    "A new collection: the seed folders (RAG_SEEDS or the default seeds) and the uploads folder."
    roots = []
    for s in seeds:
        p = str(resolve(s))
        if p not in roots:
            roots.append(p)
    return Collection(tuple(roots), str(uploads))


def with_added(coll: Collection, paths: Iterable[Path], home: Path) -> tuple[Collection, list[str]]:
    """The collection with paths added as sources, and a note per path that was already one.
    A path inside an existing root only lifts an exclusion; a folder that contains roots replaces them."""
    roots, excluded, notes = list(coll.roots), list(coll.excluded), []
    for raw in paths:
        p = resolve(raw)
        if not p.exists():
            raise ValueError(f"{raw} does not exist")  # a mistyped path: a usage error (exit 2)
        if _inside(p, home) and not _inside(p, Path(coll.uploads)):
            raise RagError(f"{raw} is inside RAG_HOME ({home}); add article folders from outside it")
        if p.is_file() and p.suffix.lower() not in SUFFIXES:
            raise RagError(f"{raw} is not an article file; rag reads {', '.join(sorted(SUFFIXES))}")
        around = next((x for x in excluded if _inside(p, Path(x)) and Path(x) != p), None)
        if around is not None:
            raise RagError(f"{raw} is inside {around}, which was removed from the collection; "
                           f"add {around} back first, then remove what you do not want")
        lifted = [x for x in excluded if _inside(Path(x), p)]
        excluded = [x for x in excluded if x not in lifted]
        owner = next((r for r in [*roots, coll.uploads] if _inside(p, Path(r))), None)
        if owner is None:
            roots = [r for r in roots if not _inside(Path(r), p)] + [str(p)]
        elif not lifted:
            notes.append(f"{raw} is already part of the collection (source {owner})")
    return Collection(tuple(roots), coll.uploads, tuple(excluded)), notes


def with_removed(coll: Collection, paths: Iterable[Path]) -> tuple[Collection, list[Path]]:
    """The collection without paths, and the uploaded copies to delete once the new snapshot is
    current. A root is dropped; a file or folder inside a root is excluded from it; an uploaded
    article is excluded now and its stored copy deleted after the switch."""
    roots, excluded, delete = list(coll.roots), list(coll.excluded), []
    for raw in paths:
        p = resolve(raw)
        if str(p) in roots:
            roots.remove(str(p))
            excluded = [x for x in excluded if not _inside(Path(x), p)]
            continue
        owner = next((r for r in [*roots, coll.uploads] if _inside(p, Path(r))), None)
        if owner is None or not p.exists():
            listed = "\n  ".join(coll.sources)
            raise RagError(f"{raw} is not a source of this collection (nor an article id in it). "
                           f"Its sources are:\n  {listed}")
        if owner == coll.uploads and p.is_file():
            delete.append(p)
        if str(p) not in excluded:
            excluded.append(str(p))
    return Collection(tuple(roots), coll.uploads, tuple(excluded)), delete


def list_files(sources: Iterable[Path | str], excluded: Iterable[str] = (), home: Path | None = None) -> Listing:
    """Article files under the sources (folders or files), sorted and without duplicates, and what
    was left out and why. Paths under `excluded`, and RAG_HOME inside a source, are not listed."""
    out = Listing()
    sources = [resolve(s) for s in sources]
    excluded = [Path(x) for x in excluded]
    seen: set[str] = set()
    for src in sources:
        try:
            st = src.stat()
        except OSError as e:
            if home is not None and src == home / "uploads" and e.errno == errno.ENOENT:
                continue  # nothing uploaded yet
            out.notes.append(Skipped(str(src), f"source {src} is missing ({e.strerror}); its articles are left "
                                               f"out until it is back, or remove it with `rag index --remove {src}`"))
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(src, sources, excluded, home, out)
        elif src.suffix.lower() in SUFFIXES:
            _add_file(src, sources, out)
    files = []
    for p in out.files:
        real = os.path.realpath(p)
        if real not in seen:  # a link inside the sources to a file that is listed already
            seen.add(real)
            files.append(p)
    out.files = sorted(files)
    return out


def _walk(root: Path, sources: list[Path], excluded: list[Path], home: Path | None, out: Listing) -> None:
    def unreadable(e: OSError) -> None:
        out.notes.append(Skipped(str(e.filename), f"cannot read folder {e.filename} ({e.strerror}); "
                                                  "its articles are not indexed"))

    def left_out(p: Path) -> bool:
        return (p.name.startswith(".") or any(_inside(p, x) for x in excluded)
                or (skip_home and _inside(p, home)))

    # A source that contains RAG_HOME must not index the index (or the uploads a second time).
    skip_home = home is not None and not _inside(root, home)
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        here = Path(dirpath)
        keep = []
        for name in sorted(dirnames):
            d = here / name
            if left_out(d):
                continue
            if d.is_symlink():
                # os.walk does not follow links: a link into the sources is walked at its target,
                # a link elsewhere (or a loop) is named.
                reason = _link_problem(d, sources)
                if reason:
                    out.notes.append(Skipped(str(d), reason))
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            p = here / name
            if Path(name).suffix.lower() in SUFFIXES and not left_out(p):
                _add_file(p, sources, out)


def _add_file(p: Path, allowed: list[Path], out: Listing) -> None:
    try:
        st = p.lstat()
    except OSError as e:
        out.notes.append(Skipped(str(p), f"{p.name}: cannot read ({e.strerror})"))
        return
    if stat.S_ISLNK(st.st_mode):
        reason = _link_problem(p, allowed)
        if reason:
            out.notes.append(Skipped(str(p), reason))
            return
        try:
            st = p.stat()
        except OSError as e:
            out.notes.append(Skipped(str(p), f"{p.name}: cannot read ({e.strerror})"))
            return
    if stat.S_ISREG(st.st_mode):
        out.files.append(p)
    else:  # a FIFO or device would block or never end
        out.notes.append(Skipped(str(p), f"{p.name}: not a regular file"))


def _link_problem(link: Path, allowed: list[Path]) -> str | None:
    "Why a symlink must not be followed: a loop, a broken link, or a target outside the sources."
    try:
        target = Path(os.path.realpath(link, strict=True))
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"{link.name}: symlink loop; not followed"
        return f"{link.name}: broken symlink ({e.strerror})"
    if not any(_inside(target, a) for a in allowed):
        return f"{link.name}: symlink to {target}, outside the collection's sources; not followed"
    return None
