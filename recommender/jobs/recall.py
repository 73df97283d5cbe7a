"""List recall@10 of the serving build against exact search, on a sample of its pages.

Past ``exact_index_max`` a build finds candidates with an approximate index (HNSW, IVF), which
may miss a few true neighbours. What readers would notice is a different list, so this measures
lists, not neighbours: for a sample of pages, the stored top 10 against the top 10 the same
ranking gives with exact search over the same (smoothed) vectors. Smoothing's own neighbours
come from the same approximate index and are not re-derived exactly (that would mean smoothing
the whole catalogue again): the figure isolates the index's effect on the stored lists.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.catalog.items import active_curations, load_items, recent_by_section
from recommender.index.builds import IndexStore
from recommender.index.factory import build_index
from recommender.index.vectors import EXACT_SPEC
from recommender.ranking.batch import build_pages
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import block_rows
from recommender.ranking.saved import current_policy
from recommender.ranking.space import SearchSpace
from recommender.settings import Settings
from recommender.storage.schema import RelatedItem, utcnow


def list_recall_at_10(session_factory: sessionmaker[Session], settings: Settings, *,
                      sample: int = 1000, seed: int = 0) -> float | None:
    """Mean share of each sampled page's exact top 10 that its stored top 10 holds (None: no
    build, or no page with a list)."""
    store = IndexStore(settings.index_dir)
    build_id = store.current_id()
    if build_id is None:
        return None
    build = RankingBuild.load(store, build_id)
    exact = dataclasses.replace(build, index=build_index(build.vectors, EXACT_SPEC))
    with session_factory() as session:
        items = load_items(session)
        now = utcnow()
        space = SearchSpace(exact, exact.lexical, np.zeros(0, dtype=np.int64),
                            np.zeros((0, exact.vectors.shape[1]), dtype=np.float32),
                            exact.lexical.transform([]))
        context = RankingContext(space, items, active_curations(session, now),
                                 recent_by_section(items),
                                 current_policy(session, settings.ranking), settings.related_k,
                                 below_cut=0)
        pages = build_pages(context)
        rng = np.random.default_rng(seed)
        chosen = sorted(int(p) for p in rng.choice(pages, size=min(sample, len(pages)),
                                                   replace=False))
        truth: dict[int, set[int]] = {}
        for page, target, position, *_ in block_rows(context, chosen):
            if position <= 10:
                truth.setdefault(page, set()).add(target)
        stored: dict[int, set[int]] = {}
        for start in range(0, len(chosen), 500):
            rows = session.execute(select(RelatedItem.article_id, RelatedItem.target_id)
                                   .where(RelatedItem.article_id.in_(chosen[start:start + 500]),
                                          RelatedItem.position <= 10))
            for page, target in rows:
                stored.setdefault(page, set()).add(target)
    shares = [len(want & stored.get(page, set())) / len(want) for page, want in truth.items()]
    return round(float(np.mean(shares)), 4) if shares else None
