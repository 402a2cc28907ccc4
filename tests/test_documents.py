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


def test_clean_handles_text_without_header():
    title, date, paras = clean("Just one sentence here. And another.\n")
    assert title == "Just one sentence here"
    assert date is None and len(paras) == 1
