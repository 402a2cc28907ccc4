import re
from pathlib import Path

import pytest

from rag.documents import clean, decode, read_document
from rag.errors import DocumentError

from .conftest import SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))
BOILERPLATE = re.compile(r"^(Article content|Home\s*[»>].*)$")


def _body_lines(path: Path) -> list[str]:
    """The article body, judged independently of the cleaner: every line except breadcrumbs,
    placeholders, the title/date header, a section the capture repeats, and the "Latest News" tail."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    if "Latest News" in lines:
        lines = lines[: lines.index("Latest News")]
    header = set(lines[:4])  # crumbs, title, date sit at the top of the captures that have them
    body = [line for line in lines if line and not BOILERPLATE.match(line)]
    return [line for line in body if line not in header or len(line.split()) > 25 or line.endswith(".")]


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_cleaning_keeps_every_body_sentence_and_drops_boilerplate(path):
    doc = read_document(path)
    text = "\n".join(doc.paragraph_text(p.number) for p in doc.paragraphs)
    assert "Article content" not in text
    assert "»" not in text and not re.search(r"^Home\s*>", text, re.M)
    assert "Latest News" not in text and "Overseas Training Course" not in text
    for line in _body_lines(path):
        if line == "Achievements in International Exchange and Cooperation":
            continue  # heading of a section the capture repeats verbatim; its body is kept once
        assert line in text, f"lost body line: {line[:80]!r}"


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_paragraph_offsets_point_at_source_text(path):
    source = path.read_text(encoding="utf-8")
    doc = read_document(path)
    assert doc.text == source
    assert [p.number for p in doc.paragraphs] == list(range(1, len(doc.paragraphs) + 1))
    for p in doc.paragraphs:
        assert source[p.start : p.end] == doc.paragraph_text(p.number)
        assert source[p.start : p.end].strip() == source[p.start : p.end]


def test_metadata_titles_dates_and_ids():
    docs = {p.stem: read_document(p) for p in SEED_FILES}
    cibmtr = docs["000_273eb6cdc3dda5a5"]
    assert cibmtr.doc_id == "000_273eb6cdc3dda5a5"
    assert cibmtr.title == "Academician Huang Xiaojun Honored with the Distinguished Service Award by CIBMTR"
    assert cibmtr.paragraphs[0].text(cibmtr.text).startswith("On February 23rd, the Center for International")
    forum = docs["004_df5a4ce205c5cd94"]
    assert forum.date == "2022-08-17"
    assert forum.title.startswith("The 8th Xiaoxiang International Symposium")
    # Document.date is the publication date. 000 opens its lede with a yearless date ("On February
    # 23rd,") and mentions one year: published February 2024. 001-003 state only event dates.
    assert cibmtr.date == "2024-02"
    assert [docs[k].date for k in ("001_6aa580e427458a29", "002_f054c3b16198e673", "003_1aa2caca7feab17d")] == [None] * 3
    assert docs["002_f054c3b16198e673"].title == "The International Workshop on Cell Therapy for Blood Diseases"


def test_repeated_section_is_indexed_once():
    doc = read_document(SEEDS / "002_f054c3b16198e673.txt")
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    assert sum("reaching preliminary agreements" in t for t in texts) == 1


def test_headings_and_list_intros_attach_to_their_paragraph():
    doc = read_document(SEEDS / "003_1aa2caca7feab17d.txt")
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    about = next(t for t in texts if t.startswith("About Professor Jun Ma"))
    assert "Editor-in-Chief, Leukemia & Lymphoma Journal" in about
    challenges = next(t for t in texts if "challenges remain:" in t)
    assert "1. Insufficient development" in challenges and "2. Reduced international exchange" in challenges


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file (PNG image)"),
        (b"hello\x00world", "binary file (contains NUL bytes)"),
        (b"caf\xe9 au lait", "not valid UTF-8 (byte 0xe9 at offset 3)"),
    ],
)
def test_bad_bytes_are_named(data, reason):
    with pytest.raises(DocumentError, match=re.escape(reason)):
        decode(data, "x.txt")


def test_utf16_and_bom_decode():
    assert decode("Grüße".encode("utf-16")) == "Grüße"
    assert decode("\ufeffhello".encode()) == "hello"


def test_html_is_parsed_not_regexed(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Site | Story</title><script>var x = 'Article content';</script></head><body>"
        "<nav><a href='/'>Home</a> » <a>News</a></nav><h1>A Real Story</h1>"
        "<p>The first paragraph has <b>bold</b> words.</p><div><p>Second paragraph, in a div.</p></div>"
        "<footer>Copyright footer links</footer></body></html>"
    )
    doc = read_document(page)
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    assert doc.title == "A Real Story"
    assert texts == ["The first paragraph has bold words.", "Second paragraph, in a div."]


def test_html_list_items_keep_their_bullet_when_they_wrap_text_in_blocks(tmp_path):
    page = tmp_path / "notes.html"
    page.write_text(
        "<html><body><main><h1>Notes</h1><p>New modules:</p><ul><li><p><code>graphs</code>: graphs</p></li>"
        "<li><p>tables</p><p>A second block of the same item.</p></li><li>plain</li>"
        "<li><ul><li>nested</li></ul></li></ul><p>After the list.</p></main></body></html>")
    doc = read_document(page)
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    assert "\n\n".join(texts) == ("New modules:\n\n• graphs: graphs\n\n• tables\n\nA second block of the same item."
                                  "\n\n• plain\n\n• nested\n\nAfter the list.")


def test_a_table_row_is_one_line_though_its_cells_wrap_text_in_blocks(tmp_path):
    page = tmp_path / "table.html"
    page.write_text(
        "<html><body><main><h1>Methods</h1><p>The new names are:</p><table><tr><th><p>Operation</p></th>"
        "<th><p>Method name</p></th></tr><tr><td><p>&lt;</p></td><td><p>__lt__()</p></td></tr></table>"
        # a layout table holding a whole page keeps its paragraphs
        f"<table><tr><td><p>{'A long paragraph of the page. ' * 20}</p><p>Its second paragraph.</p></td></tr></table>"
        "</main></body></html>")
    doc = read_document(page)
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    joined = "\n\n".join(texts)
    assert "Operation | Method name\n\n< | __lt__()" in joined
    assert "\n\nIts second paragraph." in joined


def test_a_numbered_first_heading_is_a_section_not_the_title(tmp_path):
    page = tmp_path / "essay.html"
    page.write_text("<html><head><title>35% Faster Than The Filesystem</title></head><body><h1>1. Summary</h1>"
                    "<p>Small blobs read faster from a database than from files.</p></body></html>")
    assert read_document(page).title == "35% Faster Than The Filesystem"
    page.write_text("<html><head><title>News</title></head><body><h1>2024 in review</h1><p>A year.</p></body></html>")
    assert read_document(page).title == "2024 in review"


def test_clean_handles_text_without_header():
    title, date, paras = clean("Just one sentence here. And another.\n")
    assert title == "Just one sentence here"
    assert date is None and len(paras) == 1


# --- real HTML: the Python documentation (tests/fixtures/pydocs, PSF licence) ------------------------

PYDOCS = Path(__file__).parent / "fixtures" / "pydocs"


@pytest.mark.parametrize("page", sorted(PYDOCS.glob("*.html")), ids=lambda p: p.stem)
def test_real_html_keeps_main_content_only(page):
    doc = read_document(page)
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    joined = "\n".join(texts)
    # The navigation bars, the sidebar's table of contents and the footer are not article text.
    assert not any(t.startswith(("index", "modules", "Navigation", "Table of Contents", "Previous topic"))
                   for t in texts)
    assert "Python »" not in joined and "modules |" not in joined and "Show Source" not in joined
    assert "©" not in joined and "Copyright" not in joined.split("\n")[-1]
    assert "¶" not in doc.title and "¶" not in joined
    assert not doc.title.endswith(("documentation", "— Python 3.11.2 documentation"))
    for p in doc.paragraphs:  # every paragraph is an exact span of the stored text
        text = doc.paragraph_text(p.number)
        assert doc.text[p.start : p.end] == text and text == text.rstrip()
        assert text == text.lstrip() or text.lstrip(" ").startswith(("+", "|"))  # a code block keeps its indent


def test_real_html_title_code_blocks_and_exact_quotes():
    doc = read_document(PYDOCS / "functools.html")
    assert doc.title == "functools — Higher-order functions and operations on callable objects"
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    # Inline markup is joined as rendered, never with invented spaces ("128 , typed").
    assert any("@functools.lru_cache(maxsize=128, typed=False)" in t for t in texts)
    # A <pre> block keeps its lines and indentation.
    code = next(t for t in texts if "def factorial(n):" in t)
    assert "@cache\ndef factorial(n):\n    return n * factorial(n-1) if n else 1" in code
    doc = read_document(PYDOCS / "json.html")
    assert doc.title == "json — JSON encoder and decoder"
    assert any(">>> json.dumps(float('-inf'))" in t or "json.dumps" in t and "\n" in t
               for t in (doc.paragraph_text(p.number) for p in doc.paragraphs))


def test_html_article_header_date_and_meta(tmp_path):
    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Marrow drive | City Paper</title></head><body>"
        "<header><nav><a href='/'>Home</a></nav><p>City Paper — all the news</p></header>"
        "<article><header><h1>Marrow drive breaks record <a class='headerlink' href='#t'>¶</a></h1>"
        "<time datetime='2024-03-05T08:00:00Z'>March 5, 2024</time></header>"
        "<p>The drive, held on <time datetime='2024-02-10'>February 10, 2024</time>, signed up 900 donors.</p>"
        "<aside>Related: other drives</aside><p>Organisers thanked <span>128</span>, typed volunteers.</p>"
        "<footer>Tags: marrow</footer></article><footer>© City Paper</footer></body></html>"
    )
    doc = read_document(page)
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    assert doc.title == "Marrow drive breaks record"
    assert doc.date == "2024-03-05"  # the article header's <time>, not the event date in the body
    assert texts == ["The drive, held on February 10, 2024, signed up 900 donors.",
                     "Organisers thanked 128, typed volunteers."]
    meta = tmp_path / "meta.html"
    meta.write_text("<html><head><meta property='article:published_time' content='2023-11-02T10:00:00+01:00'>"
                    "<title>Clinic opens - Site</title></head><body><p>It happened on 1 May 2020. More text.</p></body></html>")
    doc = read_document(meta)
    assert (doc.title, doc.date) == ("Clinic opens", "2023-11-02")


# --- PDF and Word: the seeds printed by headless chromium and saved as .docx (tests/fixtures/generate.py) --

FIXTURES = Path(__file__).parent / "fixtures"


def _norm_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


@pytest.mark.parametrize("kind", ["pdf", "docx"])
@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.stem)
def test_pdf_and_docx_read_like_the_text_article(kind, seed):
    doc = read_document(FIXTURES / f"seeds-{kind}" / f"{seed.stem}.{kind}")
    ref = read_document(seed)
    assert (doc.title, doc.date) == (ref.title, ref.date)
    assert [_norm_ws(doc.paragraph_text(p.number)) for p in doc.paragraphs] == \
        [_norm_ws(ref.paragraph_text(p.number)) for p in ref.paragraphs]
    for p in doc.paragraphs:  # Document.text is the extracted text: paragraphs are exact spans of it
        assert doc.text[p.start : p.end] == doc.paragraph_text(p.number)
        assert (p.page is not None) == (kind == "pdf")


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.stem)
def test_pdf_paragraph_pages_hold_their_text(seed):
    """A paragraph's page is where it starts: its first sentence is on that page (checked against
    pypdf's plain text of the page), its end on that page or, across a page break, the next."""
    from pypdf import PdfReader

    from rag.text import sentence_spans

    path = FIXTURES / "seeds-pdf" / f"{seed.stem}.pdf"
    pages = [_norm_ws(p.extract_text()) for p in PdfReader(path).pages]
    doc = read_document(path)
    for p in doc.paragraphs:
        text = doc.paragraph_text(p.number)
        spans = sentence_spans(text)
        first, last = _norm_ws(text[slice(*spans[0])])[:60], _norm_ws(text[slice(*spans[-1])])[-40:]
        assert first in pages[p.page - 1], (p.page, first)
        assert last in pages[p.page - 1] or last in pages[p.page], (p.page, last)
    assert [p.page for p in doc.paragraphs] == sorted(p.page for p in doc.paragraphs)
    assert {p.page for p in doc.paragraphs} == set(range(1, len(pages) + 1))  # no page lost


def test_scanned_pdf_is_refused_with_the_reason():
    with pytest.raises(DocumentError, match=r"scanned.pdf: the PDF has no text layer \(a scanned or image-only PDF\)"):
        read_document(FIXTURES / "scanned.pdf")


@pytest.mark.parametrize("name, data, reason", [
    ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\n", "broken.pdf: not a readable PDF"),
    ("text.pdf", b"Just text, not a PDF.", "text.pdf: not a PDF file"),
    ("archive.docx", b"PK\x03\x04" + b"\x00" * 60, "archive.docx: binary file (ZIP archive)"),
    ("plain.docx", b"Hello there.", "plain.docx: not a Word .docx file"),
])
def test_bad_pdf_and_docx_are_named(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError, match=re.escape(reason)):
        read_document(tmp_path / name)


def test_docx_structure_headings_lists_tables(tmp_path):
    from docx import Document as Word

    w = Word()
    w.core_properties.title = "Donor registry grows"
    w.add_paragraph("Donor registry grows", style="Title")
    w.add_paragraph("Published: 4 June 2024")
    w.add_paragraph("The registry added 2,000 donors in May.")
    w.add_heading("Where donors came from", level=2)
    w.add_paragraph("Most came from three drives:")
    for item in ("Campus drives", "Blood banks", "Online sign-ups"):
        w.add_paragraph(item, style="List Bullet")
    table = w.add_table(rows=2, cols=2)
    for r, row in enumerate([("City", "Donors"), ("Tianjin", "800")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    w.save(tmp_path / "registry.docx")
    doc = read_document(tmp_path / "registry.docx")
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    assert (doc.title, doc.date) == ("Donor registry grows", "2024-06-04")
    assert texts[0] == "The registry added 2,000 donors in May."
    assert texts[1] == "Where donors came from\n\nMost came from three drives:\n\n• Campus drives\n\n• Blood banks\n\n• Online sign-ups"
    assert texts[2] == "City | Donors\n\nTianjin | 800" or texts[2:] == ["City | Donors", "Tianjin | 800"]


# --- titles and publication dates ------------------------------------------------------------------


def test_markdown_title_loses_its_marks(tmp_path):
    (tmp_path / "note.md").write_text("# Cord blood bank opens\n\nThe bank opened on Monday. It stores units.\n\n"
                                      "## Funding\n\nThe city paid for it.\n")
    doc = read_document(tmp_path / "note.md")
    assert doc.title == "Cord blood bank opens"
    texts = [doc.paragraph_text(p.number) for p in doc.paragraphs]
    assert texts == ["The bank opened on Monday. It stores units.", "Funding\n\nThe city paid for it."]
    (tmp_path / "setext.md").write_text("Setext title\n============\n\nBody text here. More.\n")
    assert read_document(tmp_path / "setext.md").title == "Setext title"


@pytest.mark.parametrize("text, date", [
    ("Big news\n2024-01-02\n\nIt happened.\n", "2024-01-02"),  # a date line under the title
    ("Big news\nPublished: March 3, 2024\n\nIt happened.\n", "2024-03-03"),
    ("Big news\nBy Jane Roe | 5 May 2023\n\nIt happened.\n", "2023-05-05"),
    # Event dates in the body are not publication dates.
    ("Big news\n\nThe meeting was held on May 27, 2022 in Changsha.\n", None),
    ("From January 17 to 19, 2025, the conference was held. It went well.\n", None),
    # A yearless date opening the lede: published that month, in the one year the article names.
    ("On March 2nd, the clinic opened. It is the first since 2019.\n", "2019-03"),
    ("BEIJING, Feb. 23 (Xinhua) -- The award went to a surgeon. The 2024 meeting chose him in February.\n",
     "2024-02"),
    # ... but not when the article names several years and none beside that month.
    ("On March 2nd, the clinic opened. Plans began in 2015 and end in 2030.\n", None),
])
def test_publication_date_rules(text, date):
    assert clean(text)[1] == date


def test_title_of_last_resort_is_a_short_extract():
    "Text without a header title or opening heading: the first sentence, cut short at a clause or a word."
    title, _, _ = clean("From January 17 to 19, 2025, the Chinese Society of Clinical Oncology (CSCO) Meeting "
                        "was held in the scenic city of Haikou with experts from many countries. More text.\n")
    assert title == "From January 17 to 19, 2025, the Chinese Society of Clinical Oncology (CSCO) Meeting…"
    title, _, _ = clean("The International Workshop on Cell Therapy for Blood Diseases, hosted by the Ministry of "
                        "Science and Technology of China and organised by the institute, was held in Tianjin.\n")
    assert title == "The International Workshop on Cell Therapy for Blood Diseases"
    title, _, _ = clean("Renowned hematologist Professor Xiaojun Huang has been honored with the International "
                        "Collaboration Award by the International Academy for Clinical Hematology (IACH).\n")
    assert title == "Renowned hematologist Professor Xiaojun Huang has been honored with the International…"


# --- the same articles as PDF and Word files answer the same questions ------------------------------

QUESTIONS = ["What is the Beijing Protocol?", "Where was the IACH annual meeting held?",
             "When were the 2024 Tandem Meetings held?", "What did Prof. Vijay Bhoj lecture on?",
             "Who is the chair of the CSCO conference in Haikou?"]


@pytest.fixture(scope="module")
def format_collections(settings, tmp_path_factory):
    "A collection of the seeds as PDF files and one as .docx files, next to the session's .txt one."
    import shutil

    from rag.index import build_index

    out = {"txt": settings}
    for kind in ("pdf", "docx"):
        root = tmp_path_factory.mktemp(kind)
        (root / "home" / "cache").mkdir(parents=True)
        shutil.copytree(settings.home / "cache" / "embeddings", root / "home" / "cache" / "embeddings")
        (root / "home" / "models").symlink_to(settings.home / "models")
        s = settings.with_(seeds=(FIXTURES / f"seeds-{kind}",), home=root / "home")
        build_index(s, progress=False, warn=lambda m: None)
        out[kind] = s
    return out


@pytest.mark.parametrize("question", QUESTIONS)
def test_pdf_and_docx_collections_answer_like_the_text_one_and_pdf_citations_name_their_page(
        format_collections, question):
    from pypdf import PdfReader

    from rag import ask

    answers = {kind: ask(question, settings=s) for kind, s in format_collections.items()}
    texts = {kind: _norm_ws(a.text) for kind, a in answers.items()}
    assert texts["pdf"] == texts["txt"] and texts["docx"] == texts["txt"], texts
    assert [c.doc_id for c in answers["pdf"].citations] == [c.doc_id for c in answers["txt"].citations]
    for c in answers["pdf"].citations:
        assert c.page is not None
        page = _norm_ws(PdfReader(FIXTURES / "seeds-pdf" / f"{c.doc_id}.pdf").pages[c.page - 1].extract_text())
        for start, end in c.quotes:  # each cited sentence is printed on the page the citation names
            assert _norm_ws(c.text[start:end])[:50] in page, (c.page, c.text[start:end])
    assert all(c.page is None for c in answers["docx"].citations + answers["txt"].citations)
