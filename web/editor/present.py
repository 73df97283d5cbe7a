"""Turning a live ``Explanation`` into rows editors can read: titles, and each signal in words.

The ranker speaks in article ids and signal names; editors need the article, what each number
means and how it moved the score. Every article an explanation mentions is loaded in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.live.recommender import Explained, Explanation
from recommender.storage.schema import Article

# (key, label, what it means) in the order the pipeline applies them
SIGNALS: tuple[tuple[str, str, str], ...] = (
    ("semantic", "Meaning", "cosine of the two texts' sentence embeddings"),
    ("lexical", "Shared words", "TF-IDF cosine: distinctive words both texts use"),
    ("text", "Text blend", "meaning and shared words, weighted by the policy"),
    ("tags", "Shared tags", "IDF-weighted share of the page's tags, times the tag weight"),
    ("author", "Shared author", "bonus for an author in common"),
    ("recency", "Recency factor", "multiplier: 1 = as new as the page; older items lose up to "
                                  "the recency weight, by their type's half-life"),
    ("diversity", "Diversity penalty", "subtracted by MMR for repeating an item above it"),
    ("curation", "Curation", "pinned by an editor at this position"),
    ("fallback", "Fallback", "too little is related: a recent article of the same section"),
)
LABELS = {key: label for key, label, _ in SIGNALS}
# column headings: short enough that the title column keeps its room on a laptop screen
SHORT = {"semantic": "Meaning", "lexical": "Words", "text": "Blend", "tags": "Tags",
         "author": "Author", "recency": "Recency", "diversity": "Diversity"}


@dataclass(frozen=True)
class Signal:
    key: str
    label: str
    help: str
    value: float


@dataclass(frozen=True)
class Row:
    """One ranked or below-the-cut item, ready for the template."""

    position: int
    article: Article | None
    article_id: int
    score: float
    signals: tuple[Signal, ...]
    pinned: bool
    fallback: bool
    note: str


@dataclass(frozen=True)
class DroppedRow:
    article: Article | None
    article_id: int
    reason: str


@dataclass(frozen=True)
class Presented:
    items: tuple[Row, ...]
    below_cut: tuple[Row, ...]
    dropped: tuple[DroppedRow, ...]
    build_id: str


def _signals(item: Explained) -> tuple[Signal, ...]:
    return tuple(Signal(key, label, help_, float(item.signals[key]))
                 for key, label, help_ in SIGNALS if key in item.signals)


def _load(session: Session, ids: Iterable[int]) -> dict[int, Article]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(wanted)))}


def present(session: Session, explanation: Explanation) -> Presented:
    """Rows for every item, with the articles attached."""
    ids = [i.article_id for i in explanation.items + explanation.below_cut]
    articles = _load(session, ids + [d[0] for d in explanation.dropped])

    def row(position: int, item: Explained) -> Row:
        return Row(position=position, article=articles.get(item.article_id),
                   article_id=item.article_id, score=item.score, signals=_signals(item),
                   pinned=item.pinned, fallback=item.fallback, note=item.note)

    first_below = len(explanation.items) + 1
    return Presented(
        items=tuple(row(i, item) for i, item in enumerate(explanation.items, start=1)),
        below_cut=tuple(row(i, item) for i, item in enumerate(explanation.below_cut,
                                                               start=first_below)),
        dropped=tuple(DroppedRow(articles.get(aid), aid, reason)
                      for aid, reason in explanation.dropped),
        build_id=explanation.build_id)
