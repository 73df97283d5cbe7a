"""``related-reading eval DIR``: the whole pipeline on a labelled set, beside a TF-IDF baseline.

The set is imported into a temporary database and built exactly as the site builds (same
policy, same precomputed lists), so the figures describe what readers would get. The policy used
is printed with the figures.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from recommender import migrate
from recommender.articles import InvalidArticle, parse_article, upsert_articles
from recommender.db import make_engine, make_session_factory
from recommender.embeddings import load_vectors
from recommender.encoder import Encoder
from recommender.lexical import LexicalModel, lexical_text
from recommender.metrics import correlations, coverage, summarise
from recommender.models import Article, RelatedItem
from recommender.service import Recommender
from recommender.settings import Settings


class DatasetError(ValueError):
    """The directory is not in the evaluation format (see README)."""


def read_dataset(directory: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]],
                                           list[tuple[str, str, float]]]:
    """(articles, judgments {query: {doc: gain}}, rated pairs) of one set."""
    articles_file = directory / "articles.jsonl"
    if not articles_file.is_file():
        raise DatasetError(f"{directory}: no articles.jsonl")
    records = [json.loads(line) for line in articles_file.read_text().splitlines() if line.strip()]
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


def tfidf_rankings(records: list[dict[str, Any]], queries: list[str], k: int
                   ) -> dict[str, list[str]]:
    """The keyword baseline sites use today: TF-IDF cosine over title + body."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = [str(r["id"]) for r in records]
    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2).fit_transform(
        [f"{r.get('title') or ''}\n{r.get('body') or ''}" for r in records])
    position = {a: i for i, a in enumerate(ids)}
    out: dict[str, list[str]] = {}
    for q in queries:
        if q not in position:
            continue
        sims = (matrix @ matrix[position[q]].T).toarray().ravel()
        sims[position[q]] = -1.0
        out[q] = [ids[i] for i in np.argsort(-sims, kind="stable")[:k]]
    return out


def evaluate(directory: Path, encoder: Encoder, settings: Settings, *, k: int = 10,
             work_dir: Path | None = None) -> dict[str, Any]:
    """Run the site's pipeline on one set and return the metrics beside the baseline's."""
    records, judgments, pairs = read_dataset(directory)
    with tempfile.TemporaryDirectory(prefix="rr-eval-") as tmp:
        root = work_dir or Path(tmp)
        eval_settings = replace(settings, data_dir=root, database_url=f"sqlite:///{root}/eval.db",
                                related_k=max(k, settings.related_k))
        migrate.upgrade(eval_settings.database_url)
        engine = make_engine(eval_settings.database_url)
        factory = make_session_factory(engine)
        try:
            with factory() as session:
                upsert_articles(session, _prepare(records))
                session.commit()
            rec = Recommender(eval_settings, factory, encoder=encoder)
            build = rec.reindex()
            with factory() as session:
                ext = dict(session.execute(select(Article.id, Article.external_id)).tuples().all())
                lists: dict[str, list[str]] = defaultdict(list)
                for row in session.scalars(select(RelatedItem).order_by(RelatedItem.article_id,
                                                                        RelatedItem.position)):
                    lists[ext[row.article_id]].append(ext[row.target_id])
                ids, vectors = load_vectors(session, encoder.model_id)
            vector_of = {ext[int(a)]: vectors[i] for i, a in enumerate(ids)}
            result: dict[str, Any] = {"dataset": directory.name, "queries": len(judgments),
                                      "articles": len(records),
                                      "policy": settings.ranking.to_dict(),
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
            if pairs:
                result.setdefault("metrics", {}).update(
                    _pair_scores(records, pairs, vector_of, settings, baseline=False))
                result.setdefault("baseline", {}).setdefault("tfidf", {}).update(
                    _pair_scores(records, pairs, vector_of, settings, baseline=True))
            return result
        finally:
            engine.dispose()


def _intra_list_similarity(lists: dict[str, list[str]], vectors: dict[str, np.ndarray],
                           k: int) -> float:
    values = []
    for ranked in lists.values():
        vecs = [vectors[d] for d in ranked[:k] if d in vectors]
        if len(vecs) >= 2:
            m = np.asarray(vecs) @ np.asarray(vecs).T
            values.append(float((m.sum() - np.trace(m)) / (len(vecs) * (len(vecs) - 1))))
    return round(float(np.mean(values)), 4) if values else 0.0


def _pair_scores(records: list[dict[str, Any]], pairs: list[tuple[str, str, float]],
                 vectors: dict[str, np.ndarray], settings: Settings, *, baseline: bool
                 ) -> dict[str, float]:
    texts = {str(r["id"]): lexical_text(r.get("title") or "", r.get("dek") or "",
                                        r.get("body") or "") for r in records}
    ids = list(texts)
    lexical = LexicalModel.fit([texts[i] for i in ids])
    matrix = lexical.transform([texts[i] for i in ids])
    pos = {a: i for i, a in enumerate(ids)}
    policy = settings.ranking
    system, human = [], []
    for a, b, rating in pairs:
        if a not in pos or b not in pos:
            continue
        lex = float((matrix[pos[a]] @ matrix[pos[b]].T).toarray()[0, 0])
        if baseline:
            score = lex
        else:
            sem = float(vectors[a] @ vectors[b]) if a in vectors and b in vectors else 0.0
            score = (policy.semantic_weight * sem + policy.lexical_weight * lex) / (
                policy.semantic_weight + policy.lexical_weight)
        system.append(score)
        human.append(rating)
    return correlations(system, human)
