"""The WordPress REST importer against a real WordPress (Debian's package on MariaDB, started once
per session by ``tests/helpers/wordpress.py``): what a site owner must be able to rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.sources import SourceError, sync_source
from recommender.catalog.sources.auth import CredentialStore
from recommender.readers import find_article
from recommender.storage.schema import Article
from tests.helpers.sites import count_articles
from tests.helpers.wordpress import WordPressSite


def _by_source(session: Session, site: WordPressSite, key: str) -> Article:
    """The stored article of the fixture's post ``key`` on ``site`` (by the site's own id)."""
    session.expire_all()
    host = site.url.split("/")[2]
    return session.scalars(select(Article).where(Article.site == host,
                                                 Article.source_id == f"wp-{site.id(key)}")).one()


def _auth(site: WordPressSite, password: str | None = None) -> CredentialStore:
    return CredentialStore.load(f"{site.user}:{password or site.app_password}")


def test_unauthenticated_sync_reads_published_posts_and_says_so(session: Session,
                                                                wp_main: WordPressSite) -> None:
    report = sync_source(session, f"wordpress:{wp_main.url}")
    session.commit()
    assert report.summary()["added"] == 127  # 120 + 6 + "Hello world!": two REST pages
    assert any("only published posts are visible" in note and "RELATED_WORDPRESS_AUTH" in note
               for note in report.notes)
    article = _by_source(session, wp_main, "climate-0")
    assert article.title == "Climate report 0: the glacier & the heatwave"  # entities decoded
    assert (article.section, article.tags) == ("Climate", ["glacier", "sea level"])
    assert article.image and article.image.endswith(".png")  # the featured image
    for key in ("draft", "pending", "future", "private", "trashed"):
        with pytest.raises(Exception, match="No row"):
            _by_source(session, wp_main, key)
    # a password-protected post is never published, even though WordPress lists it
    assert _by_source(session, wp_main, "protected").status == "unpublished"


def test_teasers_read_well_and_bylines_stay_whole(sqlite_session: Session,
                                                  wp_main: WordPressSite) -> None:
    sync_source(sqlite_session, f"wordpress:{wp_main.url}")
    shortcodes = _by_source(sqlite_session, wp_main, "shortcodes")
    assert shortcodes.dek == "The striker scored twice in the derby. The crowd sang until midnight."
    assert "[" not in shortcodes.body and "vc_row" not in shortcodes.body
    long = _by_source(sqlite_session, wp_main, "long-excerpt")  # WordPress cut it: "[…]"
    assert long.dek.endswith("measured.") and "[" not in long.dek and "…" not in long.dek
    assert long.dek.count(".") <= 2
    assert _by_source(sqlite_session, wp_main, "authors-duo").authors == ["Smith & Jones"]
    assert _by_source(sqlite_session, wp_main, "authors-comma").authors == ["Doe, Jane"]


def test_links_land_on_the_url_as_published(sqlite_session: Session,
                                            wp_main: WordPressSite) -> None:
    sync_source(sqlite_session, f"wordpress:{wp_main.url}")
    article = _by_source(sqlite_session, wp_main, "climate-1")
    published = wp_main.link("climate-1")
    assert published.endswith("/") and article.canonical_url == published
    assert article.url == published.rstrip("/")  # normalised: for matching
    found = find_article(sqlite_session, url=published + "?utm_source=newsletter")
    assert found.id == article.id


def test_authenticated_sync_reads_every_status(session: Session, wp_main: WordPressSite) -> None:
    report = sync_source(session, f"wordpress:{wp_main.url}", credentials=_auth(wp_main))
    session.commit()
    assert report.notes == []
    expected = {"draft": "draft", "pending": "draft", "future": "scheduled", "private": "draft",
                "trashed": "unpublished", "protected": "unpublished", "climate-0": "published"}
    assert {key: _by_source(session, wp_main, key).status for key in expected} == expected


def test_wrong_credentials_name_the_setting_never_the_secret(sqlite_session: Session,
                                                             wp_main: WordPressSite,
                                                             tmp_path: Path) -> None:
    secret = "abcd efgh ijkl mnop qrst uvwx"
    with pytest.raises(SourceError) as info:
        sync_source(sqlite_session, f"wordpress:{wp_main.url}", credentials=_auth(wp_main, secret))
    message = str(info.value)
    assert "401" in message and "RELATED_WORDPRESS_AUTH" in message and "'admin'" in message
    assert secret not in message and "abcd" not in message and "Basic" not in message
    assert count_articles(sqlite_session) == 0
    # the same through a credentials file: the message names the file and its line
    creds = tmp_path / "wp-credentials"
    creds.write_text(f"# sites\n{wp_main.url} admin:{secret}\n")
    with pytest.raises(SourceError, match=r"RELATED_WORDPRESS_AUTH_FILE \(.*\) line 2"):
        sync_source(sqlite_session, f"wordpress:{wp_main.url}/",
                    credentials=CredentialStore.load("", creds))
    assert count_articles(sqlite_session) == 0


def test_two_sites_with_the_same_post_ids_never_overwrite_each_other(
        session: Session, wp_main: WordPressSite, wp_second: WordPressSite) -> None:
    sync_source(session, f"wordpress:{wp_main.url}")
    session.commit()
    main_hello = _by_source(session, wp_main, "climate-0")
    second = sync_source(session, f"wordpress:{wp_second.url}")  # plain permalinks, in /blog
    session.commit()
    assert len(second.added) == 6  # its five stories and "Hello world!", nothing overwritten
    theirs = _by_source(session, wp_second, "second-0")
    assert _by_source(session, wp_main, "climate-0").title == main_hello.title
    hello = session.scalars(select(Article).where(Article.source_id == "wp-1")).all()
    assert sorted(a.site for a in hello) == sorted(s.url.split("/")[2] for s in (wp_main, wp_second))
    assert {a.external_id for a in hello} == {"wp-1", f"wp-1@{wp_second.url.split('/')[2]}"}
    assert theirs.canonical_url == wp_second.link("second-0")  # the plain permalink, as published
    assert "?p=" in theirs.canonical_url
    again = sync_source(session, f"wordpress:{wp_second.url}")
    assert (again.added, again.updated, again.unchanged) == ([], [], 6)


def test_the_api_is_found_from_the_link_the_site_advertises(sqlite_session: Session,
                                                            wp_second: WordPressSite) -> None:
    from recommender.catalog.sources.wordpress import discover_api

    api = discover_api(wp_second.url, 10.0)
    assert "rest_route=" in api and "/blog/" in api
    report = sync_source(sqlite_session, f"wordpress:{wp_second.url}")
    assert len(report.added) == 6


def test_the_section_is_the_primary_category(sqlite_session: Session,
                                             wp_main: WordPressSite) -> None:
    sync_source(sqlite_session, f"wordpress:{wp_main.url}")
    # filed under Climate and Football; Yoast's primary term says Football (alphabetically 2nd)
    assert _by_source(sqlite_session, wp_main, "primary").section == "Football"


def test_the_command_refuses_wrong_credentials_and_stores_nothing(
        sqlite_url: str, wp_main: WordPressSite, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from recommender import exits
    from recommender.cli import main as cli
    from recommender.storage import migrations

    migrations.upgrade(sqlite_url)
    monkeypatch.setenv("RELATED_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RELATED_WORDPRESS_AUTH", "admin:wrong-secret-value")
    args = ["import", "--source", f"wordpress:{wp_main.url}", "--withdraw-missing"]
    assert cli.main(args) == exits.FAILED
    err = capsys.readouterr().err
    assert "RELATED_WORDPRESS_AUTH" in err and "nothing imported" in err
    assert "wrong-secret-value" not in err and "Traceback" not in err
    monkeypatch.setenv("RELATED_WORDPRESS_AUTH", f"admin:{wp_main.app_password}")
    assert cli.main(args) == exits.OK
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == 127 + 5 and "note:" not in err  # every status, no warning
    assert wp_main.app_password not in out + err
