"""Fetching documents: local files wherever a URL is accepted, and a server that hangs times out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recommender.catalog.sources import SourceError, sync_source
from tests.helpers.sites import FakeSite, count_articles


def test_feed_from_a_local_file(session: Session, site: FakeSite, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(site.file("feed-rss.xml"))
    assert len(sync_source(session, f"rss:{path}").added) == 2
    assert site.requests == []


def test_a_hanging_server_times_out(session: Session, site: FakeSite) -> None:
    site.overrides["/feed-rss.xml"] = None
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"feed-rss\.xml: timed out after 0\.5 s"):
        sync_source(session, f"rss:{site.url('/feed-rss.xml')}", timeout=0.5)
    assert time.monotonic() - started < 3
    assert count_articles(session) == 0
