"""The bundled demo magazine: loads cleanly and has the shape the demo relies on."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.importing import import_file
from recommender.cli.main import DEMO_DIR
from recommender.storage.schema import Article


def _records() -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted(DEMO_DIR.glob("*.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]


def test_demo_articles_have_the_promised_shape() -> None:
    records = _records()
    assert len(records) >= 80
    words = [len(str(r["body"]).split()) for r in records]
    assert min(words) >= 150 and max(words) <= 400
    types = Counter(str(r["content_type"]) for r in records)
    assert set(types) == {"news", "analysis", "opinion", "review", "evergreen"}
    statuses = Counter(str(r["status"]) for r in records)
    assert statuses["draft"] == 1 and statuses["unpublished"] == 1
    tags = Counter(t for r in records for t in r["tags"])  # type: ignore[attr-defined]
    assert sum(1 for n in tags.values() if n >= 4) >= 10  # at least ten overlapping topics
    years = {str(r["published_at"])[:4] for r in records if r["published_at"]}
    assert len(years) >= 3
    assert any(str(r["title"]).startswith("UPDATED") for r in records)


def test_demo_data_loads(session: Session) -> None:
    for path in sorted(DEMO_DIR.glob("*.jsonl")):
        import_file(session, path)
    session.commit()
    articles = session.scalars(select(Article)).all()
    assert len(articles) == len(_records())
    assert sum(a.is_live() for a in articles) == len(articles) - 2
