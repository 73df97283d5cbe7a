"""The middle of a build: vectors, lexical model, one index, smoothing, written to disk.

Everything large lives in the build's staging directory as it is made: the raw vectors are read
from the database straight into ``raw.npy`` (mapped, centred in place), smoothing writes
``vectors.npy`` (mapped), and the index is built once over the raw vectors (smoothing searches
it) and then given the smoothed ones (``VectorIndex.replace_vectors``), where the build used to
build a second index. Each stage reports progress and logs its time and the process's RSS.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from recommender.catalog.items import ItemInfo, load_items
from recommender.embedding.backends import backend_of
from recommender.embedding.encoder import Encoder
from recommender.index.builds import RAW_FILE, VECTORS_FILE, IndexStore
from recommender.index.factory import build_index
from recommender.index.mapped import allocate
from recommender.index.vectors import choose_index
from recommender.jobs.build_inputs import texts_of, write_vectors
from recommender.ranking.build_data import ranking_files
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.smoothing import Smoothing, smooth_catalogue
from recommender.settings import Settings
from recommender.storage.schema import utcnow

log = logging.getLogger("related_reading.build")
Update = Callable[[int], None]
ProgressFactory = Callable[[str, int], Update]


def rss_mb() -> float:
    """Peak RSS of this process so far (MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class Built:
    """A written (not yet serving) build directory: its meta, the catalogue's items, timings."""

    meta: dict[str, Any]
    items: dict[int, ItemInfo]
    timings: dict[str, float] = field(default_factory=dict)


def _noop(_: int) -> None:
    return None


class BuildSteps:
    """The stages of one build between embedding and lists, with progress and timings."""

    def __init__(self, session: Session, settings: Settings, store: IndexStore, build_id: str,
                 progress: ProgressFactory | None) -> None:
        self.session, self.settings, self.store = session, settings, store
        self.build_id, self.progress = build_id, progress
        self.timings: dict[str, float] = {}

    def _stage(self, name: str, total: int) -> Update:
        return self.progress(name, total) if self.progress else _noop

    def _done(self, name: str, started: float) -> None:
        seconds = time.perf_counter() - started
        self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
        log.info("%s: %.1f s (peak RSS so far %.0f MB)", name, seconds, rss_mb())

    def index_and_smooth(self, encoder: Encoder, policy: RankingPolicy, snapshot: datetime, *,
                         experiment: str | None = None) -> Built:
        """Write the complete build directory; returns what the lists stage needs. Only the
        encoder's backend's vectors are read (#14: never mixed); the meta records the backend
        and the running experiment (#16), if any."""
        t0 = time.perf_counter()
        staging = self.store.staging(self.build_id)
        backend = backend_of(encoder)
        ids, raw = write_vectors(self.session, encoder.model_id, staging / RAW_FILE,
                                 encoder.dimension, backend=backend)
        n = len(ids)
        log.info("read %d vectors into %s", n, staging / RAW_FILE)
        lexical, lexical_matrix = LexicalModel.fit_transform_stream(
            texts_of(self.session, ids), n)
        items = load_items(self.session)
        self._done("index", t0)  # reading and the lexical fit count as indexing, as before

        t0 = time.perf_counter()
        smoothing = Smoothing.for_policy(policy, raw)
        smoothing.prepare_into(raw, raw)  # centred in place: what "raw" means in this build
        spec = choose_index(n, exact_max=self.settings.exact_index_max,
                            hnsw_max=self.settings.hnsw_index_max)
        index = build_index(raw, spec, progress=self._stage(f"index ({spec.kind})", n))
        self._done("index", t0)

        t0 = time.perf_counter()
        vectors: Any = raw
        if smoothing.on:
            vectors = allocate(staging / VECTORS_FILE, raw.shape) if n else \
                np.zeros(raw.shape, dtype=np.float32)
            result = smooth_catalogue(raw, lexical_matrix, smoothing,
                                      exact_max=self.settings.exact_index_max, index=index,
                                      out=vectors, progress=self._stage("smoothing", n))
            if result is not vectors:  # too few to smooth: the raw vectors as they are
                vectors[:] = result
            index.replace_vectors(vectors, progress=self._stage("index (smoothed)", n))
        else:
            os.replace(staging / RAW_FILE, staging / VECTORS_FILE)
            vectors = np.load(staging / VECTORS_FILE, mmap_mode="r")
        self._done("smooth", t0)

        t0 = time.perf_counter()
        tags = tag_idf([items[int(a)].tags for a in ids if int(a) in items])
        meta = {"model_id": encoder.model_id, "backend": backend, "experiment": experiment,
                "snapshot": snapshot.isoformat(),
                "policy": policy.to_dict(), "created": utcnow().isoformat(),
                "smoothing": smoothing.to_dict()}
        full_meta = self.store.write(self.build_id, ids, vectors,
                                     raw=raw if smoothing.on else None, spec=spec, index=index,
                                     staged=True, meta=meta,
                                     files=ranking_files(lexical, lexical_matrix, tags))
        self._done("index", t0)
        return Built(meta=full_meta, items=items, timings=self.timings)


def tag_idf(items_tags: list[tuple[str, ...]]) -> dict[str, float]:
    """Smoothed IDF of each tag: a tag on every article says little, a rare one a lot."""
    import math
    from collections import Counter

    counts = Counter(t for tags in items_tags for t in set(tags))
    total = len(items_tags)
    return {tag: round(math.log((1 + total) / (1 + df)) + 1.0, 4) for tag, df in counts.items()}
