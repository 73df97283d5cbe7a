"""Small articles and widget event payloads for the feedback tests."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from recommender.storage.schema import Article

BROWSER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/140.0 Safari/537.36")


def add_articles(session: Session, n: int = 6, section: str = "world") -> list[str]:
    """``n`` published articles a-1..a-n; returns their external ids."""
    published = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [f"a-{i}" for i in range(1, n + 1)]
    for i, external in enumerate(ids):
        session.add(Article(external_id=external, url=f"https://site.example/{external}",
                            title=f"Article {external}", section=section, status="published",
                            published_at=published + timedelta(hours=i), content_hash="x" * 64))
    session.commit()
    return ids


def token() -> str:
    return secrets.token_hex(16)


def impression(page: str, items: list[str], view: str, arm: str = "default") -> dict[str, Any]:
    return {"type": "impression", "page": page, "token": view, "arm": arm, "items": items}


def click(page: str, item: str, position: int, view: str, arm: str = "default") -> dict[str, Any]:
    return {"type": "click", "page": page, "token": view, "arm": arm, "item": item,
            "position": position}


def batch(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()
