"""The `rag` command. Every user mistake becomes a one-line error and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .config import load_settings
from .errors import RagError

EPILOG = """environment:
  RAG_SEEDS         folder(s) of articles to index (default: the repo's seeds/)
  RAG_HOME          where the index, caches and uploads live (default: .rag/)
  RAG_EMBEDDER      sentence-transformers model name or folder (default: packaged all-MiniLM-L6-v2)
  RAG_STORE         postgresql://... : serve from (and `rag index` into) a shared Postgres + pgvector
  OPENAI_API_KEY, RAG_LLM_BASE_URL (or OPENAI_BASE_URL), RAG_LLM_MODEL
                    enable the LLM back-end; without them answers are extractive and offline
"""


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def cmd_index(args) -> int:
    from .index import build_index, index_status, load_snapshot

    settings = load_settings()
    paths = [Path(p).expanduser().resolve() for p in args.paths] or None
    for p in paths or []:
        if not p.exists():
            raise RagError(f"{p} does not exist")
    if args.ray:  # embed on Ray first; the build below then finds every vector cached
        from .cluster import embed_on_ray

        ray = embed_on_ray(settings, paths, None if args.ray == "local" else args.ray)
        print(f"Ray: embedded {ray.texts} texts of {ray.articles} articles on {ray.actors} actor(s) "
              f"in {ray.seconds:.1f}s.", file=sys.stderr)
        args.force = True
    if settings.store:  # RAG_STORE: load the shared database instead of writing a snapshot
        from .store import pg_load

        if args.check:
            state = pg_load.status(settings, paths)
            print(state)
            return 0 if state == "fresh" else 1
        report = pg_load.sync(settings, sources=paths, force=args.force, progress=not args.quiet,
                              warn=lambda m: print(f"warning: {m}", file=sys.stderr))
        print(report.line(settings.store))
        return 0
    if args.check:
        status = index_status(settings)
        print(f"{status.state}{': ' + status.reason if status.reason else ''}")
        return 0 if status.state == "fresh" else 1
    if paths is None and not args.force and index_status(settings).state == "fresh":
        from .index import current_snapshot

        snap = current_snapshot(settings)
        if args.verify:
            load_snapshot(snap, verify="full")
        print(f"Index is up to date: {snap}")
        return 0
    warn = lambda m: print(f"warning: {m}", file=sys.stderr)  # noqa: E731
    report = build_index(settings, paths, progress=not args.quiet, warn=warn)
    print(
        f"Indexed {report.documents} articles, {report.paragraphs} paragraphs ({report.chunks} chunks, "
        f"{report.sentences} sentences) in {report.seconds:.1f}s; embedded {report.embedded} new texts, "
        f"{report.cached} from cache; {len(report.skipped)} file(s) skipped.\n-> {report.snapshot}"
    )
    if paths:
        print("note: other commands index $RAG_SEEDS; export RAG_SEEDS to keep using these paths.")
    return 0


def cmd_search(args) -> int:
    from .retrieval import check_query, open_retriever

    settings = load_settings()
    query = check_query(args.query, settings)
    retriever = open_retriever(settings, progress=True)
    t = time.perf_counter()
    hits = retriever.search(query, args.k, args.retriever or settings.retriever)
    ms = (time.perf_counter() - t) * 1000
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1))
        return 0
    for rank, h in enumerate(hits, 1):
        dense = f"{h.dense_score:.3f}" if h.dense_score is not None else "-"
        bm25 = f"{h.bm25_score:.2f}" if h.bm25_score is not None else "-"
        print(f"{rank}. {h.title}  [{h.doc_id} ¶{h.paragraph}, chars {h.start}-{h.end}]")
        print(f"   score {h.score:.4f}  dense {dense}  bm25 {bm25}")
        print("   " + h.text.replace("\n", "\n   ") + "\n")
    print(f"({len(hits)} results in {ms:.0f} ms)", file=sys.stderr)
    return 0


def _marked(text: str, quotes) -> str:
    "The paragraph with its cited sentences marked »like this«."
    out, at = [], 0
    for start, end in sorted(quotes):
        out += [text[at:start], "»", text[start:end], "«"]
        at = end
    return "".join(out + [text[at:]])


def cmd_ask(args) -> int:
    from .pipeline import ask

    settings = load_settings(**({"k": args.k} if args.k else {}))
    answer = ask(args.question, backend=args.backend, settings=settings)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(answer.text)
    if answer.notice:
        print(f"\nnote: {answer.notice}")
    if answer.citations:
        print("\nSources:")
    for c in answer.citations:
        flag = "" if c.supported else "  (not supported by this paragraph)"
        date = f", {c.date}" if c.date else ""
        print(f"[{c.marker}] {c.title}{date}, paragraph {c.paragraph} ({c.doc_id}, chars {c.start}-{c.end}){flag}")
        print("    " + _marked(c.text, c.quotes).replace("\n", "\n    "))
    print(f"\n(answered by {answer.backend})", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from .evaluation import harness

    return harness.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Citation-first question answering over news articles.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="build or refresh the index",
                       description="Build the index over PATHs (default: $RAG_SEEDS) plus uploaded articles. "
                                   "Unchanged texts reuse cached vectors, so a refresh re-embeds only new "
                                   "or changed paragraphs. Without PATHs and --force, a fresh index is kept.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="article files or folders (.txt, .md, .html)")
    p.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    p.add_argument("--check", action="store_true", help="only report whether the index is fresh (exit 1 if not)")
    p.add_argument("--verify", action="store_true", help="check every index file's sha256")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="embed on Ray (pip install 'rag-news[cluster]'): a local instance, or the cluster at "
                        "ADDRESS (ray://head:10001, or auto inside a Ray job)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="show the paragraphs that best match a query",
                       description="Rank paragraphs by hybrid BM25 + dense retrieval (reciprocal rank fusion).")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="number of paragraphs (default 5)")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], help="default: hybrid")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with numbered paragraph citations",
                       description="Answer from the articles. Prints the answer, then each cited source: title, "
                                   "paragraph number and the paragraph with the cited sentence »marked«. Says so "
                                   "plainly when the articles do not hold the answer.")
    p.add_argument("question")
    p.add_argument("--backend", choices=["extractive", "openai"],
                   help="default: openai when RAG_LLM_MODEL is set, else extractive (offline)")
    p.add_argument("-k", type=int, help="paragraphs to answer from (default 5)")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="run the eval set and gate it against the committed baseline",
                       description="Run evals/questions.jsonl on the offline extractive back-end, write a report "
                                   "(summary.md, questions.json, chart.png) under $RAG_HOME/eval/<time>/, and "
                                   "exit 1 when a metric falls more than the tolerance below evals/baseline.json "
                                   "or a critical question that passed there fails now.")
    p.add_argument("--out", metavar="DIR", help="report folder (default: $RAG_HOME/eval/<timestamp>/)")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], help="retriever to answer with (default: hybrid)")
    p.add_argument("--split", choices=["all", "calib", "test"], default="all", help="questions to run (default all)")
    p.add_argument("-k", type=int, help="paragraphs the back-end answers from (default: Settings.k)")
    p.add_argument("--tolerance", type=float,
                   help="allowed absolute drop per metric before the gate fails (default 0.02)")
    p.add_argument("--baseline", metavar="FILE", help="baseline to compare with (default: evals/baseline.json)")
    p.add_argument("--update-baseline", action="store_true", help="write this run's numbers as the new baseline")
    p.add_argument("--calibrate", action="store_true",
                   help="choose Settings.abstain_threshold on the calib split and report its test-split result")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (RagError, ValueError) as e:
        _err(str(e))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `rag ask ... | head`: the reader left, nothing to report
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit, by design
        return 0


if __name__ == "__main__":
    sys.exit(main())
