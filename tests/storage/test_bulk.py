"""Writing a build's lists in bulk: COPY on PostgreSQL, executemany on SQLite, read back as the
ORM writes them (signals as dicts, aware times, booleans), all in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.storage.bulk import replace_all_lists
from recommender.storage.schema import Article, RelatedItem


def _articles(session: Session, n: int) -> list[int]:
    for i in range(n):
        session.add(Article(external_id=f"b-{i}", url=f"https://bulk.example/{i}", title=f"T{i}",
                            dek="", body="b", tags=[], authors=[], section="S",
                            content_type="news", status="published",
                            published_at=datetime(2024, 1, 1, tzinfo=UTC), content_hash=f"h{i}",
                            word_count=1))
    session.commit()
    return list(session.scalars(select(Article.id).order_by(Article.id)))


def test_bulk_rows_read_back_as_the_orm_writes_them(session: Session) -> None:
    ids = _articles(session, 4)
    session.add(RelatedItem(article_id=ids[0], target_id=ids[3], position=1, score=0.1,
                            signals={}, fallback=False, build_id="old"))
    session.commit()
    when = datetime(2026, 12, 2, 16, 0, 0, 123456, tzinfo=UTC)
    blocks = [[(ids[0], ids[1], 1, 0.75, {"semantic": 0.5, "why": "tab\there \\ \"q\""}, False),
               (ids[0], ids[2], 2, 0.5, {}, True)],
              [(ids[1], ids[0], 1, 0.25, {"lexical": 0.1}, False)]]
    seen: list[int] = []
    assert replace_all_lists(session, iter(blocks), "new", when, progress=seen.append) == 3
    session.commit()
    assert sum(seen) == 3
    rows = session.scalars(select(RelatedItem).order_by(RelatedItem.article_id,
                                                        RelatedItem.position)).all()
    got = [(r.article_id, r.target_id, r.position, r.score, r.signals, r.fallback, r.build_id,
            r.computed) for r in rows]
    assert got == [
        (ids[0], ids[1], 1, 0.75, {"semantic": 0.5, "why": "tab\there \\ \"q\""}, False, "new",
         when),
        (ids[0], ids[2], 2, 0.5, {}, True, "new", when),
        (ids[1], ids[0], 1, 0.25, {"lexical": 0.1}, False, "new", when),
    ]


def test_a_rolled_back_swap_keeps_the_old_lists(session: Session) -> None:
    ids = _articles(session, 2)
    session.add(RelatedItem(article_id=ids[0], target_id=ids[1], position=1, score=0.1,
                            signals={}, fallback=False, build_id="old"))
    session.commit()

    def failing() -> object:
        yield [(ids[1], ids[0], 1, 0.2, {}, False)]
        raise RuntimeError("the spool could not be read")

    try:
        replace_all_lists(session, failing(), "new", datetime.now(UTC))  # type: ignore[arg-type]
    except RuntimeError:
        session.rollback()
    assert session.scalars(select(RelatedItem.build_id)).all() == ["old"]
    assert session.scalar(select(func.count()).select_from(RelatedItem)) == 1
