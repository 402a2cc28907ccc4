"""results.json -> the markdown tables in benchmarks/out/results.md and in the README's bench block.

The targets come first, each with its measured value and whether it is met; then one table per
measurement. A step that failed or does not exist yet shows its error instead of numbers.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from .common import NA, load_questions

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
MB_PER_GB = 1024


def _ms(row: dict | None, key: str = "p50_ms") -> str:
    if not row or "error" in row:
        return (row or {}).get("error", NA)
    return f"{row[key]:.1f} ms"


def _get(d: dict | None, *keys, default=None):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[ok]


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


# --- targets --------------------------------------------------------------------------------------


def _ratio_target(r: dict, name: str, limit: float) -> list:
    floor = _get(r, "latency", "floor", "p50_ms")
    value = _get(r, "latency", name, "p50_ms")
    if floor is None or value is None:
        return [f"{name} p50 ≤ {limit} × floor", _ms(_get(r, "latency", name)), _verdict(None)]
    ratio = value / floor
    return [f"{name} p50 ≤ {limit} × floor", f"{value:.1f} ms = {ratio:.2f} × {floor:.1f} ms", _verdict(ratio <= limit)]


def _seconds_target(row: dict | None, label: str, limit: float) -> list:
    if not row or "error" in row:
        return [label, (row or {}).get("error", NA), _verdict(None)]
    return [label, f"{row['median_s']:.2f} s", _verdict(row["median_s"] <= limit)]


def _same_quality(b: dict, ref: dict) -> bool:
    "Within one eval question of the reference on hybrid and on dense recall@5."
    one = math.ceil(1000 / len(load_questions(answerable_only=True))) / 1000  # recalls are rounded to 3 places
    return all(b[k] >= ref[k] - one for k in ("recall_at_5_hybrid", "recall_at_5_dense"))


def _build_targets(r: dict) -> list[list]:
    builds = r.get("build", {})
    torch = _get(builds, "torch", "synthetic", "paragraphs_per_s")
    rows = [["build ≥ 30 paragraphs/s, default embedder (torch)",
             f"{torch} /s" if torch else NA, _verdict(None if torch is None else torch >= 30)]]
    for name in ("onnx-int8",):
        b = builds.get(name, {})
        rate = _get(b, "synthetic", "paragraphs_per_s")
        if not rate or not torch or "recall_at_5_dense" not in b:
            continue
        ref = builds["torch"]
        rows.append([f"{name}: faster at equal quality (recall@5 within one question of torch)",
                     f"{rate} /s; recall@5 hybrid {b['recall_at_5_hybrid']} / dense {b['recall_at_5_dense']} "
                     f"(torch {ref['recall_at_5_hybrid']} / {ref['recall_at_5_dense']})",
                     _verdict(rate > torch and _same_quality(b, ref))])
    return rows


def _scale_targets(r: dict) -> list[list]:
    snap = _get(r, "scale", "snapshot") or {}
    kind = snap.get("index_type")
    hybrid = _recall(snap["store"]) if snap.get("store") else None  # the whole hybrid search vs the same done exactly
    hybrid = None if hybrid == NA else hybrid
    ann_recall = _get(r, "scale", "ann", "1000000", kind, "recall_at_10") if kind else None
    recall = hybrid if hybrid is not None else ann_recall
    recall_text = (f"hybrid {hybrid} ({kind}; FAISS alone {ann_recall})" if hybrid is not None
                   else f"{ann_recall} ({kind}, FAISS alone)" if ann_recall is not None else NA)
    p50 = _get(snap, "retrieve", "p50_ms")
    rss = snap.get("serving_peak_rss_mb")
    opened = snap.get("snapshot_open_s")
    files = (f"; FAISS {snap['dense_open_s'] * 1000:.0f} ms, BM25 {_get(r, 'scale', 'bm25', 'open_s', default=0) * 1000:.0f} ms"
             if "dense_open_s" in snap else "")
    return [
        ["1M paragraphs: retrieve p50 ≤ 20 ms", f"{p50:.1f} ms" if p50 else NA, _verdict(None if p50 is None else p50 <= 20)],
        ["1M: recall@10 vs exact ≥ 0.95", recall_text, _verdict(None if recall is None else recall >= 0.95)],
        ["1M: serving RSS ≤ 3 GB", f"{rss / MB_PER_GB:.2f} GB" if rss else NA,
         _verdict(None if rss is None else rss <= 3 * MB_PER_GB)],
        ["1M: the whole snapshot opens in < 1 s", f"{opened} s{files}" if opened is not None else NA,
         _verdict(None if opened is None else opened < 1)],
    ]


def _peer_targets(r: dict) -> list[list]:
    ours, peer = r.get("latency", {}), r.get("peer", {})
    if "error" in peer or "retrieve" not in peer or "retrieve" not in ours:
        return [["ahead of the peer (latency and recall@5)", peer.get("error", NA), _verdict(None)]]
    a, b = ours["retrieve"]["p50_ms"], peer["retrieve"]["p50_ms"]
    ra, rb = ours["recall_at_5"], peer["recall_at_5"]
    return [["ahead of the peer on latency and recall@5",
             f"p50 {a:.1f} vs {b:.1f} ms; recall@5 {ra} vs {rb}", _verdict(a < b and ra > rb)]]


def reasons(r: dict) -> list[str]:
    "Why each missed target is missed, from the numbers that show it."
    out = []
    builds = r.get("build", {})
    torch, int8 = builds.get("torch", {}), builds.get("onnx-int8", {})
    if "recall_at_5_dense" in torch and "recall_at_5_dense" in int8 and not _same_quality(int8, torch):
        out.append(f"onnx-int8 loses quality: recall@5 hybrid {int8['recall_at_5_hybrid']} / dense "
                   f"{int8['recall_at_5_dense']} against torch's {torch['recall_at_5_hybrid']} / "
                   f"{torch['recall_at_5_dense']}.")
    snap = _get(r, "scale", "snapshot") or {}
    if _get(snap, "retrieve", "p50_ms", default=0) > 20:
        out.append(f"1M retrieve: dense {_ms(snap.get('dense'))} and BM25 {_ms(snap.get('bm25'))} of the "
                   f"{_ms(snap.get('retrieve'))} p50 (bm25s's get_scores alone: {_ms(_get(r, 'scale', 'bm25', 'scores'))}).")
    if snap.get("serving_peak_rss_mb", 0) > 3 * MB_PER_GB or snap.get("snapshot_open_s", 0) >= 1:
        out.append(
            f"1M memory and open time: the snapshot opened in {snap.get('snapshot_open_s')} s holding "
            f"{snap.get('rss_after_open_mb', 0):,} MB, and serving peaked at {snap.get('serving_peak_rss_mb', 0):,.0f} MB "
            f"(FAISS alone opens in {snap.get('dense_open_s', 0) * 1000:.0f} ms; BM25 holds "
            f"{_get(r, 'scale', 'bm25', 'rss_mb', default=0):,.0f} MB after its queries).")
    return [f"- {line}" for line in out] + ([""] if out else [])


def targets(r: dict) -> list[str]:
    st = r.get("startup", {})
    rows = [_ratio_target(r, "retrieve", 1.5), _ratio_target(r, "ask", 3),
            _seconds_target(st.get("rag ask"), "cold `rag ask` ≤ 2 s (index built)", 2),
            _seconds_target(st.get("python app.py"), "`python app.py` serving ≤ 8 s", 8),
            *_build_targets(r), *_scale_targets(r), *_peer_targets(r)]
    return _table(["target", "measured", "verdict"], rows)


# --- detail tables --------------------------------------------------------------------------------


def latency(r: dict) -> list[str]:
    lat = r.get("latency", {})
    if "error" in lat:
        return [f"Warm latency: {lat['error']}", ""]
    floor = _get(lat, "floor", "p50_ms")
    rows = []
    for name, label in (("floor", "floor: bare ONNX forward pass, 1 thread"), ("retrieve", "`retrieve` (hybrid)"),
                        ("retrieve_dense", "`retrieve` (dense only)"), ("ask", "`ask` (extractive)")):
        row = lat.get(name)
        ratio = f"{row['p50_ms'] / floor:.2f}" if floor and row and "p50_ms" in row else "-"
        rows.append([label, _ms(row), _ms(row, "p95_ms") if row and "error" not in row else "-", ratio])
    return _table(["warm, index loaded", "p50", "p95", "p50 / floor"], rows)


def startup(r: dict) -> list[str]:
    st = r.get("startup", {})
    rows = []
    for name, row in [*((k, v) for k, v in st.items() if k != "imports"), *st.get("imports", {}).items()]:
        if "error" in row:
            rows.append([name, row["error"], "-"])
        else:
            rows.append([name, f"{row['median_s']:.2f} s", f"{row['peak_rss_mb']:.0f} MB"])
    return _table(["cold start (new process, median)", "wall time", "peak RSS"], rows)


def contention(r: dict) -> list[str]:
    c = r.get("contention", {})
    if "error" in c or not c:
        return [f"Thread contention: {c.get('error', NA)}", ""]
    labels = {"threads1": "1 intra-op thread (rag's query embedder)", "threads2": "2 intra-op threads",
              "threads2_nospin": "2 threads, no spin-wait"}
    rows = [[label, _ms(c.get(f"idle_{k}")), _ms(c.get(f"idle_{k}"), "p95_ms"), _ms(c.get(f"busy_{k}")),
             _ms(c.get(f"busy_{k}"), "p95_ms")] for k, label in labels.items() if f"idle_{k}" in c]
    return _table(["ONNX forward pass on a question", "idle p50", "idle p95", "one busy process p50", "busy p95"],
                  rows)


def builds(r: dict) -> list[str]:
    n = r.get("synthetic_paragraphs", 0)
    target = r.get("synthetic_target", 100_000)
    rows = []
    for backend, b in r.get("build", {}).items():
        if "error" in b:
            rows.append([backend, b["error"], "", "", "", "", "", ""])
            continue
        syn = b.get("synthetic", {})
        eta = f"{target / syn['paragraphs_per_s'] / 60:.0f} min" if syn.get("paragraphs_per_s") else "-"
        rows.append([backend, f"{b['seeds_cold']['paragraphs_per_s']} /s", f"{b['seeds_warm']['paragraphs_per_s']} /s",
                     f"{syn.get('paragraphs_per_s', '-')} /s ({syn.get('texts_per_s', '-')} texts/s)", eta,
                     b["recall_at_5_hybrid"], b["recall_at_5_dense"], f"{b['build_peak_rss_mb']:.0f} MB"])
    header = ["back-end", "seeds, cold process", "seeds, warm", f"{n:,} synthetic paragraphs",
              f"{target:,} paragraphs (extrapolated)", "recall@5 hybrid", "recall@5 dense", "build peak RSS"]
    return _table(header, rows)


def peer(r: dict) -> list[str]:
    lat, p = r.get("latency", {}), r.get("peer", {})
    rows = []
    if "retrieve" in lat:
        rows.append(["ours: `retrieve` hybrid (ONNX query, FAISS + BM25)", _ms(lat["retrieve"]),
                     _ms(lat["retrieve"], "p95_ms"), lat["recall_at_5"], f"{lat.get('serving_peak_rss_mb', 0):.0f} MB"])
    if "retrieve_dense" in lat:
        rows.append(["ours: `retrieve` dense only", _ms(lat["retrieve_dense"]), _ms(lat["retrieve_dense"], "p95_ms"),
                     lat.get("recall_at_5_dense", "-"), "-"])
    if "retrieve" in p:
        rows.append([f"peer: {p['peer']}", _ms(p["retrieve"]), _ms(p["retrieve"], "p95_ms"), p["recall_at_5"],
                     f"{p['peak_rss_mb']:.0f} MB"])
    else:
        rows.append(["peer", p.get("error", NA), "-", "-", "-"])
    lines = _table(["same paragraphs, embedder and questions", "p50", "p95", "recall@5", "peak RSS"], rows)
    if p.get("llamaindex_error"):
        lines.insert(0, f"LlamaIndex could not run offline: `{p['llamaindex_error']}`; compared against the fallback.\n")
    return lines


def shared(r: dict) -> list[str]:
    s = r.get("shared", {})
    if not s or "error" in s:
        return [f"Shared RAG_HOME: {s.get('error', NA)}", ""]
    ok = s["both_succeeded"] and s["identical_results"] and s["snapshot_unchanged"]
    return [f"Two processes served the {s['questions']} eval questions from one `RAG_HOME` at the same time "
            f"(pids {', '.join(map(str, s['pids']))}; {s['wall_s']} s): both succeeded: {s['both_succeeded']}, "
            f"identical rankings: {s['identical_results']}, snapshot files unchanged: {s['snapshot_unchanged']} "
            f"-> {'OK' if ok else 'FAILED'}.", ""]


def scale(r: dict) -> list[str]:
    sc = r.get("scale")
    if not sc:
        return ["Scale: not measured in this run (`.venv/bin/python benchmarks/run.py --scale`).", ""]
    lines = [f"Scale (measured {sc['date']}, clustered synthetic 384-d vectors, {sc['queries']} queries; "
             "search = rag.ann.search, one query at a time; memory = RSS growth of a fresh process that "
             "opened the index memory-mapped and served the queries):", ""]
    rows = []
    for n, kinds in sc.get("ann", {}).items():
        for kind, a in kinds.items():
            if "error" in a:
                rows.append([f"{int(n):,}", kind, a["error"], "", "", "", "", ""])
                continue
            rows.append([f"{int(n):,}", kind, f"{a['build_s']:.1f} s", _ms(a.get("search")), a.get("recall_at_10"),
                         f"{a.get('open_s', 0) * 1000:.0f} ms", f"{a['file_mb']:.0f} MB", f"{a.get('rss_mb', 0):.0f} MB"])
    lines += _table(["vectors", "index", "build", "search p50", "recall@10", "open (mmap)", "file", "memory"], rows)
    b = sc.get("bm25")
    if b:
        lines += _table(["BM25 (bm25s), recombined seed text", "value"], [
            ["paragraphs", f"{b['n']:,}"], ["build (tokenise + index)", f"{b['build_s']} s ({b['tokenise_s']} + {b['index_s']})"],
            ["open with mmap", f"{b.get('open_s', 0) * 1000:.0f} ms, {b.get('rss_after_open_mb', 0):.0f} MB RSS"],
            ["get_scores p50", _ms(b.get("scores"))],
            ["get_scores + full argsort p50", _ms(b.get("scores_argsort"))],
            ["get_scores + top-k as the snapshot store (`top_scored`) p50", _ms(b.get("scores_top_scored"))],
            ["disk / memory", f"{b['disk_mb']:.0f} MB / {b.get('rss_mb', 0):.0f} MB"]])
    s = sc.get("snapshot")
    if s and "error" in s:
        lines += [f"Whole snapshot: {s['error']}", ""]
    elif s:
        st = s.get("store", {})
        lines += _table([f"whole snapshot, {s['paragraphs']:,} paragraphs ({s['index_type']}, measured "
                         f"{s.get('date', sc['date'])})", "value"], [
            ["write (rag.index, vectors given)", f"{s['write_s']} s, {s['disk_mb']:,} MB on disk, "
                                                  f"peak RSS {s.get('write_peak_rss_mb', 0):,.0f} MB"],
            ["open dense.faiss alone (mmap)", f"{s.get('dense_open_s', 0) * 1000:.0f} ms"],
            ["open the whole snapshot (load_snapshot + SnapshotStore)", f"{s.get('snapshot_open_s', '-')} s, "
                                                                         f"{s.get('rss_after_open_mb', 0):,} MB RSS"],
            ["  before it, once per process: import faiss + bm25s; load the query model",
             f"{s.get('imports_s', '-')} s; {s.get('model_load_s', '-')} s"],
            ["retrieve p50 / p95 (eval questions, query embedding included)",
             f"{_ms(s.get('retrieve'))} / {_ms(s.get('retrieve'), 'p95_ms')}"],
            ["  of which dense (FAISS + sentence re-score) p50", _ms(s.get("dense"))],
            ["  of which BM25 p50", _ms(s.get("bm25"))],
            ["store.search hybrid p50 / p95 (vector given, benchmarks/stores.py probe)",
             f"{_ms(st.get('hybrid'))} / {_ms(st.get('hybrid'), 'p95_ms')}" if st else NA],
            ["recall@10 of hybrid search vs the same search with exact dense", _recall(st) if st else NA],
            ["serving peak RSS", f"{s.get('serving_peak_rss_mb', 0):,.0f} MB"]])
    lines += stores(sc) + ray(sc)
    return lines


def _recall(probe: dict, mode: str = "hybrid"):
    "recall@10 of a stores.py probe: per mode (its current output), or one top-level value (earlier runs)."
    return _get(probe, mode, "recall@10", default=probe.get("recall@10", NA) if mode == "hybrid" else NA)


def stores(sc: dict) -> list[str]:
    "Snapshot vs Postgres store side by side (benchmarks/stores.py), plus the 1M snapshot's probe."
    rows = []
    for n, x in sorted((sc.get("stores") or {}).items(), key=lambda kv: int(kv[0])):
        if "error" in x:
            rows.append([f"{int(n):,}", "both", x["error"], "", "", "", "", "", "", "", ""])
            continue
        for name in ("snapshot", "postgres"):
            y = x.get(name, {})
            if "error" in y:
                rows.append([f"{int(n):,}", name, y["error"], "", "", "", "", "", "", "", ""])
                continue
            write = f"{y.get('write_s', '-')} s" + (f" + HNSW {y['hnsw_build_s']} s" if "hnsw_build_s" in y else "")
            rows.append([f"{int(n):,}", name, write, f"{y.get('open_s', '-')} s", _ms(y.get("hybrid")),
                         _ms(y.get("hybrid"), "p95_ms"), _recall(y), _ms(y.get("bm25")), _recall(y, "bm25"),
                         f"{y.get('rss_after_open_mb', '-')} MB", f"{y.get('disk_mb', '-')} MB"])
    snap = sc.get("snapshot") or {}
    if snap.get("store") and "error" not in snap["store"]:
        y = snap["store"]
        rows.append([f"{snap['paragraphs']:,}", "snapshot", f"{snap['write_s']} s", f"{y['open_s']} s",
                     _ms(y.get("hybrid")), _ms(y.get("hybrid"), "p95_ms"), _recall(y), _ms(y.get("bm25")),
                     _recall(y, "bm25"), f"{y.get('rss_after_open_mb', '-')} MB", f"{snap['disk_mb']:,} MB"])
    if not rows:
        return []
    dates = sorted({x.get("date", "") for x in (sc.get("stores") or {}).values() if isinstance(x, dict)} - {""})
    head = [f"Snapshot vs Postgres store ({', '.join(dates) or sc.get('date')}; benchmarks/stores.py: the same synthetic "
            "paragraphs in both, each store opened in a fresh process, 200 queries of the eval questions' terms with "
            "in-distribution vectors; open includes importing the store's libraries; recall@10 against the same "
            "hybrid search done exactly; client RSS only, the Postgres server's own memory is its tables' size on disk; the "
            "1M snapshot's serving peak RSS is in the table above):", ""]
    return head + _table(["paragraphs", "store", "write", "open", "hybrid p50", "hybrid p95", "hybrid recall@10 vs exact",
                          "BM25 p50", "BM25 recall@10 vs exact", "client RSS after open", "on disk"], rows)


def ray(sc: dict) -> list[str]:
    x = sc.get("ray")
    if not x:
        return []
    if "error" in x:
        return [f"Ray ingestion: {x['error']}", ""]
    rows = []
    for name in ("single process", "ray"):
        y = x.get(name, {})
        rows.append([name, y.get("error") or f"{y['seconds']} s", "" if "error" in y else f"{y['paragraphs_per_s']} /s"])
    return [f"Ingestion ({x['date']}, benchmarks/ray_ingest.py): {x['paragraphs']:,} synthetic paragraphs, fresh "
            f"RAG_HOME, no embedding cache, {x['cores']} cores; `rag index` vs `rag index --ray` (a local Ray "
            f"instance, its start-up included); same top 5 for the eval questions: {x.get('same_top5', NA)}.", ""] + \
        _table(["build", "wall time", "paragraphs/s"], rows)


_SCALE_ROW = "| 1M"  # the targets the scale part measures
_SCALE_HEAD = "Scale (measured"
KEPT = ("The 1M rows of the table above and the scale tables below are from the last `make bench SCALE=1` "
        "run, with their dates (this run measured the rest).")


def kept_scale(readme: Path) -> tuple[list[str], list[str]]:
    """The 1M target rows and the scale tables of the README's bench block, for a run that measured
    no scale part and has no benchmarks/out/scale.json (a fresh clone): the README keeps them, with
    their dates, rather than losing a 40-minute measurement."""
    text = readme.read_text()
    block = text[text.find(START) : text.find(END)] if START in text else ""
    lines = block.splitlines()
    rows = [line for line in lines if line.startswith(_SCALE_ROW)]
    start = next((i for i, line in enumerate(lines) if line.startswith(_SCALE_HEAD)), None)
    if start is None:
        return rows, []
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("- ")), len(lines))
    return rows, lines[start:end]


def render(r: dict, kept: tuple[list[str], list[str]] = ([], [])) -> str:
    """The bench block; `kept` (kept_scale) stands in for the scale part when the run has none."""
    m = r["meta"]
    head = [f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['mem_gb']} GB), by `make bench` in "
            f"{m['seconds'] / 60:.1f} min. The machine is shared: load average {m['loadavg_start']} at the start, "
            f"{m['loadavg_end']} at the end, so absolute times are context; ratios were measured interleaved. "
            "Rerun: `make bench` (about 20 min); with the scale part (1M-paragraph snapshot, snapshot vs Postgres, "
            "Ray ingestion): `make bench SCALE=1` (about 40 min more); `.venv/bin/python benchmarks/run.py --help` "
            "for the rest.", ""]
    sections = [targets(r), reasons(r), latency(r), startup(r), contention(r), builds(r), peer(r), shared(r), scale(r)]
    rows, tables = kept
    if "scale" not in r and tables:
        old_rows = iter(rows)
        sections[0] = [next(old_rows, line) if line.startswith(_SCALE_ROW) else line for line in sections[0]]
        sections[-1] = [KEPT, "", *tables]
    notes = [f"- {n}" for n in r.get("notes", [])]
    return "\n".join(head + [line for s in sections for line in s] + notes).rstrip() + "\n"


def write_readme(readme: Path, table: str) -> None:
    text = readme.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no {START} ... {END} block")
    readme.write_text(pattern.sub(lambda _: f"{START}\n{table}{END}", text))
