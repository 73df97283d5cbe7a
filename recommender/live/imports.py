"""Lists for articles an import brought in, at import time, as the publish webhook gives them.

Without this, an article imported from a file or a site had no related list (and appeared in no
other article's list) until the next reindex. A catalogue that has never been built gets none:
its first reindex builds everything anyway, and a first import must not load the model.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.encoder import Encoder
from recommender.live.recommender import Recommender
from recommender.settings import Settings
from recommender.storage.schema import IndexBuild


def has_build(session: Session) -> bool:
    """Whether an index build has ever been made ready (the lists have something to rank with)."""
    found = session.scalar(select(IndexBuild.id).where(IndexBuild.status == "ready").limit(1))
    return found is not None


def refresh_after_import(settings: Settings, session: Session, article_ids: Iterable[int], *,
                         encoder: Encoder | None = None) -> int:
    """Refresh every list the imported (added or changed) articles enter or leave, and commit;
    returns how many lists changed (0 when nothing was imported or nothing was ever built)."""
    ids = sorted(set(article_ids))
    if not ids or not has_build(session):
        return 0
    recommender = Recommender(settings, sessionmaker(bind=session.get_bind()), encoder=encoder)
    return len(recommender.refresh(session, ids).lists_updated)
