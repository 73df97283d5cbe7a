"""Awkward catalogues and texts: each has a defined outcome, never a crash or a half-built index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.articles import parse_article
from recommender.catalog.storing import upsert_articles
from recommender.jobs.build import full_build
from recommender.live.recommender import Draft, Recommender
from recommender.settings import Settings
from recommender.storage import migrations
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import RelatedItem
from tests.helpers.fakes import FakeEncoder


class RecordingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts: Any) -> Any:
        self.seen.extend(texts)
        return super().encode(texts)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    migrations.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    yield settings, make_session_factory(engine)
    engine.dispose()


def _add(factory: sessionmaker[Session], *records: dict[str, Any]) -> None:
    with factory() as session:
        upsert_articles(session, [parse_article({
            "url": f"https://x.example/{r['id']}", "title": f"Title {r['id']}",
            "published_at": "2025-01-01T00:00:00Z", **r}) for r in records])
        session.commit()


def test_empty_catalogue_builds_an_empty_index(site: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, factory = site
    rec = Recommender(settings, factory, encoder=FakeEncoder())
    report = full_build(rec)
    assert report.articles == 0 and report.lists == 0
    assert rec.store.current_id() == report.build_id
    with factory() as session:
        assert rec.preview(session, Draft(title="Anything"), 3).items == []


def test_one_article_gets_an_empty_list(site: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, factory = site
    _add(factory, {"id": "a", "body": "Only one story here."})
    report = full_build(Recommender(settings, factory, encoder=FakeEncoder()))
    assert report.lists == 1 and report.empty_lists == 1


def test_markup_is_stripped_before_embedding(site: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, factory = site
    _add(factory, {"id": "a", "body": "<div><script>alert(1)</script><p>Tariffs <b>rise</b></p></div>"},
         {"id": "b", "body": "   \n\t  "})
    encoder = RecordingEncoder()
    full_build(Recommender(settings, factory, encoder=encoder))
    assert any("Tariffs rise" in t for t in encoder.seen)
    assert not any("<" in t or "alert" in t for t in encoder.seen)
    assert "Title b" in encoder.seen  # whitespace body: the title alone is embedded


def test_other_language_is_kept_apart(site: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, factory = site
    body = "Negotiators met in Geneva to discuss the nuclear programme and sanctions relief."
    _add(factory, {"id": "en1", "body": body}, {"id": "en2", "body": body + " Talks resume."},
         {"id": "fr1", "body": body + " Reprise.", "language": "fr"})
    full_build(Recommender(settings, factory, encoder=FakeEncoder()))
    with factory() as session:
        rows = session.execute(select(RelatedItem.article_id, RelatedItem.target_id)).all()
    from recommender.storage.schema import Article

    with factory() as session:
        lang = {a.id: a.language for a in session.scalars(select(Article))}
    assert rows and all(lang[a] == lang[t] for a, t in rows)


def test_naive_datetimes_are_refused_by_the_storage_layer(
        site: tuple[Settings, sessionmaker[Session]]) -> None:
    from recommender.storage.schema import Article

    _, factory = site
    with factory() as session:
        session.add(Article(external_id="n", url="https://x.example/n", title="T",
                            content_hash="h", published_at=datetime(2025, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()
        session.rollback()
        session.add(Article(external_id="n", url="https://x.example/n", title="T",
                            content_hash="h", published_at=datetime(2025, 1, 1, tzinfo=UTC)))
        session.commit()
