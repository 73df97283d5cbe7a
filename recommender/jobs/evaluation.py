"""``related-reading eval DIR``: the whole pipeline on a labelled set, beside a TF-IDF baseline.

The set is imported into a temporary database and built exactly as the site builds (same
policy, same precomputed lists), so the figures describe the lists readers get, less two parts
of the policy that are not about relatedness and are off unless ``as_served``: recency (a labelled
set's dates say nothing about which articles are related, yet recency reorders by them) and the
fallback filler (recent same-section articles, which could only add chance hits). The policy used
is returned and printed with the figures.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.catalog.articles import InvalidArticle, parse_article
from recommender.catalog.importing import read_records
from recommender.catalog.storing import upsert_articles
from recommender.embedding.backends import backend_of
from recommender.embedding.cache import load_vectors
from recommender.embedding.encoder import Encoder
from recommender.jobs.build import full_build
from recommender.jobs.engine import BuildEngine
from recommender.jobs.ranking_metrics import correlations, coverage, summarise
from recommender.live.recommender import Recommender
from recommender.ranking.build_data import RankingBuild
from recommender.ranking.policy import RankingPolicy
from recommender.settings import Settings
from recommender.storage import migrations
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import Article, RelatedItem

RECOMMENDED_CAP = 0.01  # #16: the exposure cap the eval prices when the site sets none


class DatasetError(ValueError):
    """The directory is not in the evaluation format (see README)."""


def read_dataset(directory: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]],
                                           list[tuple[str, str, float]]]:
    """(articles, judgments {query: {doc: gain}}, rated pairs) of one set."""
    articles_file = directory / "articles.jsonl"
    if not articles_file.is_file():
        raise DatasetError(f"{directory}: no articles.jsonl")
    records: list[dict[str, Any]] = []
    # the importer's reader: lines end at "\n" only (``str.splitlines`` would also split text
    # at U+2028/U+2029, which CMS exports carry inside strings), bytes decoded as UTF-8
    for line, record in read_records(articles_file, "jsonl"):
        if isinstance(record, InvalidArticle):
            raise DatasetError(f"{articles_file}:{line}: {record}")
        if not isinstance(record, dict) or record.get("id") in (None, ""):
            raise DatasetError(f"{articles_file}:{line}: expected an object with an id")
        records.append(record)
    judgments: dict[str, dict[str, float]] = defaultdict(dict)
    if (directory / "judgments.tsv").is_file():
        with (directory / "judgments.tsv").open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                judgments[row["query"]][row["doc"]] = float(row["gain"])
    pairs: list[tuple[str, str, float]] = []
    if (directory / "pairs.tsv").is_file():
        with (directory / "pairs.tsv").open() as fh:
            pairs = [(r["a"], r["b"], float(r["similarity"]))
                     for r in csv.DictReader(fh, delimiter="\t")]
    if not judgments and not pairs:
        raise DatasetError(f"{directory}: neither judgments.tsv nor pairs.tsv")
    return records, dict(judgments), pairs


def _prepare(records: list[dict[str, Any]]) -> list[Any]:
    """Parse records for import; sets without URLs get stable synthetic ones.

    An undated article would otherwise be dated at import time (today), decades away from its
    dated neighbours, and recency would penalise it for the loader's choice; undated articles
    get the set's median date instead, so recency neither helps nor hurts them.
    """
    dates = sorted(str(r["published_at"]) for r in records if r.get("published_at"))
    median = dates[len(dates) // 2] if dates else None
    items, seen_urls = [], set()
    for rec in records:
        rec = dict(rec)
        rec["published_at"] = rec.get("published_at") or median
        rec["id"] = str(rec["id"])
        if not rec.get("url") or rec["url"] in seen_urls:
            rec["url"] = f"https://eval.invalid/{rec['id']}"
        rec["status"] = "published"
        try:
            item = parse_article(rec)
        except InvalidArticle:
            rec["published_at"] = None
            item = parse_article(rec)
        if item.url in seen_urls:
            item = replace(item, url=f"https://eval.invalid/{rec['id']}")
        seen_urls.add(item.url)
        items.append(item)
    return items


def tfidf_matrix(records: list[dict[str, Any]]) -> Any:
    """The keyword baseline sites use today: TF-IDF (sublinear tf, English stop words, min_df 2)
    over title + body, one L2-normalised row per record."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2).fit_transform(
        [f"{r.get('title') or ''}\n{r.get('body') or ''}" for r in records])


def tfidf_rankings(records: list[dict[str, Any]], queries: list[str], k: int
                   ) -> dict[str, list[str]]:
    """The baseline's ranking: TF-IDF cosine with every other record."""
    ids = [str(r["id"]) for r in records]
    matrix = tfidf_matrix(records)
    position = {a: i for i, a in enumerate(ids)}
    out: dict[str, list[str]] = {}
    for q in queries:
        if q not in position:
            continue
        sims = (matrix @ matrix[position[q]].T).toarray().ravel()
        sims[position[q]] = -1.0
        out[q] = [ids[i] for i in np.argsort(-sims, kind="stable")[:k]]
    return out


def relatedness_policy(policy: RankingPolicy) -> RankingPolicy:
    """The site's policy without the two stages that do not measure relatedness: recency and
    the fallback filler (see the module docstring)."""
    return replace(policy, recency_weight=0.0, fallback=False)


def evaluate(directory: Path, encoder: Encoder, settings: Settings, *, k: int = 10,
             work_dir: Path | None = None, as_served: bool = False,
             build_engine: BuildEngine | None = None) -> dict[str, Any]:
    """Run the site's pipeline on one set and return the metrics beside the baseline's
    (``build_engine``: where the build's embedding and lists run; the figures must not depend on it)."""
    records, judgments, pairs = read_dataset(directory)
    policy = settings.ranking if as_served else relatedness_policy(settings.ranking)
    with tempfile.TemporaryDirectory(prefix="rr-eval-") as tmp:
        root = work_dir or Path(tmp)
        eval_settings = replace(settings, data_dir=root, database_url=f"sqlite:///{root}/eval.db",
                                related_k=max(k, settings.related_k), ranking=policy)
        migrations.upgrade(eval_settings.database_url)
        engine = make_engine(eval_settings.database_url)
        factory = make_session_factory(engine)
        try:
            with factory() as session:
                upsert_articles(session, _prepare(records))
                session.commit()
            rec = Recommender(eval_settings, factory, encoder=encoder)
            build = full_build(rec, engine=build_engine)
            with factory() as session:
                ext = {int(i): e for i, e in session.execute(select(Article.id, Article.external_id))}
                lists = _stored_lists(session, ext)
                ids, vectors = load_vectors(session, encoder.model_id, backend=backend_of(encoder))
            vector_of = {ext[int(a)]: vectors[i] for i, a in enumerate(ids)}
            result: dict[str, Any] = {"dataset": directory.name, "queries": len(judgments),
                                      "articles": len(records),
                                      "mode": "as served" if as_served else "relatedness",
                                      "policy": policy.to_dict(),
                                      "build_seconds": build.seconds}
            if judgments:
                baseline = tfidf_rankings(records, list(judgments), k)
                metrics = summarise(lists, judgments, k)
                metrics["coverage"] = coverage(lists, len(records), k)
                metrics["ils"] = _intra_list_similarity(lists, vector_of, k)
                base = summarise(baseline, judgments, k)
                base["coverage"] = coverage(baseline, len(records), k)
                base["ils"] = _intra_list_similarity(baseline, vector_of, k)
                result["metrics"], result["baseline"] = metrics, {"tfidf": base}
                result["exposure"] = _cap_cost(rec, eval_settings, judgments, k, metrics)
            if pairs:
                serving = rec.builds.get()
                internal = {e: i for i, e in ext.items()}
                result.setdefault("metrics", {}).update(_pair_scores(
                    pairs, _system_similarity(serving, internal, policy)))
                result.setdefault("baseline", {}).setdefault("tfidf", {}).update(_pair_scores(
                    pairs, _tfidf_similarity(records)))
            return result
        finally:
            engine.dispose()


def _stored_lists(session: Session, ext: dict[int, str]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = defaultdict(list)
    for row in session.scalars(select(RelatedItem).order_by(RelatedItem.article_id,
                                                            RelatedItem.position)):
        lists[ext[row.article_id]].append(ext[row.target_id])
    return lists


def _cap_cost(rec: Recommender, settings: Settings, judgments: dict[str, dict[str, float]],
              k: int, uncapped: dict[str, float]) -> dict[str, Any]:
    """nDCG@k with the exposure cap (the site's, else the recommended 1%) beside it off.

    A second build over the same embeddings (only the index and the lists are redone), so the
    cost is measured on the very lists readers would get, slots moved and all.
    """
    cap = settings.exposure_cap or RECOMMENDED_CAP
    capped_rec = Recommender(replace(settings, exposure_cap=cap), rec.session_factory,
                             encoder=rec.encoder)
    report = full_build(capped_rec)
    with rec.session_factory() as session:
        ext = {int(i): e for i, e in session.execute(select(Article.id, Article.external_id))}
        capped = summarise(_stored_lists(session, ext), judgments, k)
    key = f"ndcg@{k}"
    return {**report.exposure, key: capped[key], f"{key}_uncapped": uncapped[key],
            f"{key}_cost": round(uncapped[key] - capped[key], 4)}


def _intra_list_similarity(lists: dict[str, list[str]], vectors: dict[str, np.ndarray],
                           k: int) -> float:
    values = []
    for ranked in lists.values():
        vecs = [vectors[d] for d in ranked[:k] if d in vectors]
        if len(vecs) >= 2:
            m = np.asarray(vecs) @ np.asarray(vecs).T
            values.append(float((m.sum() - np.trace(m)) / (len(vecs) * (len(vecs) - 1))))
    return round(float(np.mean(values)), 4) if values else 0.0


Similarity = Callable[[str, str], "float | None"]


def _system_similarity(build: RankingBuild | None, internal: dict[str, int],
                       policy: RankingPolicy) -> Similarity:
    """The similarity the site ranks with: the build's (centred, smoothed) vectors and lexical
    rows, blended by the policy's weights. Scoring rated pairs with the raw embeddings instead
    measured lower (pairs drawn from ecbplus' graded judgments: Pearson 0.897 vs 0.918)."""
    total = policy.semantic_weight + policy.lexical_weight

    def score(a: str, b: str) -> float | None:
        if build is None:
            return None
        pa = build.positions.get(internal.get(a, -1))
        pb = build.positions.get(internal.get(b, -1))
        if pa is None or pb is None:
            return None
        semantic = float(np.dot(build.vectors[pa], build.vectors[pb]))
        lexical = float(build.lexical_matrix[pa].multiply(build.lexical_matrix[pb]).sum())
        return (policy.semantic_weight * semantic + policy.lexical_weight * lexical) / total
    return score


def _tfidf_similarity(records: list[dict[str, Any]]) -> Similarity:
    matrix = tfidf_matrix(records)
    position = {str(r["id"]): i for i, r in enumerate(records)}

    def score(a: str, b: str) -> float | None:
        if a not in position or b not in position:
            return None
        return float(matrix[position[a]].multiply(matrix[position[b]]).sum())
    return score


def _pair_scores(pairs: list[tuple[str, str, float]], similarity: Similarity
                 ) -> dict[str, float]:
    """Pearson and Spearman correlation of a similarity with the human ratings (pairs with an
    unknown article are skipped)."""
    system, human = [], []
    for a, b, rating in pairs:
        value = similarity(a, b)
        if value is not None:
            system.append(value)
            human.append(rating)
    return correlations(system, human)
