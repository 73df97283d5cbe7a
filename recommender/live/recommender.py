"""The ``Recommender`` facade shared by the web app, the CLI and the scripts.

Readers' lookups go straight to SQL (``serving``); everything that ranks live (editors' views,
drafts, publishing between builds) goes through here, with the encoder and the serving FAISS build
loaded lazily and once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from recommender import readers
from recommender.catalog.items import CatalogCache, ItemInfo, active_curations, info_of, load_items
from recommender.catalog.text import clean_line, clean_text
from recommender.embedding.backends import backend_of, make_encoder
from recommender.embedding.cache import embed_missing
from recommender.embedding.encoder import Encoder, Vectors
from recommender.embedding.representation import embed_texts
from recommender.index.builds import IndexStore
from recommender.index.cache import BuildCache
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.context import RankingContext
from recommender.ranking.lexical import lexical_text
from recommender.ranking.lists import rank_page, related_rows, replace_lists, single_threaded_blas
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.saved import current_policy
from recommender.ranking.space import SearchSpace
from recommender.ranking.stages import Candidate, Ranked
from recommender.settings import Settings
from recommender.storage.locks import writer_lock
from recommender.storage.schema import Article, RelatedItem, utcnow

NEIGHBOURS_TO_REFRESH = 30
# Marks a session whose transaction already holds the writer lock (``Recommender.writing``).
_HOLDS_WRITER_LOCK = "related.holds_writer_lock"


@dataclass(frozen=True)
class Draft:
    """An article that is not stored: what an editor pastes or a CMS sends for preview."""

    title: str
    body: str = ""
    dek: str = ""
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    section: str = ""
    content_type: str = "news"
    language: str = "en"


@dataclass(frozen=True)
class Explained:
    """One item of a live ranking, with every signal behind its place."""

    article_id: int
    score: float
    signals: dict[str, float]
    fallback: bool
    pinned: bool
    note: str


@dataclass
class Explanation:
    items: list[Explained]
    below_cut: list[Explained]
    dropped: list[tuple[int, str]]
    build_id: str


@dataclass
class RefreshReport:
    embedded: int = 0
    lists_updated: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    # For each article refreshed, the lists refreshed on its account (its own, its neighbours',
    # those it left): callers such as the publish webhook report per article, not per batch.
    lists_by_article: dict[int, list[int]] = field(default_factory=dict)


def _explained(c: Candidate) -> Explained:
    return Explained(article_id=c.id, score=round(c.score, 4), signals=dict(c.signals),
                     fallback=c.fallback, pinned=c.pinned, note=c.note)


def _explanation(ranked: Ranked, build_id: str) -> Explanation:
    return Explanation(items=[_explained(c) for c in ranked.items],
                       below_cut=[_explained(c) for c in ranked.below_cut],
                       dropped=[(d.candidate.id, d.reason) for d in ranked.dropped],
                       build_id=build_id)


class Recommender:
    """Everything the app and the jobs ask of the recommender, with heavy parts loaded lazily."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], *,
                 encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self._encoder = encoder
        self.store = IndexStore(settings.index_dir)
        self.builds = BuildCache(self.store, functools.partial(RankingBuild.load, self.store))
        self.catalog = CatalogCache()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = make_encoder(self.settings)
        return self._encoder

    def policy(self, session: Session) -> RankingPolicy:
        """The effective ranking policy: the newest saved by editors, else the settings'."""
        return current_policy(session, self.settings.ranking)

    # -- readers -------------------------------------------------------------------------
    def related(self, session: Session, article: Article, k: int) -> readers.RelatedList:
        return readers.related_for(session, article, k,
                                   same_language=self.policy(session).same_language)

    # -- live ranking --------------------------------------------------------------------
    def _space(self, session: Session) -> SearchSpace:
        return SearchSpace.load(session, self.encoder.model_id, self.builds.get(),
                                backend=backend_of(self.encoder))

    def explain(self, session: Session, article: Article, k: int,
                policy: RankingPolicy | None = None) -> Explanation:
        """Rank one stored article live, with signals and the candidates below the cut."""
        with single_threaded_blas():
            return self._explain(session, article, k, policy)

    def _explain(self, session: Session, article: Article, k: int,
                 policy: RankingPolicy | None) -> Explanation:
        space = self._space(session)
        vector = space.vector(article.id)
        lexical_row = space.lexical_row(article.id)
        if lexical_row is None:
            lexical_row = space.lexical.transform([lexical_text(article.title, article.dek,
                                                                article.body)])
        if vector is None:  # not embedded yet (e.g. a draft): embed it now, store nothing
            vector = space.smooth(embed_texts(self.encoder, [(article.title, article.dek,
                                                             article.body)])[0], lexical_row)
        now = utcnow()
        items, sections = self.catalog.get(session)
        context = RankingContext(space, items, active_curations(session, now, article.id),
                                 sections, policy or self.policy(session), k)
        ranked = rank_page(context, info_of(article, now), vector, lexical_row)
        return _explanation(ranked, space.build.build_id if space.build else "")

    def preview(self, session: Session, draft: Draft, k: int,
                policy: RankingPolicy | None = None) -> Explanation:
        """The list a draft would get once published; nothing is stored."""
        title, dek, body = clean_line(draft.title), clean_line(draft.dek), clean_text(draft.body)
        if not (title or body):
            raise ValueError("a draft needs a title or a body")
        # the model runs with its own threads; only the ranking's tiny products go single-threaded
        vector = embed_texts(self.encoder, [(title, dek, body)])[0]
        with single_threaded_blas():
            return self._preview(session, draft, (title, dek, body), vector, k, policy)

    def _preview(self, session: Session, draft: Draft, text: tuple[str, str, str],
                 vector: Vectors, k: int, policy: RankingPolicy | None) -> Explanation:
        title, dek, body = text
        space = self._space(session)
        lexical_row = space.lexical.transform([lexical_text(title, dek, body)])
        vector = space.smooth(vector, lexical_row)
        now = utcnow()
        items, sections = self.catalog.get(session)
        page = ItemInfo(id=-1, section=draft.section, content_type=draft.content_type,
                        language=draft.language, authors=tuple(draft.authors),
                        tags=tuple(t.lower() for t in draft.tags), published_at=now, live=True)
        context = RankingContext(space, items, active_curations(session, now), sections,
                                 policy or self.policy(session), k)
        ranked = rank_page(context, page, vector, lexical_row)
        return _explanation(ranked, space.build.build_id if space.build else "")

    # -- writers -------------------------------------------------------------------------
    @contextmanager
    def writing(self, session: Session) -> Iterator[None]:
        """Hold the writer lock for this session's transaction (re-entrant per session).

        A caller that stores articles and then refreshes their lists takes it *before* its first
        write, so the store and the lists commit as one transaction and no other writer can slip
        in between (on SQLite, writing first and locking second could deadlock two writers).
        """
        if session.info.get(_HOLDS_WRITER_LOCK):
            yield
            return
        with writer_lock(session, self.settings.index_dir):
            session.info[_HOLDS_WRITER_LOCK] = True
            try:
                yield
            finally:
                session.info.pop(_HOLDS_WRITER_LOCK, None)

    def refresh(self, session: Session, article_ids: Iterable[int]) -> RefreshReport:
        """Bring every list an article enters or leaves up to date now, in one transaction."""
        ids = sorted(set(article_ids))
        report = RefreshReport()
        with self.writing(session), single_threaded_blas():
            now = utcnow()
            items = load_items(session, now)
            live = [i for i in ids if i in items and items[i].live]
            report.embedded = embed_missing(session, self.encoder, article_ids=live).embedded
            space = self._space(session)
            by_article: dict[int, set[int]] = {i: set() for i in ids}
            for page_id, target_id in self._lists_containing(session, ids):
                by_article[target_id].add(page_id)
            for article_id in ids:
                if article_id not in live:
                    report.withdrawn.append(article_id)
                    continue
                by_article[article_id].add(article_id)
                vector = space.vector(article_id)
                if vector is None:
                    continue
                hits = space.search(vector, space.lexical_row(article_id), NEIGHBOURS_TO_REFRESH + 1)
                by_article[article_id].update(h.id for h in hits
                                              if h.id in items and items[h.id].live)
            affected = set().union(*by_article.values())
            session.execute(delete(RelatedItem).where(RelatedItem.article_id.in_(report.withdrawn)))
            report.lists_updated = self._recompute(session, space, sorted(affected), items, now)
            done = set(report.lists_updated)
            report.lists_by_article = {i: sorted(pages & done) for i, pages in by_article.items()}
            session.commit()
        return report

    def _lists_containing(self, session: Session, ids: Sequence[int]) -> list[tuple[int, int]]:
        """(page, target) for every stored list that holds one of ``ids``."""
        if not ids:
            return []
        rows = session.execute(select(RelatedItem.article_id, RelatedItem.target_id)
                               .where(RelatedItem.target_id.in_(list(ids))))
        return [(page, target) for page, target in rows]

    def _recompute(self, session: Session, space: SearchSpace, pages: Sequence[int],
                   items: dict[int, ItemInfo], now: datetime) -> list[int]:
        context = RankingContext(space, items, active_curations(session, now),
                                 self.catalog.get(session)[1], self.policy(session),
                                 self.settings.related_k, below_cut=0)
        build_id = space.build.build_id if space.build else "live"
        done: list[int] = []
        rows = []
        for page_id in pages:
            info = items.get(page_id)
            vector = space.vector(page_id)
            if info is None or not info.live or vector is None:
                continue
            ranked = rank_page(context, info, vector, space.lexical_row(page_id))
            rows.extend(related_rows(page_id, ranked, build_id, now))
            done.append(page_id)
        replace_lists(session, done, rows)
        return done
