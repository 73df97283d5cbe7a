"""Where a build's two heavy stages run: embedding what changed, and every page's list.

``run_build`` does everything else itself (the index, smoothing, validation, the swap and the
flip), so an engine only changes *where* the work happens, never what is stored: the local
engine runs both stages in this process; ``ray_engine.RayEngine`` spreads them over a Ray
cluster and hands back the same results, which the driver writes exactly as here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from recommender import exits
from recommender.embedding.cache import EmbedReport, embed_missing
from recommender.embedding.encoder import Encoder
from recommender.index.builds import IndexStore
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import compute_all

Progress = Callable[[int], None]
Lists = tuple[list[int], list[dict[str, Any]]]


class EngineUnavailable(RuntimeError):
    """The chosen engine cannot run (not installed, unreachable). Raised before anything was
    changed; ``exit_code`` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = exits.FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BuildEngine(Protocol):
    """The two stages a build hands to an engine."""

    name: str

    def embed(self, session: Session, encoder: Encoder, progress: Progress | None) -> EmbedReport:
        """Embed every article whose vector is missing or stale, committing as it goes (a
        killed run keeps what it paid for)."""
        ...

    def lists(self, context: RankingContext, store: IndexStore, build_id: str, now: datetime,
              progress: Progress | None) -> Lists:
        """Every live page of ``build_id`` and its list rows, in the build's order."""
        ...


class LocalEngine:
    """Both stages in this process: the default, and the reference the others must equal."""

    name = "local"

    def embed(self, session: Session, encoder: Encoder, progress: Progress | None) -> EmbedReport:
        return embed_missing(session, encoder, commit_batches=True, progress=progress)

    def lists(self, context: RankingContext, store: IndexStore, build_id: str, now: datetime,
              progress: Progress | None) -> Lists:
        return compute_all(context, build_id, now, progress=progress)
