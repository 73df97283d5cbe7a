"""Where a build's two heavy stages run: embedding what changed, and every page's list.

``run_build`` does everything else itself (the index, smoothing, validation, the swap and the
flip), so an engine only changes *where* the work happens, never what is stored: the local
engine runs both stages in this process; ``ray_engine.RayEngine`` spreads them over a Ray
cluster and hands back the same results, which the driver writes exactly as here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from recommender import exits
from recommender.embedding.cache import EmbedReport, embed_missing
from recommender.embedding.encoder import Encoder
from recommender.index.builds import IndexStore
from recommender.ranking.batch import build_arrays, build_pages
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import ListRow, block_rows

Progress = Callable[[int], None]
Block = tuple[list[int], list[ListRow]]  # a block of pages and their list rows
LIST_BLOCK = 10_000  # pages whose lists are computed, checked and spooled together


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
              progress: Progress | None) -> Iterator[Block]:
        """Every live page of ``build_id`` and its list rows, block by block in the build's
        order (the caller checks and spools each block: memory stays one block's worth)."""
        ...


class LocalEngine:
    """Both stages in this process: the default, and the reference the others must equal."""

    name = "local"

    def embed(self, session: Session, encoder: Encoder, progress: Progress | None) -> EmbedReport:
        return embed_missing(session, encoder, commit_batches=True, progress=progress)

    def __init__(self, block: int = LIST_BLOCK) -> None:
        self.block = block

    def lists(self, context: RankingContext, store: IndexStore, build_id: str, now: datetime,
              progress: Progress | None) -> Iterator[Block]:
        pages = build_pages(context)
        arrays = build_arrays(context)  # computed once, shared by the blocks
        for start in range(0, len(pages), self.block):
            block = pages[start:start + self.block]
            yield block, block_rows(context, block, arrays=arrays, progress=progress)
