from __future__ import annotations

import pytest

from recommender.catalog.urls import InvalidURL, normalize_url


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://Meridian.Example/2025/03/story/", "https://meridian.example/2025/03/story"),
    ("HTTPS://meridian.example:443/a?utm_source=x&utm_medium=y", "https://meridian.example/a"),
    ("https://meridian.example/a?b=2&a=1&fbclid=zz#comments", "https://meridian.example/a?a=1&b=2"),
    ("http://meridian.example:8080/a/", "http://meridian.example:8080/a"),
    ("https://meridian.example", "https://meridian.example/"),
    ("https://meridian.example/?utm_campaign=n", "https://meridian.example/"),
    ("  https://meridian.example/x?page=2  ", "https://meridian.example/x?page=2"),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize_url("https://A.example/x/?utm_source=1&q=a b")
    assert normalize_url(once) == once


@pytest.mark.parametrize("raw", ["", "   ", "/relative/path", "ftp://x.example/a",
                                 "javascript:alert(1)", "https://", "http://x.example:99999/",
                                 "https://x.example/" + "a" * 3000,
                                 "HTTPS://" + "0" * 300 + "/"])
def test_invalid(raw: str) -> None:
    with pytest.raises(InvalidURL):
        normalize_url(raw)


def test_the_url_as_published_is_kept_for_links_but_never_tracking() -> None:
    from recommender.catalog.urls import as_published

    assert as_published("https://Mag.example/2025/post/", "https://mag.example/2025/post") \
        == "https://Mag.example/2025/post/"
    assert as_published("https://mag.example/post", "https://mag.example/post") is None  # same
    assert as_published("https://mag.example/post/?utm_source=x", "https://mag.example/post") is None
    assert as_published("https://mag.example/other/", "https://mag.example/post") is None
    assert as_published("not a url", "https://mag.example/post") is None
