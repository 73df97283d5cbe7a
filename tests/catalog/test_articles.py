"""One incoming record: what is cleaned, what is refused and how the message names the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from recommender.catalog import text
from recommender.catalog.articles import InvalidArticle, parse_article, parse_datetime

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _parse(**kw: Any) -> Any:
    return parse_article({"id": "a1", "url": "https://mag.example/a1", "title": "Title", **kw}, NOW)


def test_fields_are_cleaned_and_defaulted() -> None:
    item = _parse(id=" 42 ", url="https://Mag.example/a1/?utm_source=x", title="<b>A</b>  title",
                  authors="Ann Author; Bo Writer|Ann Author", tags=["India", "russia", "India"],
                  content_type="Book Review", body=b"<p>One.</p><p>Two \x00words.</p>")
    assert (item.external_id, item.url, item.title) == ("42", "https://mag.example/a1", "A title")
    assert item.authors == ["Ann Author", "Bo Writer"]
    assert item.tags == ["india", "russia"]
    assert item.content_type == "review"  # an alias of a known type
    assert item.body == "One.\n\nTwo words."
    assert (item.language, item.section, item.dek, item.image) == ("en", "", "", None)
    assert item.content_hash == text.content_hash(item.title, item.dek, item.body)
    assert _parse(content_type=None).content_type == "news"


def test_dates_become_aware_utc() -> None:
    assert _parse(published_at="2025-01-02T03:04:05Z").published_at == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert _parse(published_at="2025-01-02T05:04:05+02:00").published_at == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2025-01-02T03:04:05", "x") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    local = datetime(2025, 1, 2, 5, tzinfo=timezone(timedelta(hours=2)))
    assert parse_datetime(local, "x") == datetime(2025, 1, 2, 3, tzinfo=UTC)
    assert parse_datetime("", "x") is None and parse_datetime(None, "x") is None


def test_status_and_publication_date() -> None:
    undated = _parse()
    assert (undated.status, undated.published_at, undated.dated) == ("published", NOW, False)
    future = (NOW + timedelta(days=2)).isoformat()
    assert _parse(published_at=future).status == "scheduled"  # published, but not yet
    assert _parse(status="Draft").status == "draft" and _parse(status="draft").published_at is None
    assert _parse(status="scheduled", published_at=future).dated
    with pytest.raises(InvalidArticle, match=r"^published_at: required for a scheduled article$"):
        _parse(status="scheduled")


@pytest.mark.parametrize(("record", "message"), [
    ({"id": None}, "id: required (a non-empty string)"),
    ({"id": "  "}, "id: required (a non-empty string)"),
    ({"id": "x" * 256}, "id: longer than 255 characters"),
    ({"url": "ftp://x"}, "url: expected an absolute http(s) URL, got 'ftp://x'"),
    ({"url": None}, "url: URL is empty"),
    ({"title": None}, "title: required (non-empty text)"),
    ({"title": ["T"]}, "title: expected a string"),
    ({"body": 5}, "body: expected a string"),
    ({"status": "gone"}, "status: expected one of published, draft, scheduled, unpublished, got 'gone'"),
    ({"published_at": "yesterday"}, "published_at: expected an ISO 8601 date, got 'yesterday'"),
    ({"updated_at": "soon"}, "updated_at: expected an ISO 8601 date, got 'soon'"),
    ({"authors": {"a": 1}}, "authors: expected a list of strings"),
    ({"tags": [["nested"]]}, "tags: expected a list of strings"),
])
def test_a_bad_field_is_named_in_the_message(record: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArticle) as info:
        _parse(**record)
    assert str(info.value) == message
    assert info.value.field == message.partition(":")[0]


def test_a_record_must_be_an_object() -> None:
    with pytest.raises(InvalidArticle, match=r"^expected an object with id, url and title$") as info:
        parse_article(["id", "url"])  # type: ignore[arg-type]
    assert info.value.field is None


def test_long_fields_are_cut_not_refused() -> None:
    item = _parse(title="t" * 5000, dek="d" * 5000, section="s" * 500, tags=["x" * 500])
    assert (len(item.title), len(item.dek), len(item.section), len(item.tags[0])) == (
        1000, 2000, 255, 200)


def test_oversized_and_empty_fields_are_rejected_clearly() -> None:
    with pytest.raises(InvalidArticle, match="body: longer than"):
        parse_article({"id": "a", "url": "https://x.example/a", "title": "T",
                       "body": "x" * 1_000_001})
    with pytest.raises(InvalidArticle, match="title: required"):
        parse_article({"id": "a", "url": "https://x.example/a", "title": " \n "})
    one_mb_of_words = ("word " * 199_999).strip()
    assert len(parse_article({"id": "a", "url": "https://x.example/a", "title": "T",
                              "body": one_mb_of_words}).body) < 1_000_000


def test_a_url_too_long_once_normalised_is_refused() -> None:
    """Normalising lengthens some URLs (a bare query key ``?b`` becomes ``?b=``); the stored URL
    would not fit its column (PostgreSQL refused it with a 500), so the record is refused naming
    the url. (A host long enough to do it with the "/" of an empty path is no host DNS allows.)"""
    url = "https://x.example/?" + "b" * (2048 - len("https://x.example/?"))
    with pytest.raises(InvalidArticle, match="url: longer than 2048 characters once normalised"):
        parse_article({"id": "x", "url": url, "title": "T"})


def test_numbers_that_are_integers_are_ids_and_booleans_are_not_text() -> None:
    assert parse_article({"id": 42.0, "url": "https://x.example/", "title": 5}).external_id == "42"
    for record in ({"id": True}, {"title": False}, {"tags": [True]}, {"status": 0}):
        with pytest.raises(InvalidArticle):
            parse_article({"id": "x", "url": "https://x.example/", "title": "T", **record})
