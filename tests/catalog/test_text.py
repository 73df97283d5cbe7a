"""Clean text from whatever a CMS sends: markup, bytes, control characters, stable hashes."""

from __future__ import annotations

from recommender.catalog import text


def test_markup_is_stripped_and_paragraphs_kept() -> None:
    html = ("<div><h2>Head</h2><p>First <b>bold</b>&nbsp;line.</p><script>alert(1)</script>"
            "<style>p {}</style><p>Second\r\n  para.</p></div>")
    assert text.clean_text(html) == "Head\n\nFirst bold line.\n\nSecond\npara."


def test_plain_text_passes_through_with_entities_decoded() -> None:
    assert text.strip_html("Fish & chips") == "Fish & chips"
    assert text.strip_html("Fish &amp; chips, 3 < 4") == "Fish & chips, 3 < 4"
    assert text.clean_text("  one\n\n\n\ntwo  ") == "one\n\ntwo"


def test_bytes_are_decoded_and_control_characters_dropped() -> None:
    assert text.to_text(b"Caf\xc3\xa9 \xff") == "Caf\u00e9 \ufffd"
    assert text.to_text("a\x00b\x07c\td\ne") == "abc\td\ne"  # tabs and newlines stay
    assert text.to_text(None) == "" and text.clean_text(None) == ""


def test_a_line_field_collapses_all_whitespace() -> None:
    assert text.clean_line("<p>A\n  title</p>\t<p>here</p>") == "A title here"


def test_reading_time() -> None:
    assert text.word_count("one two\n\nthree") == 3
    assert [text.read_minutes(w) for w in (0, 1, 230, 231, 460)] == [1, 1, 1, 2, 2]
    assert (text.read_label(1), text.read_label(4)) == ("1 min read", "4 mins read")


def test_content_hash_is_stable_and_separates_fields() -> None:
    digest = text.content_hash("Title", "Dek", "Body")
    assert digest == text.content_hash("Title", "Dek", "Body") and len(digest) == 64
    assert digest != text.content_hash("TitleDek", "", "Body")  # moving text between fields counts
    assert digest != text.content_hash("Title", "Dek", "Body.")


def test_deks_are_whole_sentences_without_read_more_tails_or_shortcodes() -> None:
    from recommender.catalog.text import dek, strip_shortcodes

    assert dek("<p>One. Two. Three.</p>") == "One. Two."
    assert dek('<p>It rained. <a class="more-link" href="/x">Continue reading <span>Rain'
               "</span></a></p>") == "It rained."
    assert dek("[vc_row][vc_column]<p>Hello there.</p>[/vc_column][/vc_row]") == "Hello there."
    assert dek("A fragment cut by WordPress [&hellip;]") == "A fragment cut by WordPress"
    long = "word " * 100
    assert dek(long).endswith("word…") and len(dek(long)) <= 301
    assert strip_shortcodes('[caption id="1"]<img src="a.png"> A caption[/caption]Text').strip() \
        == "Text"
