"""Neighbourhood smoothing: which neighbours, what it does to a vector, build and live agree."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from scipy import sparse
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.encoder import normalize_rows
from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.smoothing import (
    CENTRE_MIN_ARTICLES,
    Pool,
    Smoothing,
    smooth_catalogue,
    smooth_rows,
)

ON = Smoothing(weight=1.0, neighbours=1, candidates=10, semantic_weight=0.3, lexical_weight=0.7)


def _vectors() -> np.ndarray:
    # a: the page; b: closest in meaning; c: a little further in meaning; d: far away
    return normalize_rows(np.asarray([[1.0, 0.0, 0.0], [0.95, 0.3, 0.0], [0.9, 0.0, 0.45],
                                      [0.0, 0.0, 1.0]], dtype=np.float32))


def _lexical(shares_with_a: int) -> sparse.csr_matrix:
    """Word rows where only a and the given row share a word."""
    rows = np.eye(4, dtype=np.float32)
    rows[shares_with_a, 0] = 1.0
    return sparse.csr_matrix(normalize_rows(rows))


def test_off_leaves_vectors_alone() -> None:
    raw = _vectors()
    out = smooth_catalogue(raw, _lexical(2), Smoothing(weight=0.0), exact_max=100)
    assert np.array_equal(out, raw)


def test_the_neighbour_is_chosen_by_the_text_score_not_meaning_alone() -> None:
    raw = _vectors()
    # c shares a's words: its blended score beats b's closer meaning, so a moves towards c
    out = smooth_catalogue(raw, _lexical(2), ON, exact_max=100)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    assert np.allclose(out[0], normalize_rows((raw[0] + raw[2])[None, :])[0], atol=1e-6)
    assert out[0] @ raw[2] > raw[0] @ raw[2]
    # with the words shared with b instead, a moves towards b
    towards_b = smooth_catalogue(raw, _lexical(1), ON, exact_max=100)
    assert np.allclose(towards_b[0], normalize_rows((raw[0] + raw[1])[None, :])[0], atol=1e-6)


def test_an_article_is_never_its_own_neighbour() -> None:
    raw = _vectors()
    twins = np.vstack([raw, raw[:1]])  # row 4 is a copy of a
    lexical = sparse.vstack([_lexical(2), _lexical(2)[:1]]).tocsr()
    out = smooth_catalogue(twins, lexical, ON, exact_max=100)
    # a's neighbour is its copy (not itself), so it keeps its direction
    assert np.allclose(out[0], raw[0], atol=1e-6)


def test_a_copy_of_the_text_is_not_a_neighbour() -> None:
    raw = _vectors()
    twins = np.vstack([raw, raw[:1]])  # row 4: the same wire filed twice
    lexical = sparse.vstack([_lexical(2), _lexical(2)[:1]]).tocsr()
    out = smooth_catalogue(twins, lexical, replace(ON, twin_threshold=0.98), exact_max=100)
    # the copy is skipped, so a moves towards c (shares its words) as if it had no twin
    assert np.allclose(out[0], normalize_rows((raw[0] + raw[2])[None, :])[0], atol=1e-6)
    assert np.allclose(out[4], out[0], atol=1e-6)
    assert Smoothing.for_policy(RankingPolicy()).twin_threshold == 0.98


def test_live_smoothing_matches_the_build() -> None:
    rng = np.random.default_rng(3)
    raw = normalize_rows(rng.normal(size=(60, 16)).astype(np.float32))
    texts = [" ".join(f"w{int(w)}" for w in rng.integers(0, 40, size=12)) for _ in range(60)]
    _model, lexical = LexicalModel.fit_transform(texts)
    smoothing = Smoothing(weight=1.0, neighbours=5, candidates=20)
    built = smooth_catalogue(raw, lexical, smoothing, exact_max=1000)
    live = smooth_rows(raw[:7], lexical[:7], [Pool(raw, lexical)], smoothing,
                       exclude=np.arange(7, dtype=np.int64))
    assert np.allclose(live, built[:7], atol=1e-5)
    # split across two pools (the build and the delta), the same result
    pools = [Pool(raw[:40], lexical[:40]), Pool(raw[40:], lexical[40:])]
    split = smooth_rows(raw[45:50], lexical[45:50], pools, smoothing,
                        exclude=np.arange(45, 50, dtype=np.int64))
    assert np.allclose(split, built[45:50], atol=1e-5)


def test_closer_neighbours_weigh_more_with_a_power() -> None:
    raw = _vectors()
    lexical = _lexical(2)
    two = Smoothing(weight=1.0, neighbours=2, candidates=10)
    plain = smooth_catalogue(raw, lexical, two, exact_max=100)
    # a's two best by the text score are c (shares its words) and b; a plain mean of both
    assert np.allclose(plain[0], normalize_rows((raw[0] + (raw[1] + raw[2]) / 2)[None, :])[0],
                       atol=1e-6)
    weighted = smooth_catalogue(raw, lexical, replace(two, power=2.0), exact_max=100)
    scores = two.blend(raw[[1, 2]] @ raw[0], (lexical[[1, 2]] @ lexical[0].T).toarray().ravel())
    share = scores ** 2 / (scores ** 2).sum()
    expected = raw[0] + share[0] * raw[1] + share[1] * raw[2]
    assert share[1] > share[0]
    assert np.allclose(weighted[0], normalize_rows(expected[None, :])[0], atol=1e-5)
    assert weighted[0] @ raw[2] > plain[0] @ raw[2]


def test_centring_removes_the_catalogue_mean() -> None:
    rng = np.random.default_rng(5)
    common = np.ones(8, dtype=np.float32)
    vectors = normalize_rows(rng.normal(size=(60, 8)).astype(np.float32) * 0.3 + common)
    smoothing = Smoothing.for_policy(RankingPolicy(), vectors)
    assert np.allclose(smoothing.centre, vectors.mean(axis=0), atol=1e-6)
    prepared = smoothing.prepare(vectors)
    assert np.allclose(np.linalg.norm(prepared, axis=1), 1.0, atol=1e-5)
    # the shared "news" direction made every pair look alike; centred, they spread around 0
    assert (vectors @ vectors.T).mean() > 0.8
    assert abs((prepared @ prepared.T)[np.triu_indices(60, 1)].mean()) < 0.1
    # off by policy, with smoothing off, or on a catalogue too small to have a "typical"
    # article: vectors pass through untouched
    for policy, catalogue in ((RankingPolicy(centring=False), vectors),
                              (RankingPolicy(smoothing=0.0), vectors),
                              (RankingPolicy(), vectors[:CENTRE_MIN_ARTICLES - 1])):
        plain = Smoothing.for_policy(policy, catalogue)
        assert plain.centre == () and np.array_equal(plain.prepare(vectors), vectors)


def test_a_build_written_before_weights_and_centring_loads_as_it_was_built() -> None:
    old = Smoothing.from_dict({"weight": 1.0, "neighbours": 5, "candidates": 50,
                               "semantic_weight": 0.3, "lexical_weight": 0.7})
    assert old.power == 0.0 and old.centre == () and old.twin_threshold > 1.0
    new = Smoothing.for_policy(RankingPolicy(), _vectors())
    assert Smoothing.from_dict(json.loads(json.dumps(new.to_dict()))) == new


def test_build_indexes_smoothed_vectors_and_keeps_the_raw_ones(
        demo: tuple[Recommender, sessionmaker[Session]]) -> None:
    rec, factory = demo
    full_build(rec)
    build = rec.builds.get()
    assert build is not None and build.raw is not None
    assert build.meta["smoothing"]["weight"] == 1.0 and build.smoothing.on
    assert len(build.smoothing.centre) == build.vectors.shape[1]  # centred on this catalogue
    raw, indexed = np.asarray(build.raw), np.asarray(build.vectors)
    assert raw.shape == indexed.shape
    assert not np.allclose(raw, indexed)
    assert np.allclose(np.linalg.norm(indexed, axis=1), 1.0, atol=1e-5)
    # the space's live smoothing of a stored article gives the vector the build indexed
    with factory() as session:
        space = rec._space(session)
        pos = 5
        again = smooth_rows(raw[pos:pos + 1], build.lexical_matrix[pos], [Pool(raw, build.lexical_matrix)],
                            build.smoothing, exclude=np.asarray([pos]))
        assert np.allclose(again[0], space.vector(int(build.ids[pos])), atol=1e-5)
