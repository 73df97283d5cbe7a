"""The middle of a build, mapped and with one index, writes what the in-memory path computed."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.cache import embed_missing, load_vectors
from recommender.index.builds import IndexStore
from recommender.jobs.build_steps import BuildSteps, tag_idf
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.smoothing import Smoothing, smooth_catalogue
from recommender.ranking.space import article_texts
from recommender.settings import Settings
from recommender.storage.schema import utcnow
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


@pytest.mark.parametrize("exact_max", [100_000, 0], ids=["flat", "hnsw"])
def test_mapped_build_equals_the_in_memory_computation(tmp_path: Path, exact_max: int,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    settings = dataclasses.replace(Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)}),
                                   exact_index_max=exact_max)
    engine, factory = load_demo(settings)
    encoder, policy, store = FakeEncoder(), RankingPolicy(), IndexStore(settings.index_dir)
    seen: dict[str, int] = {}

    def progress(stage: str, total: int):  # type: ignore[no-untyped-def]
        seen[stage] = 0

        def update(n: int) -> None:
            seen[stage] += n

        return update

    with factory() as session, caplog.at_level(logging.INFO, "related_reading.build"):
        embed_missing(session, encoder)
        built = BuildSteps(session, settings, store, "b1", progress).index_and_smooth(
            encoder, policy, utcnow())
        ids, raw = load_vectors(session, encoder.model_id)
        _, lexical = LexicalModel.fit_transform(article_texts(session, ids))
    smoothing = Smoothing.for_policy(policy, raw)
    centred = smoothing.prepare(raw)
    want = smooth_catalogue(centred, lexical, smoothing, exact_max=exact_max)
    build = RankingBuild.load(store, "b1", verify=True)
    assert np.array_equal(build.ids, ids)
    assert np.array_equal(np.asarray(build.raw), centred)
    assert built.meta["index_kind"] == ("flat" if exact_max else "hnsw")
    assert (built.meta["backend"], built.meta["experiment"]) == ("torch", None)
    if exact_max:  # exact neighbours: the very same vectors
        assert np.array_equal(np.asarray(build.vectors), want)
    else:  # one HNSW graph for both searches: near-identical vectors
        assert np.mean(np.sum(np.asarray(build.vectors) * want, axis=1)) > 0.99
    assert (build.lexical_matrix != lexical).nnz == 0
    assert build.tag_idf == tag_idf([built.items[int(a)].tags for a in ids])
    assert seen["smoothing"] == len(ids) and seen["index (smoothed)"] == len(ids)
    assert not list(store.builds.glob(".tmp-*"))  # staging became the build
    assert "peak RSS" in caplog.text and set(built.timings) == {"index", "smooth"}
    engine.dispose()
