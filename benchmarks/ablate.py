"""Ablation of the text signals on a labelled set: which part of the ranking earns what.

    python benchmarks/ablate.py ../shared/data/reuters [--cache DIR] [--representation chunks]

``related-reading eval`` measures the product's precomputed lists; this script isolates the
ranking's text signals (embedding, centring, smoothing, lexical blend) with the library's own
code, scoring every (query, article) pair of the set, and reports nDCG@10 per variant. The last
rows add the two product behaviours that are not about relatedness (recency, collapsing
identical texts among results), so their cost on a set can be read off. Embeddings are cached
per set in ``--cache`` (default: a directory under the system temp dir), so a second run takes
seconds. ``--representation chunks`` embeds each article as the mean of its 180-word body chunks
(each with title and dek) instead of the head the product embeds, for the comparison #6 asked for.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recommender.jobs.evaluation import _prepare, read_dataset  # noqa: E402
from recommender.jobs.ranking_metrics import ndcg_at  # noqa: E402
from recommender.ranking.formulas import recency_factor  # noqa: E402
from recommender.ranking.lexical import LexicalModel, lexical_text  # noqa: E402
from recommender.ranking.policy import RankingPolicy  # noqa: E402
from recommender.ranking.smoothing import Smoothing, smooth_catalogue  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT = RankingPolicy()
VARIANTS: tuple[tuple[str, RankingPolicy], ...] = (
    ("no smoothing, no centring, 0.3/0.7", replace(DEFAULT, smoothing=0.0, semantic_weight=0.3,
                                                   lexical_weight=0.7)),
    ("5 neighbours, plain mean, no centring, 0.3/0.7",
     replace(DEFAULT, smoothing_neighbours=5, smoothing_power=0.0, centring=False,
             semantic_weight=0.3, lexical_weight=0.7)),
    ("default without centring", replace(DEFAULT, centring=False)),
    ("default with a plain mean (power 0)", replace(DEFAULT, smoothing_power=0.0)),
    ("default with 5 neighbours", replace(DEFAULT, smoothing_neighbours=5)),
    ("default with 0.3/0.7", replace(DEFAULT, semantic_weight=0.3, lexical_weight=0.7)),
    ("default", DEFAULT),
)


def embeddings(articles: list[tuple[str, str, str]], cache: Path, representation: str
               ) -> np.ndarray:
    """Embeddings of (title, dek, body) (the product's with ``head``), cached per set."""
    if cache.is_file():
        cached: np.ndarray = np.load(cache)
        if len(cached) == len(articles):
            return cached
    from recommender.embedding.encoder import SentenceTransformerEncoder
    from recommender.embedding.representation import embed_texts

    vectors = embed_texts(SentenceTransformerEncoder(), articles, mode=representation)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def ndcg(ids: list[str], judgments: dict[str, dict[str, float]], scores: np.ndarray,
         lexical: np.ndarray, *, dates: tuple[np.ndarray, np.ndarray] | None = None,
         collapse: bool = False) -> float:
    """Mean nDCG@10 of full-catalogue rankings; optionally with the product's recency factor
    (``dates``: each article's day number and half-life) and its collapse of identical texts
    (lexical cosine >= the policy's threshold)."""
    pos = {a: i for i, a in enumerate(ids)}
    values = []
    for query, judged in judgments.items():
        i = pos[query]
        row = scores[i].astype(np.float64).copy()
        row[i] = -math.inf
        if dates is not None:
            days, half_lives = dates
            row *= recency_factor(days[i] - days, half_lives, DEFAULT.recency_weight)
        kept: list[int] = []
        for j in np.argsort(-row, kind="stable")[:60]:
            if collapse and any(lexical[j, k] >= DEFAULT.duplicate_collapse_threshold for k in kept):
                continue
            kept.append(int(j))
            if len(kept) == 10:
                break
        values.append(ndcg_at([ids[k] for k in kept], judged, 10))
    return float(np.mean(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "related-reading-ablate")
    parser.add_argument("--representation", choices=("head", "chunks"), default="head")
    args = parser.parse_args()
    records, judgments, _pairs = read_dataset(args.directory)
    items = _prepare(records)
    ids = [str(r["id"]) for r in records]
    judgments = {q: j for q, j in judgments.items() if q in set(ids)}
    suffix = "" if args.representation == "head" else f".{args.representation}"
    raw = embeddings([(a.title, a.dek, a.body) for a in items],
                     args.cache / f"{args.directory.name}{suffix}.npy", args.representation)
    texts = [lexical_text(a.title, a.dek, a.body) for a in items]
    _model, matrix = LexicalModel.fit_transform(texts)
    lexical = (matrix @ matrix.T).toarray()
    days = np.asarray([a.published_at.timestamp() / 86400 if a.published_at else np.nan
                       for a in items])
    days = np.where(np.isnan(days), np.nanmedian(days), days)
    dates = (days, np.asarray([DEFAULT.half_life_for(a.content_type) for a in items]))
    print(f"# {args.directory.name}: {len(ids)} articles, {len(judgments)} queries; nDCG@10, "
          f"every pair scored; {args.representation} embeddings")
    default_scores = None
    for label, policy in VARIANTS:
        smoothing = Smoothing.for_policy(policy, raw)
        vectors = smooth_catalogue(smoothing.prepare(raw), matrix, smoothing,
                                   exact_max=len(raw) + 1)
        semantic = vectors @ vectors.T
        total = policy.semantic_weight + policy.lexical_weight
        scores = (policy.semantic_weight * semantic + policy.lexical_weight * lexical) / total
        print(f"{label:55s} {ndcg(ids, judgments, scores, lexical):.4f}", flush=True)
        default_scores = scores
    assert default_scores is not None
    print(f"{'TF-IDF words + names alone':55s} {ndcg(ids, judgments, lexical, lexical):.4f}")
    print(f"{'default + recency':55s} "
          f"{ndcg(ids, judgments, default_scores, lexical, dates=dates):.4f}")
    print(f"{'default + collapse of identical texts':55s} "
          f"{ndcg(ids, judgments, default_scores, lexical, collapse=True):.4f}")
    print(f"{'default + both (as the product ranks)':55s} "
          f"{ndcg(ids, judgments, default_scores, lexical, dates=dates, collapse=True):.4f}")


if __name__ == "__main__":
    main()
