"""Fixtures of the command-line tests: the fake publication site ``import --source`` fetches from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.sites import FakeSite, serve_site


@pytest.fixture
def site() -> Iterator[FakeSite]:
    """A fake site (feeds, sitemaps, pages, a WordPress API) on 127.0.0.1, for one test."""
    with serve_site() as fake:
        yield fake
