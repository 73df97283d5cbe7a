"""The Ray engine: a build's embedding and lists spread over a Ray cluster (``--engine ray``).

Ray is an optional extra (``pip install related-reading[ray]``), imported only here and only
when this engine is chosen. The driver (the ``reindex`` process) keeps every decision and every
write: it picks the articles to embed, stores the vectors batch by batch, and gathers the lists
and writes them exactly as the local engine's; Ray only computes.

- Embedding is a Ray Data job: one row per commit batch of 64 articles (the local engine's
  batches, so the same texts meet the model together), ``map_batches`` over an actor pool whose
  actors each load the encoder once. The driver commits each batch as it comes back, so a run
  killed mid-way keeps them and the next one embeds only the rest.
- The lists are blocks of pages, each a Ray task that loads the build from the build directory
  (shared storage: the same path on every node) and runs ``lists.block_rows`` on its block;
  the driver gets the blocks back in the build's order, checks and spools them.

Workers that die are restarted or their work retried by Ray (``RETRIES`` times); a build that
still fails raises, and ``run_build`` leaves the previous build serving.
"""

from __future__ import annotations

import functools
import importlib
import logging
import socket
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from recommender import exits
from recommender.catalog.items import Curations, ItemInfo
from recommender.embedding.backends import backend_of
from recommender.embedding.cache import EmbedReport, stale_articles
from recommender.embedding.encoder import Encoder
from recommender.embedding.representation import embed_texts
from recommender.index.builds import IndexStore
from recommender.jobs.engine import Block, EngineUnavailable, Progress
from recommender.ranking.batch import build_pages
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.context import RankingContext
from recommender.ranking.lists import block_rows
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.space import SearchSpace
from recommender.storage.schema import Embedding, utcnow

EncoderFactory = Callable[[], Encoder]
EMBED_BATCH = 64  # articles per commit, as embed_missing
PAGES_PER_BLOCK = 1024  # pages per lists task: ~2 s of work at 10,000 articles
RETRIES = 3  # restarts of a dead actor, retries of a task whose worker died
log = logging.getLogger("related_reading.ray")


class EmbeddingFailed(RuntimeError):
    """Some batches could not be embedded (the encoder raised); the others are stored."""


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or EngineUnavailable (exit code 2: a setting to fix, not
    a fault). Ray without its ``data`` extra (pyarrow, pandas) counts as not installed."""
    try:
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
        return ray
    except ImportError as exc:
        raise EngineUnavailable(
            f"the Ray engine needs Ray with Ray Data, which is not installed ({exc}): "
            "pip install 'related-reading[ray]'", exits.USAGE) from exc


def probe(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds on an address nobody listens at: ``ray.init`` itself keeps retrying for
    minutes. ``auto`` (Ray's own discovery) is left to Ray."""
    hostport = address.removeprefix("ray://")
    if hostport == "auto":
        return
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise EngineUnavailable(f"RELATED_RAY_ADDRESS: expected host:port or ray://host:port, "
                                f"got {address!r}", exits.USAGE)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise EngineUnavailable(f"cannot reach the Ray cluster at {address}: {exc}") from exc


class RayEngine:
    """Runs a build's two heavy stages on Ray: at ``address``, or a local Ray when empty."""

    name = "ray"

    def __init__(self, address: str, encoder_factory: EncoderFactory, *,
                 actors: int | None = None, pages_per_block: int = PAGES_PER_BLOCK) -> None:
        self._ray = import_ray()
        self.address = address
        self.encoder_factory = encoder_factory
        self.actors = actors
        self.pages_per_block = pages_per_block
        self._started = False

    def connect(self) -> None:
        """Join the cluster (once). A Ray already initialised in this process is used as is."""
        ray = self._ray
        if ray.is_initialized():
            return
        where = self.address or "a new local Ray"
        if self.address:
            probe(self.address)
        try:
            if self.address:
                ray.init(address=self.address, log_to_driver=True)
            else:
                ray.init(include_dashboard=False)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise EngineUnavailable(f"cannot reach the Ray cluster at {where}: {exc}") from exc
        self._started = True
        ray.data.DataContext.get_current().enable_progress_bars = False
        log.info("Ray: %s, %s CPUs", where, ray.cluster_resources().get("CPU", 0))

    def close(self) -> None:
        """Leave the cluster if this engine joined it (a local Ray it started stops with it)."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False

    def _cpus(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    # -- embedding ------------------------------------------------------------------------------

    def embed(self, session: Session, encoder: Encoder, progress: Progress | None) -> EmbedReport:
        backend = backend_of(encoder)  # vectors record the backend that made them (#14)
        todo = stale_articles(session, encoder.model_id, backend=backend)
        if not todo:
            return EmbedReport(embedded=0, skipped=0)
        self.connect()
        ray = self._ray
        rows = [{"ids": [a.id for a in chunk], "hashes": [a.content_hash for a in chunk],
                 "titles": [a.title for a in chunk], "deks": [a.dek or "" for a in chunk],
                 "bodies": [a.body or "" for a in chunk]}
                for chunk in (todo[i:i + EMBED_BATCH] for i in range(0, len(todo), EMBED_BATCH))]
        session.expunge_all()  # the texts are in ``rows`` now; let the ORM objects go
        actors = max(1, min(self.actors or self._cpus(), len(rows)))
        with warnings.catch_warnings():
            # Ray Data's default is to restart a dead actor forever: one batch that kills its
            # worker every time would hang the nightly job. Bounded restarts are only reachable
            # through the remote args Ray 2.60 calls deprecated; silence that, keep the bound.
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
                EmbedActor, fn_constructor_args=(self.encoder_factory,), batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1,
                max_restarts=RETRIES, max_task_retries=RETRIES)
        done, failed = 0, list[str]()
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            errors = [str(e) for e in batch["error"]]
            good = [i for i, error in enumerate(errors) if not error]
            failed.extend(error for error in errors if error)
            ids = [int(batch["id"][i]) for i in good]
            store_rows(session, encoder.model_id, ids, [str(batch["hash"][i]) for i in good],
                       np.asarray(batch["vector"], dtype=np.float32)[good], backend=backend)
            session.commit()
            done += len(ids)
            if progress:
                progress(len(errors))
        if failed:
            raise EmbeddingFailed(f"{len(failed)} of {len(todo)} articles could not be embedded "
                                  f"({done} were and are kept): {failed[0]}")
        return EmbedReport(embedded=done, skipped=0)

    # -- lists ----------------------------------------------------------------------------------

    def lists(self, context: RankingContext, store: IndexStore, build_id: str, now: datetime,
              progress: Progress | None) -> Iterator[Block]:
        pages = build_pages(context)
        if not pages:
            return
        self.connect()
        ray = self._ray
        job = ray.put(ListsJob(index_dir=str(store.root), build_id=build_id, now=now,
                               items=dict(context.items), curations=context.curations,
                               fallback={k: list(v) for k, v in context.fallback.items()},
                               policy=context.policy, k=context.k, below_cut=context.below_cut))
        task = ray.remote(lists_block).options(max_retries=RETRIES, num_cpus=1)
        blocks = [pages[i:i + self.pages_per_block]
                  for i in range(0, len(pages), self.pages_per_block)]
        refs = [task.remote(job, block) for block in blocks]
        results: dict[Any, Block] = {}
        pending, order = list(refs), iter(refs)
        following = next(order, None)
        while following is not None:  # blocks handed on in the build's order, as they arrive
            if following not in results:
                ready, pending = ray.wait(pending, num_returns=1)
                results[ready[0]] = ray.get(ready[0])
                if progress:
                    progress(len(results[ready[0]][0]))
                continue
            yield results.pop(following)
            following = next(order, None)


class EmbedActor:
    """One Ray actor of the embedding pool: loads the encoder once, then embeds batch after
    batch (one row = one commit batch of articles)."""

    def __init__(self, encoder_factory: EncoderFactory) -> None:
        self.encoder = encoder_factory()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        ids: list[int] = []
        hashes: list[str] = []
        triples: list[tuple[str, str, str]] = []
        for row in range(len(batch["ids"])):
            ids.extend(int(a) for a in batch["ids"][row])
            hashes.extend(str(h) for h in batch["hashes"][row])
            triples.extend(zip((str(t) for t in batch["titles"][row]),
                               (str(d) for d in batch["deks"][row]),
                               (str(b) for b in batch["bodies"][row]), strict=True))
        try:
            vectors = np.asarray(embed_texts(self.encoder, triples), dtype=np.float32)
            error = ""
        except Exception as exc:  # reported per batch: the other batches' vectors still count
            vectors = np.zeros((len(ids), self.encoder.dimension), dtype=np.float32)
            error = f"{type(exc).__name__}: {exc}"
        return {"id": np.asarray(ids, dtype=np.int64), "hash": np.asarray(hashes),
                "vector": vectors, "error": np.asarray([error] * len(ids))}


def store_rows(session: Session, model_id: str, ids: Sequence[int], hashes: Sequence[str],
               vectors: np.ndarray, *, backend: str) -> None:
    """Replace these articles' vectors in bulk (``cache.store_vectors`` without ORM objects)."""
    if not ids:
        return  # an empty executemany would insert one row of defaults
    session.execute(delete(Embedding).where(Embedding.model_id == model_id,
                                            Embedding.article_id.in_(list(ids))))
    now = utcnow()
    session.execute(insert(Embedding), [
        {"article_id": a, "model_id": model_id, "content_hash": h,
         "dimension": int(v.shape[0]), "vector": v.tobytes(), "created": now,
         "backend": backend}
        for a, h, v in zip(ids, hashes, vectors, strict=True)])


@dataclass(frozen=True)
class ListsJob:
    """What every lists task shares (put once in the object store): the ranking's inputs that
    come from the database, and where the build's files are."""

    index_dir: str
    build_id: str
    now: datetime
    items: dict[int, ItemInfo]
    curations: Curations
    fallback: dict[str, list[ItemInfo]]
    policy: RankingPolicy
    k: int
    below_cut: int


@functools.lru_cache(maxsize=2)
def _load_build(index_dir: str, build_id: str) -> RankingBuild:
    """A worker runs many blocks of one build: it reads the files once."""
    return RankingBuild.load(IndexStore(Path(index_dir)), build_id)


def lists_block(job: ListsJob, pages: list[int]) -> Block:
    """One Ray task: the lists of a block of pages, by the same code as the local engine."""
    build = _load_build(job.index_dir, job.build_id)
    space = SearchSpace(build, build.lexical, np.zeros(0, dtype=np.int64),
                        np.zeros((0, build.vectors.shape[1]), dtype=np.float32),
                        build.lexical.transform([]))
    context = RankingContext(space, job.items, job.curations, job.fallback, job.policy, job.k,
                             below_cut=job.below_cut)
    return pages, block_rows(context, pages)
