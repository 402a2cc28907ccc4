"""The web UI: ask questions about the articles, read the cited paragraphs, add articles.

    python app.py [--host 127.0.0.1] [--port 7860]       (`make run` builds the index first)

`build_app(settings)` returns the Gradio Blocks without launching it; `launch_options(settings)` holds
the launch settings (bind address aside) that keep it safe. Rendering and sanitising live in
rag/ui_helpers.py, so this file is layout and event handlers only. API for scripts:

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("What is the Beijing Protocol?", api_name="/ask")
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import ui_helpers as ui  # noqa: E402
from rag.config import Settings, load_settings  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.types import Answer  # noqa: E402

EXAMPLES = [
    "What is the Beijing Protocol?",
    "When and in which city was the IACH award ceremony held?",
    "Where and when was the International Workshop on Cell Therapy for Blood Diseases held?",
    "What was discussed at the CSCO meeting?",
]
QUEUE_SIZE = 64  # waiting requests beyond this get "queue full" instead of an ever longer wait
ANSWER_WORKERS = 4  # answers computed at once (chat and /ask share them); each takes well under a second

# System fonts: nothing to download, and no fallback glyphs mixed into headings.
THEME = gr.themes.Default(
    primary_hue="indigo", neutral_hue="slate",
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Liberation Sans", "Arial",
          "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
)
CSS = """
.gradio-container { max-width: 1320px !important; width: 100% !important; margin: 0 auto; }
#app-head h1 { margin: 0; font-size: 1.45rem; }
#app-head p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
.rag-answer { line-height: 1.6; }
.rag-answer.draft { color: var(--body-text-color-subdued); }
.rag-answer.abstained { font-style: italic; color: var(--body-text-color-subdued);
  border-left: 3px dashed var(--border-color-primary); padding-left: .6rem; }
.rag-icon { font-style: normal; font-weight: 700; margin-right: .2rem; }
.cursor { animation: blink 1s step-end infinite; margin-left: 1px; }
@keyframes blink { 50% { opacity: 0; } }
sup.cites { margin-left: 2px; white-space: nowrap; }
a.cite { text-decoration: none !important; font-weight: 600; font-size: .85em; padding: 0 .15em;
  border-radius: 4px; color: var(--color-accent) !important; cursor: pointer; }
a.cite:hover { background: var(--color-accent-soft); }
a.cite.bad { color: #b42318 !important; }
.unsupported { text-decoration: underline wavy #d92d20; text-underline-offset: 3px; }
.rag-meta { margin-top: .45rem; font-size: .8rem; color: var(--body-text-color-subdued); display: flex;
  flex-wrap: wrap; gap: .5rem; align-items: center; }
.rag-notice { color: #93370d; }
.flag { color: #b42318; }
.badge { display: inline-block; font-size: .72rem; padding: .05rem .45rem; border-radius: 999px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color-subdued); font-style: normal; }
.badge.up { border-color: var(--color-accent); color: var(--color-accent); }
#sources-panel { max-height: 640px; overflow-y: auto; }
.src-panel .src-empty, .src-panel .src-none { color: var(--body-text-color-subdued); font-size: .9rem; }
.src-panel details.turn { margin-bottom: .6rem; }
.src-panel summary.turn-q { cursor: pointer; font-weight: 600; padding: .3rem 0; list-style-position: outside; }
.src-panel summary.turn-q .badge { margin-left: .5rem; font-weight: 400; }
.turn-n { color: var(--color-accent); margin-right: .25rem; }
.src-panel details.src { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .45rem .7rem; margin: .45rem 0; background: var(--background-fill-primary);
  transition: box-shadow .3s, border-color .3s; scroll-margin-top: 12px; }
.src-panel details.src.bad { border-color: #f04438; }
.src-panel details.src > summary { cursor: pointer; list-style: none; }
.src-panel details.src > summary::-webkit-details-marker { display: none; }
.src-n { font-weight: 700; color: var(--color-accent); }
.src-title { font-weight: 600; }
.src-where { display: block; font-size: .78rem; color: var(--body-text-color-subdued); }
.src-flag { display: block; font-size: .78rem; color: #b42318; }
.src-quote { display: block; font-size: .86rem; margin-top: .3rem; color: var(--body-text-color);
  border-left: 3px solid #fbbf24; padding-left: .5rem; }
details.src[open] .src-quote { display: none; }
.src-para { font-size: .9rem; line-height: 1.55; margin: .4rem 0 .2rem; white-space: pre-wrap; }
.src-para mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 3px; }
.src-ref, .src-notice { font-size: .74rem; color: var(--body-text-color-subdued); margin: 0; }
.src-notice { color: #93370d; }
details.src.flash { box-shadow: 0 0 0 3px var(--color-accent); border-color: var(--color-accent); }
.art-summary { margin: 0 0 .5rem; }
table.articles, table.articles tr { width: 100%; border-collapse: collapse; font-size: .9rem; border: none !important; }
table.articles th, table.articles td { text-align: left; padding: .45rem .6rem !important; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; vertical-align: top; }
table.articles th { font-size: .78rem; text-transform: uppercase; letter-spacing: .03em;
  color: var(--body-text-color-subdued); }
table.articles td.num { text-align: right; }
table.articles small { color: var(--body-text-color-subdued); }
.upload-status li.ok { color: #067647; } .upload-status li.bad { color: #b42318; }
.upload-status ul { margin: .3rem 0 0; padding-left: 1rem; list-style: none; }
"""

# Clicking an [n] marker opens that source card (and its turn) in the panel and scrolls it into view.
HEAD = """<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.cite");
  if (!link) return;
  event.preventDefault();
  var card = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!card) return;
  for (var d = card; d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
  card.scrollIntoView({behavior: "smooth", block: "nearest"});
  card.classList.add("flash");
  setTimeout(function () { card.classList.remove("flash"); }, 1600);
}, true);
</script>"""


def _error(message: str) -> gr.Error:
    "A message for the user's modal (Gradio may render it as HTML, so it is escaped)."
    return gr.Error(ui.safe_text(message), print_exception=False)


def build_app(settings: Settings | None = None) -> gr.Blocks:
    """The Gradio app for these settings, queued but not launched. Uses a private GRADIO_TEMP_DIR
    under RAG_HOME, so uploads never land in a shared /tmp."""
    settings = settings or load_settings()
    temp = settings.home / "gradio"
    temp.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(temp)
    backends = ["extractive", "openai"]
    default_backend = "openai" if settings.llm_configured else "extractive"

    def check(question, backend) -> tuple[str, str]:
        from rag.retrieval import check_query

        try:
            question = check_query(question, settings)
        except ValueError as e:
            raise _error(str(e)) from None
        backend = backend or default_backend
        if backend not in backends:
            raise _error(f"Unknown back-end {backend!r}; choose extractive or openai.")
        if backend == "openai" and not settings.llm_configured:
            raise _error("The LLM back-end is not configured (set RAG_LLM_MODEL and an endpoint or "
                         "OPENAI_API_KEY); use the offline extractive back-end.")
        return question, backend

    def respond(message, history, turns, k, backend):
        """Stream an answer into the chat, then show the validated answer and its sources."""
        from rag.pipeline import ask_stream

        question, backend = check(message, backend)
        k = max(1, min(20, int(k or settings.k)))
        turns = list(turns or [])
        pairs = ui.history_pairs(history)
        chat = [*(history or []), {"role": "user", "content": ui.render_question(question)},
                {"role": "assistant", "content": ui.render_draft("")}]
        yield "", chat, gr.skip(), turns
        draft, answer = "", None
        try:
            for item in ask_stream(question, pairs, backend=backend, k=k, settings=settings):
                if isinstance(item, Answer):
                    answer = item
                elif isinstance(item, str):  # rag.types.Status items (queued, reasoning) are not text
                    draft += item
                    chat[-1] = {"role": "assistant", "content": ui.render_draft(draft)}
                    yield "", chat, gr.skip(), turns
        except (RagError, ValueError) as e:
            raise _error(str(e)) from None
        turns.append(answer.to_dict())
        chat[-1] = {"role": "assistant", "content": ui.render_answer(answer, len(turns) - 1)}
        yield "", chat, ui.render_sources(turns), turns

    def ask_api(question: str) -> dict:
        """Answer a question from the articles: text with [n] markers, citations (marker, doc_id,
        title, date, paragraph, start, end, text, supported, quotes), abstained, backend, notice."""
        from rag.pipeline import ask

        question, backend = check(question, default_backend)
        try:
            return ask(question, backend=backend, settings=settings).to_dict()
        except (RagError, ValueError) as e:
            raise _error(str(e)) from None

    def articles_html():
        from rag.retrieval import get_retriever

        snap = get_retriever(settings).snapshot
        return ui.render_articles(snap.docs.values(), settings.uploads, snap.path.name)

    def add_articles(files, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio's idiom)
        """Check, store and index uploaded articles; the retriever picks up the new snapshot."""
        from rag.index import build_index
        from rag.retrieval import get_retriever

        paths = [Path(f) for f in (files or [])]
        try:
            if not paths:
                return None, ui.render_upload_results([]), gr.skip()
            progress(0.05, desc=f"Checking {len(paths)} file{'s' if len(paths) > 1 else ''}…")
            indexed = {d.sha256: d.title for d in get_retriever(settings).snapshot.docs.values()}

            def build():
                progress(0.2, desc="Indexing: new paragraphs are embedded, the rest come from the cache…")
                return build_index(settings, progress=True, warn=lambda m: None)

            results = ui.add_uploads(paths, settings, indexed, build)
            progress(0.95, desc="Loading the new index…")
            return None, ui.render_upload_results(results), articles_html()
        finally:
            for p in paths:  # Gradio's temporary copy: the stored copy is outside anything served
                _discard_temp(p, temp)

    with gr.Blocks(title="News answers · cited", delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        gr.HTML('<div id="app-head"><h1>Ask the news archive</h1><p>Short answers from the indexed '
                "articles. Every claim carries a [n] marker that opens the exact source paragraph; "
                "when the articles don't say, the assistant says so.</p></div>", padding=False)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    chatbot = gr.Chatbot(
                        label="Conversation", elem_id="chat", height=560, render_markdown=False,
                        sanitize_html=True, allow_tags=False, latex_delimiters=[], feedback_options=None,
                        buttons=["copy"], placeholder="Ask a question below, or pick an example. "
                        "Follow-ups such as “When was it held?” use the conversation so far.",
                    )
                    with gr.Row():
                        textbox = gr.Textbox(
                            label="Question", show_label=False, elem_id="question", scale=6, autofocus=True,
                            max_length=settings.max_question_chars, lines=1, max_lines=6,
                            placeholder="Ask about the articles…  (Enter to send)",
                        )
                        send = gr.Button("Ask", variant="primary", elem_id="send", scale=1, min_width=100)
                    examples = gr.Examples(EXAMPLES, inputs=[textbox], label="Example questions")
                    with gr.Accordion("Settings", open=False, elem_id="settings"):
                        k = gr.Slider(1, 10, value=settings.k, step=1, label="Passages to retrieve (k)",
                                      info="How many paragraphs the answer may draw on.")
                        backend = gr.Radio(
                            backends, value=default_backend, label="Answer back-end",
                            interactive=settings.llm_configured,
                            info=("extractive: offline, quotes the articles' own sentences. openai: "
                                  f"{settings.llm_model}." if settings.llm_configured else
                                  "Offline extractive answers. The LLM back-end needs RAG_LLM_MODEL "
                                  "and an endpoint (RAG_LLM_BASE_URL or OPENAI_API_KEY)."),
                        )
                with gr.Column(scale=2, min_width=320):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(ui.EMPTY_SOURCES, label="Sources", elem_id="sources-panel", padding=False)
            with gr.Tab("Sources", id="articles"):
                articles = gr.HTML(label="Indexed articles", elem_id="articles", padding=False)
                with gr.Accordion("Add articles", open=True):
                    files = gr.File(
                        file_count="multiple", file_types=list(ui.UPLOAD_SUFFIXES), elem_id="upload",
                        label=f"Upload .txt, .md or .html files (up to {settings.max_file_bytes // 2**20} MB each)",
                    )
                    add = gr.Button("Add to the index", variant="primary", elem_id="add")
                    upload_status = gr.HTML(label="Upload result", elem_id="upload-status", padding=False)

        answer_io = {"inputs": [textbox, chatbot, turns, k, backend], "outputs": [textbox, chatbot, sources, turns],
                     "concurrency_id": "answer", "show_progress": "hidden"}
        gr.on([textbox.submit, send.click], respond, api_name="chat", **answer_io)
        examples.load_input_event.then(respond, api_visibility="undocumented", **answer_io)
        chatbot.clear(lambda: (ui.EMPTY_SOURCES, []), outputs=[sources, turns], queue=False,
                      api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_id="answer")
        add.click(add_articles, inputs=[files], outputs=[files, upload_status, articles], api_name="add_articles",
                  concurrency_limit=1, concurrency_id="ingest")
        demo.load(articles_html, outputs=[articles], api_visibility="private")
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=ANSWER_WORKERS)
    return demo


def _discard_temp(path: Path, temp_root: Path) -> None:
    "Delete a file Gradio received, and its folder if now empty, only inside Gradio's temp dir."
    try:
        path, root = Path(path).resolve(), temp_root.resolve()
    except OSError:
        return
    if not path.is_relative_to(root) or path == root:
        return
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        if path.parent != root:
            path.parent.rmdir()


def launch_options(settings: Settings, auth: tuple[str, str] | None = None) -> dict:
    "demo.launch() keywords: no share link, size limit, nothing of RAG_HOME served, quiet errors."
    blocked = [str(p) for p in (settings.uploads, settings.home / "index", settings.home / "cache",
                                settings.home / "models", *settings.seeds)]
    return {
        "share": False, "auth": auth, "max_file_size": "10mb", "show_error": False, "enable_monitoring": False,
        "ssr_mode": False, "mcp_server": False, "strict_cors": True, "allowed_paths": [], "blocked_paths": blocked,
        "footer_links": ["api"], "theme": THEME, "css": CSS, "head": HEAD,
    }


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """RAG_AUTH="user:password" -> ("user", "password"); unset or empty -> None.

    >>> parse_auth("ada:s3cret:x")
    ('ada', 's3cret:x')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not (sep and user and password):
        raise SystemExit("error: RAG_AUTH must look like user:password")
    return user, password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="app.py", description="Serve the citation-first news QA web UI (and its /ask API).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="environment:\n"
               "  RAG_SEEDS, RAG_HOME   articles and index location (see `rag --help`)\n"
               "  RAG_AUTH              user:password to require a login (basic auth)\n"
               "  RAG_LLM_MODEL, RAG_LLM_BASE_URL / OPENAI_API_KEY   enable the LLM back-end\n"
               "The index is built first if it is missing or stale.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    args = parser.parse_args(argv)
    auth = parse_auth(os.environ.get("RAG_AUTH"))
    settings = load_settings()
    from rag.retrieval import get_retriever

    try:
        print("Checking the index…", flush=True)
        # builds the index if missing or stale, then loads it and the query model before the first question
        get_retriever(settings, progress=True, warn=lambda m: print(m, file=sys.stderr))
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    demo = build_app(settings)
    print(f"Serving on http://{args.host}:{args.port}/" + ("  (login required)" if auth else ""), flush=True)
    demo.launch(server_name=args.host, server_port=args.port, **launch_options(settings, auth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
