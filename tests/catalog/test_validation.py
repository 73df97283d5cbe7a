"""The one batch validator: each record, duplicates inside the batch, URLs already taken, every
problem placed where it was found (SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.catalog.articles import ARTICLE_FIELDS, InvalidArticle, parse_article
from recommender.catalog.storing import upsert_articles
from recommender.catalog.validation import (
    STAND_INS,
    Problem,
    character_problem,
    check_record,
    image_problem,
    validate_batch,
)
from recommender.storage.schema import Article

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _record(n: int, **kw: Any) -> dict[str, Any]:
    return {"id": f"a{n}", "url": f"https://mag.example/{n}", "title": f"Story {n}",
            "published_at": "2025-01-01T00:00:00Z", **kw}


def _store(session: Session, *records: dict[str, Any]) -> None:
    upsert_articles(session, [parse_article(r, NOW) for r in records])
    session.commit()


def _summary(problems: list[Problem[Any]]) -> list[tuple[Any, str | None, str, str]]:
    return [(p.where, p.field, p.message, p.kind) for p in problems]


def test_a_clean_batch_gives_every_article_in_order(session: Session) -> None:
    items, problems = validate_batch(session, [(10, _record(1)), (11, _record(2))], now=NOW)
    assert problems == []
    assert [(i.external_id, i.url) for i in items] == [("a1", "https://mag.example/1"),
                                                      ("a2", "https://mag.example/2")]


def test_first_problem_only_unless_every_field(session: Session) -> None:
    bad = _record(1, url="ftp://x", title=" ", status="gone")
    _, first_only = validate_batch(session, [(0, bad)], now=NOW)
    assert [(p.field, p.kind) for p in first_only] == [("url", "invalid")]
    items, every = validate_batch(session, [(0, bad)], now=NOW, every_field=True)
    assert items == []
    assert [p.field for p in every] == ["url", "title", "status"]
    assert every[0].message == "expected an absolute http(s) URL, got 'ftp://x'"
    assert every[0].text == "url: expected an absolute http(s) URL, got 'ftp://x'"


def test_unreadable_entries_and_non_objects_are_reported_where_they_stand(session: Session) -> None:
    records = [(1, _record(1)), (2, InvalidArticle("not valid JSON: Expecting value at column 1")),
               (3, [1, 2]), (4, InvalidArticle("header: a CSV needs a header row"))]
    items, problems = validate_batch(session, records, now=NOW)
    assert [i.external_id for i in items] == ["a1"]
    assert _summary(problems) == [
        (2, None, "not valid JSON: Expecting value at column 1", "invalid"),
        (3, None, "expected an object with id, url and title", "invalid"),
        (4, None, "header: a CSV needs a header row", "invalid")]
    assert [p.text for p in problems][2] == "header: a CSV needs a header row"


def test_duplicates_inside_the_batch_name_the_first_copy(session: Session) -> None:
    records = [("e1", _record(1)),
               ("e2", _record(1, url="https://mag.example/other")),  # same id
               ("e3", _record(3, url="https://mag.example/1/?utm_source=x")),  # same URL, normalised
               ("e4", _record(4, url="https://mag.example/other")),  # e2 was refused: reserves nothing
               ("e5", _record(1, url="https://mag.example/1"))]  # id checked first
    items, problems = validate_batch(session, records, now=NOW)
    assert [i.external_id for i in items] == ["a1", "a4"]
    assert [(p.where, p.field, p.message, p.first) for p in problems] == [
        ("e2", "id", "duplicate id 'a1'", "e1"),
        ("e3", "url", "duplicate url", "e1"),
        ("e5", "id", "duplicate id 'a1'", "e1")]
    assert all(p.kind == "duplicate" and p.item is not None for p in problems)
    assert problems[1].item is not None and problems[1].item.external_id == "a3"


def test_a_url_stored_under_another_id_is_taken(session: Session) -> None:
    _store(session, _record(100), _record(101))
    records = [(0, _record(1)),
               (1, _record(2, url="https://mag.example/100")),  # another article's URL
               (2, _record(101, title="Updated")),  # the same article re-sent: an update
               (3, _record(3, title=" "))]
    items, problems = validate_batch(session, records, now=NOW)
    assert [i.external_id for i in items] == ["a1", "a101"]
    assert _summary(problems) == [(1, "url", "already used by article 'a100'", "taken"),
                                  (3, "title", "required (non-empty text)", "invalid")]
    assert problems[0].item is not None and problems[0].item.external_id == "a2"
    assert problems[0].text == "url: already used by article 'a100'"


def test_validation_writes_nothing(session: Session) -> None:
    validate_batch(session, [(0, _record(1)), (1, _record(2))], now=NOW)
    assert not session.new and not session.dirty
    assert session.scalar(select(func.count()).select_from(Article)) == 0


def test_stand_ins_are_valid_and_cover_every_field() -> None:
    assert set(STAND_INS) == set(ARTICLE_FIELDS)
    assert parse_article(STAND_INS, NOW).external_id == "stand-in"
    for name in ARTICLE_FIELDS:  # one bad field among good ones: exactly that field is reported
        item, found = check_record({**_record(1), name: {"not": "valid"}}, NOW, every_field=True)
        assert item is None and [f for f, _ in found] == [name], name


def test_a_record_that_is_not_an_object_has_one_problem() -> None:
    assert check_record("just text", NOW, every_field=True) == (
        None, [(None, "expected an object with id, url and title")])


def test_invalid_article_splits_its_field() -> None:
    assert (InvalidArticle("url: URL is empty").field, InvalidArticle("url: URL is empty").reason) \
        == ("url", "URL is empty")
    unknown = InvalidArticle("header: a CSV needs a header row")
    assert (unknown.field, unknown.reason) == (None, "header: a CSV needs a header row")


# --- #17 items 3-4: characters no database stores, and image links readers must never follow
BAD_CHARACTERS = [
    ("title", "Story \ud800"), ("body", "text \udfff more"), ("tags", ["ok", "x\ud83d"]),
    ("id", "a\x00b"), ("id", "a\nb"), ("id", "a\x1bb"), ("url", "https://mag.example/a\x00"),
    ("url", "https://mag.example/a\tb"), ("url", "https://mag.example/\x85"),
    ("image", "https://img.example/a\x00.jpg"),
]
BAD_IMAGES = ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
              "data:image/png;base64,AAAA", "vbscript:x", "file:///etc/passwd", "//img.example/a",
              "img/a.jpg", "https:", "ftp://img.example/a.jpg"]


def test_bad_characters_are_refused_naming_the_field(session: Session) -> None:
    records = [_record(i, **{name: value}) for i, (name, value) in enumerate(BAD_CHARACTERS)]
    items, problems = validate_batch(session, enumerate([*records, _record(99)]), now=NOW)
    assert [i.external_id for i in items] == ["a99"]
    assert [(p.where, p.field) for p in problems] == [
        (i, name) for i, (name, _) in enumerate(BAD_CHARACTERS)]
    assert all(p.message.startswith("contains a ") for p in problems)
    upsert_articles(session, items)  # what passes is storable, PostgreSQL included
    session.commit()


def test_every_bad_field_is_reported_at_once() -> None:
    _, found = check_record(_record(1, id="a\x00", title="\ud800", image="javascript:x"), NOW,
                            every_field=True)
    assert [name for name, _ in found] == ["id", "title", "image"]


def test_only_http_images_are_stored(session: Session) -> None:
    records = [_record(i, image=image) for i, image in enumerate(BAD_IMAGES)]
    good = _record(50, image="HTTPS://img.example/a.jpg?w=1")
    items, problems = validate_batch(session, enumerate([*records, good]), now=NOW)
    assert [(p.where, p.field) for p in problems] == [(i, "image") for i in range(len(BAD_IMAGES))]
    assert problems[0].message == "expected an absolute http or https URL"
    assert [i.image for i in items] == ["HTTPS://img.example/a.jpg?w=1"]
    assert character_problem("image", None) is None and image_problem(None) is None
