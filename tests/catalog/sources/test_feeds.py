"""RSS and Atom feeds: every field an entry carries, invalid entries skipped, ``since`` honoured."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from recommender.catalog.sources import sync_source
from recommender.catalog.sources.feeds import short_dek
from tests.helpers.sites import FakeSite, stored


def test_rss_imports_fields_and_skips_invalid_items(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"rss:{site.url('/feed-rss.xml')}")
    session.commit()
    assert report.summary() == {"seen": 3, "added": 2, "updated": 0, "unchanged": 0, "skipped": 1,
                                "withdrawn": 0, "not_modified": 0}
    assert report.skipped[0][0].endswith("feed-rss.xml entry 3") and "title" in report.skipped[0][1]
    a = stored(session, "hr-1001")
    assert a.url == site.url("/2025/03/ferry-pilots")
    assert a.title == "The last ferry pilots of the estuary"
    assert a.dek == "Four pilots still steer the night crossings."
    assert a.body.startswith("Four pilots still steer the night crossings between the two towns.\n\nEach")
    assert (a.authors, a.tags, a.language) == (["Mira Okafor"], ["transport", "rivers"], "en")
    assert a.published_at == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    assert a.image == site.url("/img/ferry.jpg")
    b = stored(session, site.url("/2025/02/fish-market"))
    assert (b.authors, b.dek) == (["Jon Marsh"], "Landings fell by a third & prices rose.")
    assert b.body == "Landings fell by a third & prices rose. Traders blame the storms."


def test_atom_imports_fields_and_feed_since(session: Session, site: FakeSite) -> None:
    report = sync_source(session, f"atom:{site.url('/feed-atom.xml')}",
                         since=datetime(2025, 3, 4, tzinfo=UTC))
    assert (report.seen, len(report.added), report.not_modified) == (1, 1, 1)
    a = stored(session, "tag:harbour.example,2025:salt-marsh")
    assert (a.url, a.title) == (site.url("/2025/03/salt-marsh"), "Salt marsh, counted by hand")
    assert a.dek == "Volunteers spend a week each spring counting birds on the marsh."
    assert a.body.endswith("\n\nThe tally is done with clickers and notebooks.")
    assert (a.authors, a.tags) == (["Tomas Reyes", "Ada Lindqvist"], ["ecology", "volunteers"])
    assert (a.published_at, a.updated_at) == (datetime(2025, 3, 5, 8, tzinfo=UTC),
                                              datetime(2025, 3, 6, 10, 15, tzinfo=UTC))
    report = sync_source(session, f"atom:{site.url('/feed-atom.xml')}")
    undated = stored(session, "tag:harbour.example,2025:office-notes")
    assert undated.published_at == datetime(2025, 3, 2, 16, 45, tzinfo=UTC)  # from <updated>
    assert len(report.added) == 1 and report.unchanged == 1


def test_short_dek_takes_the_first_sentence_or_300_characters() -> None:
    assert short_dek("<p>One. Two.</p>") == "One."
    long = "word " * 100
    assert len(short_dek(long)) <= 301 and short_dek(long).endswith("word…")


def test_a_protected_post_in_a_wordpress_feed_is_not_published() -> None:
    from recommender.catalog.sources.feeds import entry_to_record

    entry = {"id": "g", "link": "https://mag.example/p/", "title": "Members only",
             "summary": "There is no excerpt because this is a protected post.",
             "content": [{"value": '<form class="post-password-form">Password:</form>'}]}
    assert entry_to_record(entry)["status"] == "unpublished"
    entry["summary"], entry["content"] = "Open to all.", [{"value": "<p>Open to all.</p>"}]
    assert entry_to_record(entry)["status"] == "published"
