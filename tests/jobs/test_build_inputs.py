"""A build's inputs read in batches give exactly what reading everything at once gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import update

from recommender.embedding.cache import embed_missing, load_vectors
from recommender.jobs.build_inputs import ListSpool, texts_of, write_vectors
from recommender.ranking.space import article_texts
from recommender.settings import Settings
from recommender.storage.schema import Article
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def test_vectors_and_texts_in_batches_equal_the_whole(tmp_path: Path) -> None:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    encoder = FakeEncoder()
    with factory() as session:
        embed_missing(session, encoder)
        session.execute(update(Article).where(Article.id == 5).values(content_hash="changed"))
        session.commit()  # article 5's vector is stale now: left out, as load_vectors does
        want_ids, want = load_vectors(session, encoder.model_id)
        ids, mapped = write_vectors(session, encoder.model_id, tmp_path / "raw.npy",
                                    encoder.dimension, batch=7)
        assert 5 not in ids and len(ids) == len(want_ids) > 50
        assert np.array_equal(ids, want_ids)
        assert np.array_equal(np.asarray(mapped), want)
        assert np.array_equal(np.load(tmp_path / "raw.npy"), want)
        source = texts_of(session, ids, batch=9)
        assert list(source()) == article_texts(session, ids)
        assert list(source()) == list(source())  # every pass reads them afresh
        none, empty = write_vectors(session, "no-such-model", tmp_path / "none.npy", 8)
        assert len(none) == 0 and empty.shape == (0, 8)
        # #14: only the vectors the encoder's backend made go into the build
        other, _ = write_vectors(session, encoder.model_id, tmp_path / "onnx.npy",
                                 encoder.dimension, backend="onnx-int8")
        assert len(other) == 0
    engine.dispose()


def test_the_list_spool_gives_back_its_blocks(tmp_path: Path) -> None:
    spool = ListSpool(tmp_path / "spool")
    blocks = [[(1, 2, 1, 0.5, {"semantic": 0.4}, False)], [],
              [(3, 4, 1, 0.25, {}, True), (3, 5, 2, 0.2, {}, False)]]
    for block in blocks:
        spool.add(block)
    assert spool.rows == 3
    assert list(spool.blocks()) == blocks
