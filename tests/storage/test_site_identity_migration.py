"""Migration 0006: existing articles get their site and source id, and keep their public id and
URL, so readers (and API clients holding ids) see exactly what they saw before."""

from __future__ import annotations

from sqlalchemy import text

from recommender.storage import migrations
from recommender.storage.engine import make_engine


def test_existing_articles_keep_their_ids_and_get_a_site(db_url: str) -> None:
    migrations.upgrade(db_url, "0004")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for n, url in enumerate(["https://news.example/a", "http://blog.example:8080/b?p=2"]):
                conn.execute(text(
                    "INSERT INTO articles (external_id, url, title, dek, body, authors, tags, "
                    "section, content_type, language, status, word_count, content_hash, created, "
                    "modified) VALUES (:id, :url, 'T', '', '', '[]', '[]', '', 'news', 'en', "
                    "'published', 0, 'h', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"),
                    {"id": f"wp-{n}", "url": url})
        migrations.upgrade(db_url, "0006")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT external_id, url, site, source_id, canonical_url "
                                     "FROM articles ORDER BY external_id")).all()
        assert [tuple(r) for r in rows] == [
            ("wp-0", "https://news.example/a", "news.example", "wp-0", None),
            ("wp-1", "http://blog.example:8080/b?p=2", "blog.example:8080", "wp-1", None)]
        migrations.downgrade(db_url, "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == 2
    finally:
        engine.dispose()
