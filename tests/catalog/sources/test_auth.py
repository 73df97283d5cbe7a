"""Credentials for authenticated WordPress syncs: parsed from the setting or a file, matched to a
site by URL prefix, and never shown (not in repr, not in errors)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from recommender.catalog.sources.auth import CredentialsError, CredentialStore


def test_the_setting_applies_to_every_site_and_the_file_per_site(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_text("# editors' syncs\nhttps://news.example/blog ed:aaaa bbbb cccc\n\n"
                    "https://news.example bot:zzzz\n")
    store = CredentialStore.load("admin:xxxx yyyy", path)
    blog = store.for_site("https://NEWS.example/blog/")
    assert blog is not None and (blog.user, blog.password) == ("ed", "aaaa bbbb cccc")
    assert "line 2" in blog.origin and str(path) in blog.origin
    root = store.for_site("https://news.example/")
    assert root is not None and root.user == "bot"
    other = store.for_site("https://elsewhere.example")
    assert other is not None and other.user == "admin" and other.origin == "RELATED_WORDPRESS_AUTH"
    assert base64.b64decode(other.header().split()[1]) == b"admin:xxxx yyyy"
    assert CredentialStore().for_site("https://news.example") is None


def test_secrets_never_show(tmp_path: Path) -> None:
    store = CredentialStore.load("admin:s3cret-pass")
    assert "s3cret" not in repr(store) and "s3cret" not in repr(store.default)
    with pytest.raises(CredentialsError, match="RELATED_WORDPRESS_AUTH: expected USER:") as info:
        CredentialStore.load("just-a-password")
    assert "just-a-password" not in str(info.value)
    bad = tmp_path / "creds"
    bad.write_text("news.example admin:s3cret\n")
    with pytest.raises(CredentialsError, match="line 1: expected SITE_URL") as info:
        CredentialStore.load("", bad)
    assert "s3cret" not in str(info.value)
    with pytest.raises(CredentialsError, match="cannot read"):
        CredentialStore.load("", tmp_path / "missing")
