"""The `rag` command. Every user mistake becomes a one-line error and a non-zero exit.

stdout carries only results (with --json, only the JSON); progress, notes and warnings go to stderr
through the `rag` logger, which `main` configures (-q: warnings and errors only, -v: debug detail).
Library modules log to their own `rag.*` loggers and never print.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .config import load_settings
from .errors import RagError

log = logging.getLogger("rag")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = """environment:
  RAG_SEEDS         folder(s) a new collection starts from, separated by ':' (default: a checkout's
                    seeds/; none for an installed package: add articles with `rag index PATH`)
  RAG_HOME          where the index, caches and uploads live
                    (default: .rag/ in a checkout, else ~/.local/share/rag-news or $XDG_DATA_HOME/rag-news)
  RAG_EMBEDDER      sentence-transformers model name or folder (default: packaged all-MiniLM-L6-v2)
  RAG_STORE         postgresql://... : serve from (and `rag index` into) a shared Postgres + pgvector
  OPENAI_API_KEY, RAG_LLM_BASE_URL (or OPENAI_BASE_URL), RAG_LLM_MODEL
                    enable the LLM back-end; without them answers are extractive and offline

output:
  Results go to stdout (only JSON with --json); progress, notes and warnings go to stderr.
  -q shows warnings and errors only; -v adds debug detail and tracebacks.

exit status:
  0    done: an answer was given (it may say the articles do not hold one)
  1    error: no articles, a broken index or endpoint; `rag eval`: the gate failed;
       `rag index --check`: the index is not fresh
  2    usage: bad arguments or input (unknown option, empty question, malformed question file)
  130  interrupted
"""


class _Formatter(logging.Formatter):
    "Progress lines as they are; warnings and errors prefixed with their level, like other CLIs."

    def format(self, record: logging.LogRecord) -> str:
        msg = super().format(record)
        if record.levelno == logging.INFO:
            return msg
        if record.levelno == logging.DEBUG:
            return f"debug [{record.name}]: {msg}"
        return f"{record.levelname.lower()}: {msg}"


@contextmanager
def _logging_to_stderr(verbosity: int) -> Iterator[None]:
    "The `rag` logger on stderr for one command; put back as it was afterwards (main may run in-process)."
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False  # the CLI owns the terminal: no duplicate lines through the root logger
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.level, log.propagate = saved


def _progress() -> bool:
    "Progress bars show when progress lines do (not with -q)."
    return log.isEnabledFor(logging.INFO)


def _read_text_arg(value: str, what: str) -> str:
    "The argument itself, or stdin's text when it is '-' (e.g. `echo 'When?' | rag ask -`)."
    if value != "-":
        return value
    if sys.stdin is None or sys.stdin.closed:
        raise ValueError(f"'-' reads the {what} from stdin, but there is no stdin")
    if sys.stdin.isatty():
        log.info("Type the %s, then Ctrl-D:", what)
    return sys.stdin.read()


def _k(value: int | None) -> dict:
    if value is None:
        return {}
    if value < 1:
        raise ValueError(f"-k must be at least 1, not {value}")
    return {"k": value}


def cmd_index(args) -> int:
    from .index import add_sources, build_index, current_snapshot, index_status, load_snapshot, remove_sources

    settings = load_settings()
    warn = log.warning
    for p in [] if args.remove else args.paths:
        if not Path(p).expanduser().exists():
            raise ValueError(f"{Path(p).expanduser().resolve()} does not exist")
    _note_unused_seeds(settings, warn)
    if args.list:
        return _list_collection(settings)
    if args.ray:  # embed on Ray first; the build below then finds every vector cached
        from .cluster import embed_on_ray

        paths = [] if args.remove else [Path(p).expanduser().resolve() for p in args.paths]  # PATHs to add
        ray = embed_on_ray(settings, paths, None if args.ray == "local" else args.ray, progress=_progress())
        log.info("Ray: embedded %d texts of %d articles on %d actor(s) in %.1fs.", ray.texts, ray.articles,
                 ray.actors, ray.seconds)
    if settings.store:  # RAG_STORE: the collection lives in the shared database, not in a snapshot
        from .store import pg_load

        if args.check:
            state = pg_load.status(settings)
            print(state)
            return EXIT_OK if state == "fresh" else EXIT_ERROR
        if args.remove and not args.paths:
            raise ValueError("rag index --remove needs the PATH (or article id) to remove; see `rag index --list`")
        report = pg_load.sync(settings, add=[] if args.remove else args.paths, remove=args.paths if args.remove else [],
                              force=args.force, progress=_progress(), warn=warn)
        for note in report.notes:
            warn(note)
        print(report.line(settings.store))
        return EXIT_OK
    if args.check:
        status = index_status(settings)
        print(f"{status.state}{': ' + status.reason if status.reason else ''}")
        return EXIT_OK if status.state == "fresh" else EXIT_ERROR
    if args.remove:
        if not args.paths:
            raise ValueError("rag index --remove needs the PATH (or article id) to remove; see `rag index --list`")
        report = remove_sources(settings, args.paths, progress=_progress(), warn=warn)
    elif args.paths:
        report = add_sources(settings, args.paths, progress=_progress(), warn=warn)
    elif not args.force and (status := index_status(settings)).state == "fresh":
        for note in status.notes:  # nothing to rebuild, but what the sources hold that is left out is said
            warn(f"skipped {note.reason}")
        snap = current_snapshot(settings)
        if args.verify:
            from .embedding import ensure_onnx

            load_snapshot(snap, verify="full")
            ensure_onnx(settings.home, settings.embedder)  # re-exported if it fails its checksum
            print(f"Index is up to date and every file matches its checksum: {snap}")
        else:
            print(f"Index is up to date: {snap}")
        return EXIT_OK
    else:
        report = build_index(settings, progress=_progress(), warn=warn)
    for note in report.notes:
        warn(note)
    print(
        f"Indexed {report.documents} articles, {report.paragraphs} paragraphs ({report.chunks} chunks, "
        f"{report.sentences} sentences) in {report.seconds:.1f}s; embedded {report.embedded} new texts, "
        f"{report.cached} from cache; {len(report.skipped)} file(s) skipped.\n-> {report.snapshot}"
    )
    if report.removed:
        print(f"Removed from the collection: {', '.join(report.removed)}")
    return EXIT_OK


def _note_unused_seeds(settings, warn) -> None:
    "RAG_SEEDS seeds a new collection only; say so when it names folders this collection lacks."
    from .collection import resolve
    from .index import collection_of, current_snapshot

    if not os.environ.get("RAG_SEEDS") or current_snapshot(settings) is None:
        return
    coll = collection_of(settings)
    missing = [str(s) for s in settings.seeds
               if not any(resolve(s) == Path(r) or Path(r) in resolve(s).parents for r in coll.roots)]
    if missing:
        warn(f"RAG_SEEDS names {', '.join(missing)}, which the collection in {settings.home} does not hold: "
             "RAG_SEEDS only seeds a new collection. Add it with `rag index PATH`.")


def _list_collection(settings) -> int:
    from .index import collection_of, current_snapshot, read_manifest

    if settings.store:  # the collection recorded in the shared database
        from .store import pg_load

        coll, sources = pg_load.collection(settings), pg_load.stored_paths(settings)
        snap = settings.store if sources else None
    else:
        coll = collection_of(settings)
        snap = current_snapshot(settings)
        sources = read_manifest(snap).get("sources", {}) if snap else {}
    counts = dict.fromkeys(coll.sources, 0)
    for path, entry in sources.items():
        owner = next((s for s in coll.sources if path == s or path.startswith(s.rstrip("/") + "/")), None)
        if owner is not None and "doc_id" in entry:
            counts[owner] += 1
    total = sum(counts.values())
    print(f"Collection in {settings.home}: {total} article{'s' if total != 1 else ''}"
          + ("" if snap else " (not indexed yet: run `rag index`)"))
    for src in coll.sources:
        label = "uploads " if src == coll.uploads else ""
        print(f"  {label}{src}  ({counts[src]} article{'s' if counts[src] != 1 else ''})")
    for x in coll.excluded:
        print(f"  excluded  {x}")
    return EXIT_OK


def cmd_search(args) -> int:
    from .retrieval import check_query, open_retriever

    settings = load_settings(**_k(args.k))
    query = check_query(_read_text_arg(args.query, "query"), settings)
    retriever = open_retriever(settings, progress=_progress())
    t = time.perf_counter()
    hits = retriever.search(query, settings.k, args.retriever or settings.retriever)
    ms = (time.perf_counter() - t) * 1000
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1))
        return EXIT_OK
    for rank, h in enumerate(hits, 1):
        dense = f"{h.dense_score:.3f}" if h.dense_score is not None else "-"
        bm25 = f"{h.bm25_score:.2f}" if h.bm25_score is not None else "-"
        page = f", page {h.page}" if h.page else ""
        print(f"{rank}. {h.title}  [{h.doc_id} ¶{h.paragraph}{page}, chars {h.start}-{h.end}]")
        print(f"   score {h.score:.4f}  dense {dense}  bm25 {bm25}")
        print("   " + h.text.replace("\n", "\n   ") + "\n")
    log.info("(%d results in %.0f ms)", len(hits), ms)
    return EXIT_OK


def _marked(text: str, quotes) -> str:
    "The paragraph with its cited sentences marked »like this«."
    out, at = [], 0
    for start, end in sorted(quotes):
        out += [text[at:start], "»", text[start:end], "«"]
        at = end
    return "".join(out + [text[at:]])


def cmd_ask(args) -> int:
    from .pipeline import ask
    from .retrieval import open_retriever

    settings = load_settings(**_k(args.k))
    question = _read_text_arg(args.question, "question")
    # Open (or build) the index here, so its progress and warnings reach stderr through logging.
    retriever = open_retriever(settings, progress=_progress())
    answer = ask(question, backend=args.backend, settings=settings, retriever=retriever)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return EXIT_OK
    print(answer.text)
    if answer.notice:
        print(f"\nnote: {answer.notice}")
    if answer.citations:
        print("\nSources:")
    for c in answer.citations:
        flag = "" if c.supported else "  (not supported by this paragraph)"
        date = f", {c.date}" if c.date else ""
        page = f", page {c.page}" if c.page else ""
        print(f"[{c.marker}] {c.title}{date}, paragraph {c.paragraph}{page} "
              f"({c.doc_id}, chars {c.start}-{c.end}){flag}")
        print("    " + _marked(c.text, c.quotes).replace("\n", "\n    "))
    log.info("\n(answered by %s)", answer.backend)
    return EXIT_OK


def cmd_eval(args) -> int:
    from .evaluation import harness

    return harness.main(args)


def _output_options(top: bool) -> argparse.ArgumentParser:
    """-q/-v, accepted before the command and after it. Only the top level has defaults: a
    subcommand's defaults would overwrite what was given before the command."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_mutually_exclusive_group()
    default = 0 if top else argparse.SUPPRESS
    group.add_argument("-q", "--quiet", action="count", default=default,
                       help="no progress: only warnings and errors on stderr")
    group.add_argument("-v", "--verbose", action="count", default=default,
                       help="debug detail on stderr, and a traceback for an unexpected error")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Citation-first question answering over news articles.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_output_options(top=True)],
    )
    parser.add_argument("--version", action="version", version=f"rag-news {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = [_output_options(top=False)]

    p = sub.add_parser(
        "index", parents=common, help="add, remove or refresh the collection's articles",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The collection in $RAG_HOME is a set of sources (folders or files, plus articles uploaded "
                    "in the web UI), recorded with the index.\n\n"
                    "  rag index                   refresh: re-read every source, embed only new or changed text\n"
                    "  rag index PATH...           add folders or files to the collection\n"
                    "  rag index --remove PATH...  take a source, a file or folder inside one, or an article id out\n"
                    "  rag index --list            show the sources and how many articles each holds\n\n"
                    "The first build seeds the collection from $RAG_SEEDS (in a checkout, default seeds/); after "
                    "that, RAG_SEEDS is not read. Reads .txt, .md, .html, .pdf (text layer) and .docx.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="article files or folders to add (or to remove)")
    p.add_argument("--remove", action="store_true", help="remove the PATHs (or article ids) from the collection")
    p.add_argument("--list", action="store_true", help="list the collection's sources and article counts")
    p.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    p.add_argument("--check", action="store_true", help="only report whether the index is fresh (exit 1 if not)")
    p.add_argument("--verify", action="store_true", help="check every index file's and the ONNX model's sha256")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="embed on Ray (pip install 'rag-news[cluster]'): a local instance, or the cluster at "
                        "ADDRESS (ray://head:10001, or auto inside a Ray job)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", parents=common, help="show the paragraphs that best match a query",
                       description="Rank paragraphs by hybrid BM25 + dense retrieval (reciprocal rank fusion).")
    p.add_argument("query", help="the query; '-' reads it from stdin")
    p.add_argument("-k", type=int, default=5, help="number of paragraphs (default 5)")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], help="default: hybrid")
    p.add_argument("--json", action="store_true", help="print the hits as JSON (nothing else on stdout)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", parents=common, help="answer a question with numbered paragraph citations",
                       description="Answer from the articles. Prints the answer, then each cited source: title, "
                                   "paragraph number and the paragraph with the cited sentence »marked«. Says so "
                                   "plainly when the articles do not hold the answer.")
    p.add_argument("question", help="the question; '-' reads it from stdin")
    p.add_argument("--backend", choices=["extractive", "openai"],
                   help="default: openai when RAG_LLM_MODEL is set, else extractive (offline)")
    p.add_argument("-k", type=int, help="paragraphs to answer from (default 5)")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON (nothing else on stdout)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "eval", parents=common, help="run a question set; gate it against a baseline",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a question set against the configured articles, write a report (summary.md, "
                    "questions.json, metrics.json, chart.png) under $RAG_HOME/eval/<time>/, and gate it "
                    "against a baseline: exit 1 when a metric falls more than the tolerance below it or a "
                    "critical question that passed there fails now.\n\n"
                    "Without --questions, in a checkout: the project's evals/questions.jsonl, gated by "
                    "evals/baseline.json. With --questions FILE: that set, gated only with --baseline FILE.\n"
                    "Question set format: one JSON object per line; only \"question\" is required:\n"
                    '  {"question": "When were the Tandem Meetings held?", "gold": ["held on February 21-24"], '
                    '"key_facts": ["February 21-24"]}\n'
                    '  {"question": "Who won the 2031 Nobel Prize in Medicine?", "answerable": false}\n'
                    '  {"id": "own-3", "question": "What is the Beijing Protocol?", "reference": "..."}\n'
                    "Fields: id, question, answerable, gold (verbatim quotes), key_facts (strings or lists of "
                    "alternatives), reference, critical, split (calib|test), doc_ids, tags.")
    p.add_argument("--questions", metavar="FILE.jsonl",
                   help="question set to run (default in a checkout: evals/questions.jsonl)")
    p.add_argument("--export", metavar="FILE",
                   help="also write each question's answer, contexts, cited paragraphs and ground truth in the "
                        "RAGAS / DeepEval record schema (.jsonl: one per line; .json: an array)")
    p.add_argument("--backend", choices=["extractive", "openai"], default="extractive",
                   help="back-end to answer with (default: extractive, which the committed baseline uses)")
    p.add_argument("--out", metavar="DIR", help="report folder (default: $RAG_HOME/eval/<timestamp>/)")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], help="retriever to answer with (default: hybrid)")
    p.add_argument("--split", choices=["all", "calib", "test"], default="all", help="questions to run (default all)")
    p.add_argument("-k", type=int, help="paragraphs the back-end answers from (default: Settings.k)")
    p.add_argument("--tolerance", type=float,
                   help="allowed absolute drop per metric before the gate fails (default 0.02)")
    p.add_argument("--baseline", metavar="FILE",
                   help="baseline to compare with (default: evals/baseline.json for the project's set; "
                        "none with --questions)")
    p.add_argument("--update-baseline", action="store_true", help="write this run's numbers as the new baseline")
    p.add_argument("--calibrate", action="store_true",
                   help="choose Settings.abstain_threshold on the calib split and report its test-split result")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error, 0 after --help / --version
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    verbosity = args.verbose - args.quiet
    with _logging_to_stderr(verbosity):
        try:
            return args.func(args)
        except ValueError as e:  # bad input: an option's value, an empty question, a malformed file
            log.error("%s", e)
            return EXIT_USAGE
        except RagError as e:
            log.error("%s", e)
            log.debug("traceback", exc_info=True)
            return EXIT_ERROR
        except KeyboardInterrupt:
            log.error("interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # e.g. `rag ask ... | head`: the reader left, nothing to report
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit, by design
            return EXIT_OK
        except Exception as e:  # a bug, not a user mistake: one line, the traceback with -v
            log.error("unexpected %s: %s (run with -v for the traceback)", type(e).__name__, e,
                      exc_info=verbosity > 0)
            return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
