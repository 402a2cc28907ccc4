"""The web UI: ask questions about the articles, read the cited paragraphs and whole articles, add articles.

    python app.py [--host 127.0.0.1] [--port 7860] [--mcp | --no-mcp]    (`make run` builds the index first)

`build_app(settings)` returns the Gradio Blocks without launching it; `launch_options(settings)` holds
the launch settings (bind address aside) that keep it safe. Rendering, sanitising, the page's script
and the API/MCP tools live in rag/ui/, so this file is layout and event handlers only.

API for scripts (each returns JSON text), and the same three as MCP tools at /gradio_api/mcp/:

    from gradio_client import Client
    json.loads(Client("http://127.0.0.1:7860/").predict("What is the Beijing Protocol?", api_name="/ask"))
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.config import Settings, load_settings  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.types import Answer, Status  # noqa: E402
from rag.ui import assets, render, uploads  # noqa: E402
from rag.ui.safe import safe_text  # noqa: E402
from rag.ui.tools import corpus, index_label, make_tools  # noqa: E402

EXAMPLES = [
    "What is the Beijing Protocol?",
    "When and in which city was the IACH award ceremony held?",
    "Where and when was the International Workshop on Cell Therapy for Blood Diseases held?",
    "What was discussed at the CSCO meeting?",
]
QUEUE_SIZE = 64  # waiting requests beyond this get "queue full" instead of an ever longer wait
ANSWER_WORKERS = 4  # answers computed at once (chat, API and MCP share them); each takes well under a second
MAX_TURNS = 50  # answers kept per session (server-side); older ones drop off the panel and the follow-up context

# System fonts: nothing to download, and no fallback glyphs mixed into headings.
THEME = gr.themes.Default(
    primary_hue="indigo", neutral_hue="slate",
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Liberation Sans", "Arial",
          "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
)


def _error(message: str) -> gr.Error:
    "A message for the user's modal (Gradio may render it as HTML, so it is escaped)."
    return gr.Error(safe_text(message), print_exception=False)


def _chat(turns: list[Answer]) -> list[dict]:
    "The chat, rebuilt from the session's answers: nothing the client sends back is ever parsed."
    out = []
    for t, a in enumerate(turns):
        out += [{"role": "user", "content": render.render_question(a.question)},
                {"role": "assistant", "content": render.render_answer(a, t)}]
    return out


def build_app(settings: Settings | None = None) -> gr.Blocks:
    """The Gradio app for these settings, queued but not launched. Uses a private GRADIO_TEMP_DIR
    under RAG_HOME, so uploads never land in a shared /tmp."""
    settings = settings or load_settings()
    temp = settings.home / "gradio"
    temp.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(temp)
    llm = f"openai:{settings.llm_model}" if settings.llm_configured else None
    default_backend = "openai" if llm else "extractive"

    def respond(message, turns, backend, k):
        """Stream one answer into the chat, then show the checked answer and its sources. The session's
        answers (gr.State, kept on the server) are the conversation: they give the follow-up context."""
        from rag.pipeline import ask_stream
        from rag.retrieval import check_query

        turns = list(turns or [])
        if not isinstance(message, str) or not message.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()  # the page disables Ask; a script gets nothing
            return
        try:
            question = check_query(message, settings)
        except ValueError as e:
            raise _error(str(e)) from None
        backend = backend if backend in ("extractive", "openai") else default_backend
        if backend == "openai" and not llm:
            raise _error("The LLM back-end is not configured (set RAG_LLM_MODEL and an endpoint or "
                         "OPENAI_API_KEY); use the offline extractive back-end.")
        k = max(1, min(20, int(k or settings.k)))
        history = [(a.question, a) for a in turns]  # Answers: follow-ups see what each turn cited
        done = _chat(turns)
        pending = [{"role": "user", "content": render.render_question(question)}]
        checking = backend == "openai"
        draft, status, answer = "", None, None
        yield "", [*done, *pending, {"role": "assistant", "content": render.render_draft("")}], gr.skip(), turns
        try:
            for item in ask_stream(question, history, backend=backend, k=k, settings=settings):
                if isinstance(item, Answer):
                    answer = item
                    continue
                if isinstance(item, Status):
                    status = item.text
                else:
                    draft, status = draft + item, None
                # (the box was cleared when the question was taken: what the reader types next is theirs)
                yield gr.skip(), [*done, *pending, {"role": "assistant", "content": render.render_draft(
                    draft, status, checking)}], gr.skip(), turns
        except (RagError, ValueError) as e:
            raise _error(str(e)) from None
        turns = [*turns, answer][-MAX_TURNS:]
        yield gr.skip(), _chat(turns), render.render_sources(turns), turns

    def new_chat():
        return [], render.EMPTY_SOURCES, [], ""

    def article(request) -> str:
        """The reader's server function: [doc_id, paragraph, "para:start-end;..."] from the page (the
        one argument Gradio passes), answered with the article rendered, the cited spans marked."""
        doc_id, paragraph, quotes = (list(request) + [None] * 3)[:3] if isinstance(request, list) else (None,) * 3
        doc = corpus(settings).get(str(doc_id))
        if doc is None:
            return '<p class="reader-meta">This article is no longer in the index.</p>'
        focus = paragraph if isinstance(paragraph, int) else 0
        return render.render_article(doc, focus, render.parse_quotes(quotes or ""))

    def landing():
        docs = list(corpus(settings).values())
        return (render.render_articles(docs, settings.uploads, index_label(settings)),
                _head_html(render.collection_summary(docs)))

    def add_articles(files, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio's idiom)
        """Add uploaded articles to the collection (one rebuild; the retriever picks up the new snapshot)."""
        paths = [Path(f) for f in (files or [])]
        try:
            if not paths:
                return None, uploads.render_upload_results([]), gr.skip(), gr.skip()
            progress(0.05, desc=f"Checking and indexing {len(paths)} file{'s' if len(paths) > 1 else ''}: "
                                "new paragraphs are embedded, the rest come from the cache…")
            results = uploads.add_uploads(paths, settings)
            progress(0.95, desc="Loading the new index…")
            return None, uploads.render_upload_results(results), *landing()
        finally:
            for p in paths:  # Gradio's temporary copy: the stored copy is outside anything served
                _discard_temp(p, temp)

    with gr.Blocks(title="News answers · cited", delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        head = gr.HTML(_head_html(render.collection_summary(list(corpus(settings).values()))), padding=False,
                       elem_id="app-head")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=340):
                    chatbot = gr.Chatbot(
                        show_label=False, elem_id="chat", height=540, render_markdown=False,
                        sanitize_html=True, allow_tags=False, latex_delimiters=[], feedback_options=None,
                        buttons=[], placeholder="**Ask about the articles.** Every claim links to the exact "
                        "paragraph it comes from. Follow-ups such as “When was it held?” use the conversation.",
                        examples=[{"text": q} for q in EXAMPLES],
                    )
                    with gr.Row(elem_id="question-row"):
                        textbox = gr.Textbox(
                            show_label=False, elem_id="question", scale=6, lines=1, max_lines=6,
                            placeholder="Ask about the articles…", autofocus=False,
                        )
                        send = gr.Button("Ask", variant="primary", elem_id="send", scale=1, min_width=90,
                                         interactive=True)
                    gr.HTML(f'<div id="qcount">0 / {settings.max_question_chars:,} characters</div>', padding=False)
                    with gr.Row():
                        clear = gr.Button("New chat", elem_id="new-chat", size="sm", variant="secondary",
                                          scale=0, min_width=110)
                        gr.HTML(_answering_note(settings, llm), padding=False)
                    if llm:
                        with gr.Accordion("Answer settings", open=False, elem_id="settings"):
                            backend = gr.Radio(
                                [("Language model: " + settings.llm_model, "openai"),
                                 ("Offline extractive", "extractive")], value=default_backend,
                                label="Who writes the answer",
                                info="The language model writes an answer from the passages, then every "
                                     "sentence is checked against them; the offline back-end quotes the "
                                     "articles' own sentences.")
                            k = gr.Slider(2, 12, value=settings.k, step=1, label="Passages given to the language model",
                                          info="More passages can cover more, and make the answer slower.")
                    else:
                        backend, k = gr.State(default_backend), gr.State(settings.k)
                with gr.Column(scale=2, min_width=300):
                    gr.Markdown("### Sources", elem_id="sources-head")
                    sources = gr.HTML(render.EMPTY_SOURCES, elem_id="sources-panel", padding=False)
            with gr.Tab("Articles", id="articles"):
                articles = gr.HTML(elem_id="articles", padding=False)
                with gr.Accordion("Add articles", open=True):
                    files = gr.File(
                        file_count="multiple", file_types=list(uploads.UPLOAD_SUFFIXES), elem_id="upload",
                        label=f"Upload articles: {uploads.FORMATS} (up to {settings.max_file_bytes // 2**20} MB each)",
                    )
                    add = gr.Button("Add to the index", variant="primary", elem_id="add")
                    upload_status = gr.HTML(elem_id="upload-status", padding=False)
        gr.HTML("", html_template=assets.READER_TEMPLATE, js_on_load=assets.READER_JS, server_functions=[article],
                elem_id="reader", apply_default_css=False, padding=False)

        answer_io = {"inputs": [textbox, turns, backend, k], "outputs": [textbox, chatbot, sources, turns],
                     "concurrency_id": "answer", "show_progress": "hidden"}
        gr.on([textbox.submit, send.click], respond, api_name="chat", api_visibility="undocumented", **answer_io)
        chatbot.example_select(_pick_example, None, textbox, queue=False, api_visibility="private").then(respond, api_visibility="private", **answer_io)
        clear.click(new_chat, outputs=[chatbot, sources, turns, textbox], queue=False, api_visibility="private")
        for tool in make_tools(settings, default_backend, _error):
            gr.api(tool, api_name=tool.__name__, concurrency_id="answer")
        add.click(add_articles, inputs=[files], outputs=[files, upload_status, articles, head],
                  api_name="add_articles", api_visibility="undocumented", concurrency_limit=1,
                  concurrency_id="ingest")
        demo.load(landing, outputs=[articles, head], api_visibility="private", show_progress="hidden")
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=ANSWER_WORKERS)
    return demo


def _pick_example(event: gr.SelectData) -> str:
    return event.value["text"]


def _head_html(collection: str) -> str:
    return ('<h1>Ask the news archive</h1><p>Short answers from the indexed articles: every claim carries a '
            "[n] marker that opens the exact source paragraph, and when the articles don't say, the assistant "
            f"says so.</p>{collection}")


def _answering_note(settings: Settings, llm: str | None) -> str:
    if llm:
        return '<p class="collection" id="answering">Answers: language model, checked against the sources.</p>'
    return ('<p class="collection" id="answering">Answers: offline extractive, quoting the articles. '
            "A language model can be configured with RAG_LLM_MODEL and an endpoint.</p>")


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


def is_loopback(host: str) -> bool:
    """Whether an address to bind is this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(settings: Settings, auth: tuple[str, str] | None = None, mcp: bool = False) -> dict:
    "demo.launch() keywords: no share link, size limit, nothing of RAG_HOME served, quiet errors."
    blocked = [str(p) for p in (settings.uploads, settings.home / "index", settings.home / "cache",
                                settings.home / "models", *settings.seeds)]
    return {
        "share": False, "auth": auth, "max_file_size": "10mb", "show_error": False, "enable_monitoring": False,
        "ssr_mode": False, "mcp_server": mcp, "strict_cors": True, "allowed_paths": [], "blocked_paths": blocked,
        "footer_links": ["api"], "theme": THEME, "css": assets.CSS,
        "head": assets.head_script(settings.max_question_chars),
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
        prog="app.py", description="Serve the citation-first news QA web UI, its API and its MCP tools.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="environment:\n"
               "  RAG_SEEDS, RAG_HOME   articles and index location (see `rag --help`)\n"
               "  RAG_AUTH              user:password to require a login (basic auth)\n"
               "  RAG_LLM_MODEL, RAG_LLM_BASE_URL / OPENAI_API_KEY   enable the LLM back-end\n"
               "The index is built first if it is missing or stale.\n"
               "MCP tools (ask, search, list_articles): http://HOST:PORT/gradio_api/mcp/",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--mcp", action=argparse.BooleanOptionalAction, default=None,
                        help="serve the MCP tools at /gradio_api/mcp/ (default: on when bound to a loopback address)")
    args = parser.parse_args(argv)
    auth = parse_auth(os.environ.get("RAG_AUTH"))
    mcp = is_loopback(args.host) if args.mcp is None else args.mcp
    settings = load_settings()
    from rag.pipeline import default_retriever

    try:
        print("Checking the index…", file=sys.stderr, flush=True)
        # builds the index if missing or stale, then loads it, the query model and its word vectors
        # (built once per model) before the first question
        default_retriever(settings, progress=True).lexicon()
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    demo = build_app(settings)
    print(f"Serving on http://{args.host}:{args.port}/" + ("  (login required)" if auth else ""), flush=True)
    if mcp:
        print(f"MCP tools at http://{args.host}:{args.port}/gradio_api/mcp/", flush=True)
    demo.launch(server_name=args.host, server_port=args.port, quiet=True, **launch_options(settings, auth, mcp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
