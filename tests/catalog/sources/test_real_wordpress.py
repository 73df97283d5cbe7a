"""The importers against a real WordPress (Debian's package on MariaDB, started once per session
by ``tests/helpers/wordpress.py``): its REST API, feeds and core sitemaps as they really are."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.sources import sync_source
from recommender.storage.schema import Article
from tests.helpers.wordpress import WordPressSite


def _articles(session: Session) -> list[Article]:
    session.expire_all()
    return list(session.scalars(select(Article)))


def test_rest_import_of_a_real_site_pages_through_every_published_post(
        session: Session, wp_main: WordPressSite) -> None:
    report = sync_source(session, f"wordpress:{wp_main.url}")
    session.commit()
    titles = {a.title for a in _articles(session)}
    assert "Climate report 0: the glacier & the heatwave" in titles  # entities decoded
    assert report.summary()["added"] >= 120  # two REST pages of 100
