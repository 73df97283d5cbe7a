"""Fixtures for the catalogue's tests: the fake publication site the source tests fetch from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.sites import FakeSite, serve_site
from tests.helpers.wordpress import Unavailable, WordPressSite, WordPressStack


@pytest.fixture
def site() -> Iterator[FakeSite]:
    """A fake site (feeds, sitemaps, pages, a WordPress API) on 127.0.0.1, for one test."""
    with serve_site() as fake:
        yield fake


@pytest.fixture(scope="session")
def wordpress() -> Iterator[tuple[WordPressSite, WordPressSite]]:
    """Two real WordPress sites (main at the root, second in /blog with plain permalinks), started
    once per session; skipped with the reason when WordPress cannot be installed here."""
    stack = WordPressStack()
    try:
        sites = stack.start()
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        yield sites
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def wp_main(wordpress: tuple[WordPressSite, WordPressSite]) -> WordPressSite:
    return wordpress[0]


@pytest.fixture(scope="session")
def wp_second(wordpress: tuple[WordPressSite, WordPressSite]) -> WordPressSite:
    return wordpress[1]
