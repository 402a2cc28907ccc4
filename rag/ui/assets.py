"""The page's stylesheet and script. Plain strings, passed to Gradio's launch(css=..., head=...).

The script builds every popover, sheet and label with textContent or by cloning nodes the server
rendered (already escaped and audited): it never turns text into markup. Its only network use is the
reader's call to the app's own server function.
"""

from __future__ import annotations

CSS = """
.gradio-container { max-width: 1320px !important; width: 100% !important; margin: 0 auto; }
#app-head h1 { margin: 0; font-size: 1.4rem; }
#app-head p { margin: .15rem 0 0; color: var(--body-text-color-subdued); font-size: .92rem; }
#app-head .collection { margin: .2rem 0 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  font-size: .85rem; color: var(--body-text-color-subdued); }
#app-head .collection strong { color: var(--body-text-color); }
#chat { height: max(320px, calc(100vh - 330px)) !important; }
#chat button[aria-label="Clear"], #chat button[title="Clear"] { display: none !important; }
.sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
#chat .message-wrap, #chat .bubble-wrap { padding-bottom: 3rem; }
.rag-q { max-height: 7.5em; overflow-y: auto; overflow-wrap: anywhere; }
.rag-answer { line-height: 1.6; }
.rag-answer.draft { color: var(--body-text-color-subdued); font-style: italic; }
.rag-answer.abstained { font-style: italic; color: var(--body-text-color-subdued);
  border-left: 3px dashed var(--border-color-primary); padding-left: .6rem; }
.rag-icon { font-style: normal; font-weight: 700; margin-right: .2rem; }
.rag-md { display: none; }
.cursor { animation: blink 1s step-end infinite; margin-left: 1px; font-style: normal; }
@keyframes blink { 50% { opacity: 0; } }
sup.cites { margin-left: 2px; white-space: nowrap; }
a.cite { text-decoration: none !important; font-weight: 600; font-size: .85em; padding: 0 .15em;
  border-radius: 4px; color: var(--color-accent) !important; cursor: pointer; }
a.cite:hover, a.cite:focus-visible { background: var(--color-accent-soft); outline: 2px solid var(--color-accent); }
a.cite.bad { color: #b42318 !important; }
.dark a.cite.bad, .dark .flag, .dark .src-flag { color: #fda29b !important; }
.unsupported { text-decoration: underline wavy #d92d20; text-underline-offset: 3px; }
.dark .unsupported { text-decoration-color: #fda29b; }
.rag-meta { margin-top: .45rem; font-size: .8rem; color: var(--body-text-color-subdued); display: flex;
  flex-wrap: wrap; gap: .5rem; align-items: center; }
.rag-searched { margin-top: .2rem; }
.rag-query { font-style: italic; overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 2;
  -webkit-box-orient: vertical; overflow: hidden; }
.rag-searched > span { display: flex; flex-wrap: wrap; gap: .3rem; align-items: baseline; min-width: 0; flex: 1 1 14rem;
  overflow-wrap: normal; }
#answering { font-size: .8rem; color: var(--body-text-color-subdued); margin: .3rem 0 0; }
.rag-notice, .src-notice { color: #93370d; }
.dark .rag-notice, .dark .src-notice { color: #fec84b; }
.flag { color: #b42318; }
.rag-msg button, .src-panel button, .rag-pop button, #reader button {
  font: inherit; font-size: .78rem; padding: .1rem .55rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color); }
.rag-msg button:hover, .src-panel button:hover, .rag-pop button:hover, #reader button:hover {
  border-color: var(--color-accent); }
.rag-msg button:focus-visible, .src-panel button:focus-visible, .rag-pop button:focus-visible,
#reader button:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.badge { display: inline-block; font-size: .72rem; padding: .05rem .45rem; border-radius: 999px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color-subdued); font-style: normal; }
.badge.up { border-color: var(--color-accent); color: var(--color-accent); }
#qcount { font-size: .75rem; color: var(--body-text-color-subdued); text-align: right; margin: -.3rem .2rem 0; }
#qcount.over { color: #b42318; font-weight: 600; }
.dark #qcount.over { color: #fda29b; }
#send:disabled, #send[disabled] { opacity: .45; cursor: not-allowed; }
#sources-panel { max-height: 640px; overflow-y: auto; }
.src-panel .src-empty, .src-panel .src-none { color: var(--body-text-color-subdued); font-size: .9rem; }
.src-panel details.turn { margin-bottom: .6rem; }
.src-panel summary.turn-q { cursor: pointer; font-weight: 600; padding: .3rem 0; display: flex; gap: .35rem;
  align-items: baseline; list-style: none; }
.src-panel summary.turn-q::-webkit-details-marker { display: none; }
.src-panel summary.turn-q::before { content: "▸"; color: var(--body-text-color-subdued); }
.src-panel details.turn[open] > summary.turn-q::before { content: "▾"; }
.src-panel summary.turn-q .q-text { overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 2;
  -webkit-box-orient: vertical; overflow: hidden; flex: 1; }
.src-panel summary.turn-q .badge { font-weight: 400; white-space: nowrap; }
.turn-query { font-size: .8rem; color: var(--body-text-color-subdued); margin: 0 0 .3rem; }
.turn-n { color: var(--color-accent); margin-right: .25rem; }
.src-panel details.src { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .45rem .7rem; margin: .45rem 0; background: var(--background-fill-primary);
  transition: box-shadow .3s, border-color .3s; }
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
mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 3px; }
.dark mark { background: #a16207; color: #fefce8; }
.src-ref { font-size: .74rem; color: var(--body-text-color-subdued); margin: 0 0 .3rem; }
details.src.flash { box-shadow: 0 0 0 3px var(--color-accent); border-color: var(--color-accent); }
details.uncited { margin: .5rem 0 0; font-size: .86rem; }
details.uncited > summary { cursor: pointer; color: var(--body-text-color-subdued); }
ol.hits { list-style: none; padding: 0; margin: .3rem 0 0; }
li.hit { border: 1px dashed var(--border-color-primary); border-radius: 8px; padding: .4rem .6rem; margin: .35rem 0; }
.hit-rank { font-weight: 700; color: var(--body-text-color-subdued); }
.hit-score { font-size: .75rem; color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; }
.hit-text { display: block; font-size: .84rem; margin: .25rem 0 .3rem; }
.collection { font-size: .9rem; }
.art-summary { margin: 0 0 .5rem; }
table.articles, table.articles tr { width: 100%; border-collapse: collapse; font-size: .9rem; border: none !important; }
table.articles th, table.articles td { text-align: left; padding: .45rem .6rem !important; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important; vertical-align: top; }
table.articles th { font-size: .78rem; text-transform: uppercase; letter-spacing: .03em;
  color: var(--body-text-color-subdued); }
table.articles td.num { text-align: right; }
table.articles small { color: var(--body-text-color-subdued); }
.upload-status li.ok { color: #067647; } .upload-status li.bad { color: #b42318; }
.dark .upload-status li.ok { color: #75e0a7; } .dark .upload-status li.bad { color: #fda29b; }
.upload-status ul { margin: .3rem 0 0; padding-left: 1rem; list-style: none; }
/* the citation popover (desktop) and bottom sheet (phone) */
.rag-pop { position: fixed; z-index: 100001; max-width: 380px; padding: .65rem .8rem; border-radius: 10px;
  background: var(--background-fill-primary); color: var(--body-text-color); font-size: .88rem; line-height: 1.45;
  border: 1px solid var(--border-color-primary); box-shadow: 0 8px 28px rgba(0,0,0,.22); }
.rag-pop[hidden] { display: none; }
.rag-pop .pop-title { font-weight: 600; display: block; }
.rag-pop .pop-where { display: block; font-size: .76rem; color: var(--body-text-color-subdued); margin-bottom: .35rem; }
.rag-pop .pop-quote, .rag-pop .src-para { display: block; border-left: 3px solid #fbbf24; padding-left: .5rem;
  margin: .2rem 0 .5rem; white-space: normal; }
.rag-pop .pop-actions { display: flex; gap: .45rem; flex-wrap: wrap; }
.rag-pop.sheet { left: 0 !important; right: 0; bottom: 0; top: auto !important; max-width: none;
  max-height: 65vh; overflow-y: auto; border-radius: 14px 14px 0 0; padding: 1rem 1rem 1.4rem; }
/* the article reader: a drawer on the right, the whole screen on a phone */
#reader { position: fixed; top: 0; right: 0; bottom: 0; width: min(560px, 100vw); z-index: 100000;
  background: var(--background-fill-primary); border-left: 1px solid var(--border-color-primary);
  box-shadow: -8px 0 28px rgba(0,0,0,.2); display: none; flex-direction: column; }
#reader.open { display: flex; }
body:has(#reader.open) button[aria-label="Scroll down"] { display: none !important; }
#reader .html-container, #reader .html-container > div { display: flex; flex-direction: column; flex: 1;
  min-height: 0; width: 100%; }
#reader .reader-bar { display: flex; justify-content: space-between; align-items: center; gap: .5rem;
  padding: .6rem .9rem; border-bottom: 1px solid var(--border-color-primary); font-size: .85rem;
  color: var(--body-text-color-subdued); }
#reader .reader-body { overflow-y: auto; padding: .4rem 1rem 2rem; flex: 1; }
#reader h2.reader-title { font-size: 1.15rem; margin: .6rem 0 .2rem; }
#reader .reader-meta { font-size: .8rem; color: var(--body-text-color-subdued); margin: 0 0 .8rem; }
#reader .art-p { line-height: 1.6; margin: 0 0 .8rem; padding: .15rem .4rem .15rem 2rem; position: relative;
  border-radius: 6px; white-space: pre-wrap; }
#reader .art-p.focus { background: var(--color-accent-soft); }
#reader .art-n { position: absolute; left: .3rem; top: .2rem; font-size: .72rem; color: var(--body-text-color-subdued); }
#reader .art-page { display: block; font-size: .72rem; color: var(--body-text-color-subdued); }
@media (max-width: 700px) {
  #app-head h1 { font-size: 1.15rem; }
  #chat { height: 62vh !important; }
  #app-head p:not(.collection) { display: none; }
  .gradio-container .main.fillable { padding-left: 10px !important; padding-right: 10px !important; }
  #question { padding: 6px !important; }
  #question-row { flex-wrap: wrap; }
  #question-row > * { min-width: 100% !important; }
  #sources-panel { max-height: none; }
}
"""


def head_script(max_question_chars: int) -> str:
    "The page script (see the module docstring), with the question length limit filled in."
    return f"<script>\nconst RAG_MAX_Q = {int(max_question_chars)};\n{_JS}\n</script>"


_JS = r"""
(function () {
  const phone = () => window.matchMedia("(max-width: 700px)").matches;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const question = () => $("#question textarea");
  let pop = null, popFor = null, hideTimer = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function cardFor(link) { return document.getElementById((link.getAttribute("href") || "").slice(1)); }

  // --- the question box: a counter with the limit; Ask only when there is something to ask -------------
  function syncQuestion() {
    const box = question(), send = $("#send"), count = $("#qcount");
    if (!box) return;
    const n = box.value.length, empty = !box.value.trim(), over = n > RAG_MAX_Q;
    if (count) {
      count.textContent = n.toLocaleString("en") + " / " + RAG_MAX_Q.toLocaleString("en") +
        (over ? " characters: too long, shorten it to ask" : " characters");
      count.classList.toggle("over", over);
    }
    if (send) { send.disabled = empty || over; send.setAttribute("aria-disabled", String(empty || over)); }
  }
  document.addEventListener("input", (e) => { if (e.target === question()) syncQuestion(); }, true);
  setInterval(syncQuestion, 150);  // the server clears the box after a question: no input event for that
  document.addEventListener("keydown", (e) => {
    const box = question();
    if (e.target === box && e.key === "Enter" && !e.shiftKey &&
        (!box.value.trim() || box.value.length > RAG_MAX_Q)) {
      e.preventDefault(); e.stopImmediatePropagation();
    }
  }, true);

  // --- citation popover (hover or focus), bottom sheet on a phone --------------------------------------
  function ensurePop() {
    if (pop) return pop;
    pop = el("div", "rag-pop");
    pop.hidden = true;
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-label", "Source preview");
    pop.addEventListener("mouseenter", () => clearTimeout(hideTimer));
    pop.addEventListener("mouseleave", () => { if (!pop.classList.contains("pinned")) hidePop(); });
    document.body.appendChild(pop);
    return pop;
  }
  function hidePop(refocus) {
    if (!pop || pop.hidden) return;
    pop.hidden = true;
    pop.classList.remove("pinned", "sheet");
    if (refocus && popFor) popFor.focus();
    popFor = null;
  }
  function showPop(link, pinned) {
    const card = cardFor(link);
    if (!card) return;
    const p = ensurePop();
    clearTimeout(hideTimer);
    p.replaceChildren();
    const title = card.querySelector(".src-title"), where = card.querySelector(".src-where");
    p.appendChild(el("span", "pop-title", (link.textContent.match(/^\[\d+/) || [""])[0] + "] " +
                     (title ? title.textContent : "")));
    p.appendChild(el("span", "pop-where", where ? where.textContent : ""));
    const flag = card.querySelector(".src-flag");
    if (flag) p.appendChild(el("span", "pop-where", flag.textContent));
    const sheet = phone();
    if (sheet) {
      const para = card.querySelector(".src-para");
      if (para) p.appendChild(para.cloneNode(true));  // server-rendered, escaped, with the sentence marked
    } else {
      const quote = card.querySelector(".src-quote");
      p.appendChild(el("span", "pop-quote", quote ? quote.textContent : ""));
    }
    const actions = el("div", "pop-actions");
    if (!sheet) {
      const open = el("button", "pop-open", "Open in panel");
      open.type = "button";
      open.addEventListener("click", () => { hidePop(); openInPanel(card); });
      actions.appendChild(open);
    }
    const read = el("button", "pop-read", "Read the full article");
    read.type = "button";
    read.addEventListener("click", () => { const back = popFor; hidePop(); openReader(card, back); });
    actions.appendChild(read);
    const close = el("button", "pop-close", "Close");
    close.type = "button";
    close.addEventListener("click", () => hidePop(true));
    actions.appendChild(close);
    p.appendChild(actions);
    p.classList.toggle("sheet", sheet);
    p.classList.toggle("pinned", !!pinned || sheet);
    p.hidden = false;
    popFor = link;
    if (!sheet) {
      const r = link.getBoundingClientRect(), w = p.offsetWidth, h = p.offsetHeight;
      const left = Math.max(8, Math.min(r.left, window.innerWidth - w - 8));
      const top = r.bottom + 6 + h < window.innerHeight ? r.bottom + 6 : Math.max(8, r.top - h - 6);
      p.style.left = left + "px"; p.style.top = top + "px";
    } else { p.style.left = ""; p.style.top = ""; }
    if (pinned || sheet) (p.querySelector("button") || p).focus({preventScroll: true});
  }
  document.addEventListener("mouseover", (e) => {
    const link = e.target.closest && e.target.closest("a.cite");
    if (!link || phone()) return;
    if (link === popFor) clearTimeout(hideTimer);
    else showPop(link, false);
  });
  document.addEventListener("mouseout", (e) => {
    const link = e.target.closest && e.target.closest("a.cite");
    if (link && !link.contains(e.relatedTarget) && pop && !pop.classList.contains("pinned")) {
      hideTimer = setTimeout(hidePop, 250);
    }
  });
  document.addEventListener("focusin", (e) => {
    const t = e.target;
    // A preview on keyboard focus only: a tap or click decides for itself (below).
    if (t.matches && t.matches("a.cite:focus-visible")) { if (t !== popFor && !phone()) showPop(t, false); }
    else if (pop && !pop.hidden && !pop.contains(t) && !pop.classList.contains("sheet")) hidePop();
  });

  // --- open a source card in the panel: scroll the panel, not the page --------------------------------
  function openInPanel(card) {
    for (let d = card; d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
    if (phone()) card.scrollIntoView({block: "start"});
    else {
      let box = card.parentElement;
      while (box && box !== document.body && !(box.scrollHeight > box.clientHeight + 1 &&
             /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
      if (box && box !== document.body) {
        box.scrollTop += card.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      }
    }
    card.classList.add("flash");
    setTimeout(() => card.classList.remove("flash"), 1600);
    const summary = card.querySelector("summary");
    if (summary) summary.focus({preventScroll: true});
  }

  // --- the article reader ----------------------------------------------------------------------------
  function openReader(item, back) {
    if (!window.ragReader) return;
    const doc = item.dataset.doc, para = parseInt(item.dataset.para || "0", 10);
    const quotes = [];
    const turn = item.closest("details.turn");
    (turn ? turn.querySelectorAll("details.src") : []).forEach((c) => {
      if (c.dataset.doc !== doc) return;
      (c.dataset.quotes || "").split(",").filter(Boolean).forEach((q) => quotes.push(c.dataset.para + ":" + q));
    });
    window.ragReader.open(doc, para, quotes.join(";"), back || item.querySelector("button.open-article"));
  }

  document.addEventListener("click", (e) => {
    const t = e.target;
    const link = t.closest && t.closest("a.cite");
    if (link) {
      e.preventDefault();
      if (phone() || e.detail === 0) showPop(link, true);  // a tap, or Enter from the keyboard
      else { hidePop(); const card = cardFor(link); if (card) openInPanel(card); }
      return;
    }
    if (t.closest && t.closest("button.open-article")) {
      const item = t.closest("details.src, li.hit");
      if (item) openReader(item, t.closest("button"));
      return;
    }
    if (t.closest && t.closest("button.rag-copy")) {
      const b = t.closest("button"), msg = b.closest(".rag-msg"), md = msg && msg.querySelector(".rag-md");
      if (!md) return;
      const done = () => { b.textContent = "Copied"; setTimeout(() => { b.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(md.textContent).then(done);
      else {
        const area = el("textarea"); area.value = md.textContent; document.body.appendChild(area);
        area.select(); document.execCommand("copy"); area.remove(); done();
      }
      return;
    }
    if (t.closest && t.closest("button.rag-rerun")) {
      const msg = t.closest(".rag-msg"), q = msg && msg.querySelector(".rag-query"), box = question();
      if (!q || !box) return;
      box.value = q.textContent;
      box.dispatchEvent(new Event("input", {bubbles: true}));
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      return;
    }
    if (pop && !pop.hidden && !pop.contains(t)) hidePop();
  }, true);

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      if (window.ragReader && window.ragReader.isOpen()) { e.preventDefault(); window.ragReader.close(); }
      else if (pop && !pop.hidden) { e.preventDefault(); hidePop(true); }
    } else if (e.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      const box = question();
      if (box) { e.preventDefault(); box.focus(); }
    }
  });

  // Focus the question on a desktop only: on a phone, focus would pop up the keyboard and scroll the page.
  // (Gradio adds this script after the page's load event, so it starts at once and waits for the box.)
  let tries = 0;
  const waitForBox = setInterval(() => {
    const box = question();
    if (box || ++tries > 80) clearInterval(waitForBox);
    if (box && !phone() && window.matchMedia("(pointer: fine)").matches) box.focus({preventScroll: true});
    syncQuestion();
  }, 250);
})();
"""

# js_on_load of the reader (a gr.HTML with server_functions=[article]): opens an article by asking the
# app's own server for its rendered HTML (escaped and audited there), then scrolls to the cited paragraph.
READER_JS = r"""
const root = element.closest("#reader") || element;
const body = element.querySelector(".reader-body");
let back = null;
const reader = {
  isOpen: () => root.classList.contains("open"),
  open: async (doc, para, quotes, returnTo) => {
    back = returnTo || null;
    root.classList.add("open");
    body.textContent = "Loading the article…";
    const html = await server.article([doc, para, quotes]);
    body.innerHTML = html;  // rendered by rag.ui.render.render_article: escaped text, audited markup
    const target = body.querySelector("#art-p-" + para);
    if (target) target.scrollIntoView({block: "center"});
    const title = body.querySelector(".reader-title");
    if (title) title.focus({preventScroll: true});
  },
  close: () => {
    root.classList.remove("open");
    const to = back && document.body.contains(back) ? back : document.querySelector("#question textarea");
    if (to) to.focus();
  },
};
element.querySelector(".reader-close").addEventListener("click", () => reader.close());
element.querySelector(".reader-ask").addEventListener("click", () => {
  back = null; reader.close();
});
window.ragReader = reader;
"""

READER_TEMPLATE = """<div class="reader-bar" role="toolbar" aria-label="Article reader">
<span>Full article · cited passages highlighted</span>
<span><button type="button" class="reader-ask">Back to the question</button>
<button type="button" class="reader-close" aria-label="Close the article (Escape)">Close ✕</button></span></div>
<div class="reader-body" role="document" aria-live="polite"></div>"""
