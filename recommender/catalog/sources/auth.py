"""Credentials for authenticated WordPress syncs: application passwords from a setting or a file.

An application password reads drafts, scheduled and private posts, so it is handled like one:
it travels only in the ``Authorization`` header, never in a URL, and nothing here (or in the
errors built from it) ever prints it; :class:`Credentials` hides it from ``repr`` too.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

AUTH_SETTING = "RELATED_WORDPRESS_AUTH"
AUTH_FILE_SETTING = "RELATED_WORDPRESS_AUTH_FILE"


class CredentialsError(ValueError):
    """The credentials setting or file is malformed; the message names it, never the secret."""


@dataclass(frozen=True)
class Credentials:
    """A user name and application password, and which setting they came from (for messages)."""

    user: str
    password: str = field(repr=False)
    origin: str = AUTH_SETTING

    def header(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


def _parse(value: str, origin: str) -> Credentials:
    user, sep, password = value.strip().partition(":")
    if not sep or not user.strip() or not password.strip():
        raise CredentialsError(f"{origin}: expected USER:APPLICATION_PASSWORD")
    return Credentials(user.strip(), password.strip(), origin)


@dataclass(frozen=True)
class CredentialStore:
    """Credentials per site (longest matching URL prefix wins), with a default for every site."""

    sites: dict[str, Credentials] = field(default_factory=dict, repr=False)
    default: Credentials | None = field(default=None, repr=False)

    def for_site(self, site: str) -> Credentials | None:
        key = site.rstrip("/").lower()
        matches = [prefix for prefix in self.sites if key == prefix or key.startswith(prefix + "/")]
        return self.sites[max(matches, key=len)] if matches else self.default

    @classmethod
    def load(cls, value: str = "", path: Path | str | None = None) -> CredentialStore:
        """From ``USER:PASSWORD`` (every site) and/or a file of ``SITE_URL USER:PASSWORD`` lines."""
        default = _parse(value, AUTH_SETTING) if value.strip() else None
        sites: dict[str, Credentials] = {}
        if path:
            origin = f"{AUTH_FILE_SETTING} ({path})"
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CredentialsError(f"{origin}: cannot read: {exc.strerror or exc}") from None
            for number, line in enumerate(lines, start=1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                site, _, secret = line.strip().partition(" ")
                if not site.startswith(("http://", "https://")):
                    raise CredentialsError(f"{origin} line {number}: expected SITE_URL USER:PASSWORD")
                sites[site.rstrip("/").lower()] = _parse(secret, f"{origin} line {number}")
        return cls(sites, default)
