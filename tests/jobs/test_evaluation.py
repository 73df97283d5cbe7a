"""The evaluation (``jobs.evaluation``): the dataset format and whole runs beside TF-IDF.

The labelled sets here are made from our own demo magazine: two articles are related in
proportion to the tags they share, and the tags are withheld from the text the system sees (as
../shared/data does), so a score measures what the text says.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from recommender.jobs.evaluation import DatasetError, evaluate, read_dataset, relatedness_policy
from recommender.settings import Settings
from tests.helpers.eval_sets import METRICS
from tests.helpers.eval_sets import demo_records as _demo_records
from tests.helpers.eval_sets import random_ndcg as _random_ndcg
from tests.helpers.eval_sets import write_set as _write_set
from tests.helpers.fakes import FakeEncoder

# -- the dataset format ------------------------------------------------------------------

def test_a_directory_without_articles_or_labels_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no articles\.jsonl"):
        read_dataset(tmp_path)
    _write_set(tmp_path, _demo_records(5), judgments=False)
    with pytest.raises(DatasetError, match=r"neither judgments\.tsv nor pairs\.tsv"):
        read_dataset(tmp_path)


def test_articles_are_read_as_the_importer_reads_them(tmp_path: Path) -> None:
    """Lines end at "\\n" only: U+2028 and U+2029 inside a text (CMS exports carry them) are
    text, not line ends; an unreadable line is refused with its file and line."""
    records = _demo_records(12)
    records[3] = {**records[3], "title": "Line\u2028separated", "body": "One\u2029two\x85three"}
    _write_set(tmp_path / "odd", records)
    with (tmp_path / "odd" / "articles.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    assert "\u2028" in (tmp_path / "odd" / "articles.jsonl").read_text(encoding="utf-8")
    articles, _, _ = read_dataset(tmp_path / "odd")
    assert [a["id"] for a in articles] == [r["id"] for r in records]
    assert articles[3]["body"] == "One\u2029two\x85three"
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data")})
    assert evaluate(tmp_path / "odd", FakeEncoder(), settings)["articles"] == 12
    with (tmp_path / "odd" / "articles.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "x", \n[1]\n')
    with pytest.raises(DatasetError, match=r"articles\.jsonl:13: not valid JSON"):
        read_dataset(tmp_path / "odd")


# -- whole runs --------------------------------------------------------------------------

def test_a_run_reports_every_metric_beside_the_baseline(tmp_path: Path) -> None:
    records = _demo_records()
    judged = _write_set(tmp_path / "demo-tags", records)
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data")})
    result = evaluate(tmp_path / "demo-tags", FakeEncoder(), settings)
    assert result["dataset"] == "demo-tags"
    assert result["queries"] == len(judged) and result["articles"] == len(records)
    # it says which policy it used: the site's, without recency and the fallback filler
    assert result["mode"] == "relatedness"
    assert result["policy"] == relatedness_policy(settings.ranking).to_dict()
    assert result["policy"]["recency_weight"] == 0.0 and result["policy"]["fallback"] is False
    assert set(result["metrics"]) == METRICS == set(result["baseline"]["tfidf"])
    for metrics in (result["metrics"], result["baseline"]["tfidf"]):
        assert all(0.0 <= value <= 1.0 for value in metrics.values())
    # both rank by what the text says far better than chance
    chance = _random_ndcg([str(r["id"]) for r in records], judged)
    assert result["metrics"]["ndcg@10"] > chance + 0.2
    assert result["baseline"]["tfidf"]["ndcg@10"] > chance + 0.2
    # the exposure cap's price: the recommended 1% cap, built on the same embeddings
    exposure = result["exposure"]
    assert exposure["cap"] == 0.01 and exposure["ndcg@10_uncapped"] == result["metrics"]["ndcg@10"]
    assert exposure["ndcg@10_cost"] == round(exposure["ndcg@10_uncapped"] - exposure["ndcg@10"], 4)
    assert exposure["top_after"] <= max(exposure["limit"], exposure["top_before"])


def _redated(records: list[dict[str, object]], seed: int) -> list[dict[str, object]]:
    """The same articles, each published on a random day over three years."""
    rng = random.Random(seed)
    return [{**r, "published_at": f"{2023 + rng.randrange(3)}-{1 + rng.randrange(12):02d}-"
                                  f"{1 + rng.randrange(28):02d}T08:00:00Z"} for r in records]


def test_dates_do_not_move_the_figures_unless_asked_to(tmp_path: Path) -> None:
    """Recency reorders by date, which says nothing about relatedness: the default run is
    blind to it; ``as_served`` ranks as readers get it, so re-dating the set changes it."""
    records = _demo_records(200)
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data")})
    runs: dict[tuple[int, bool], dict[str, float]] = {}
    for seed in (1, 2):
        _write_set(tmp_path / f"dated-{seed}", _redated(records, seed))
        for as_served in (False, True):
            result = evaluate(tmp_path / f"dated-{seed}", FakeEncoder(), settings,
                              as_served=as_served)
            assert result["mode"] == ("as served" if as_served else "relatedness")
            runs[seed, as_served] = result["metrics"]
    assert runs[1, False] == runs[2, False]
    assert runs[1, True] != runs[2, True]
    assert result["policy"] == settings.ranking.to_dict()  # as served: the site's own


def test_fallback_fillers_are_not_scored(tmp_path: Path) -> None:
    """With a quality floor most candidates miss, readers get same-section fillers; the
    evaluation scores only what the ranking chose."""
    _write_set(tmp_path / "floor", _demo_records(120))
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data"),
                                  "RELATED_RANKING_QUALITY_FLOOR": "0.6"})
    for as_served, work in ((True, tmp_path / "served"), (False, tmp_path / "relatedness")):
        evaluate(tmp_path / "floor", FakeEncoder(), settings, work_dir=work, as_served=as_served)
    fillers = {}
    for name in ("served", "relatedness"):
        with sqlite3.connect(tmp_path / name / "eval.db") as db:
            fillers[name] = db.execute("SELECT count(*) FROM related WHERE fallback").fetchone()[0]
    assert fillers["served"] > 0 and fillers["relatedness"] == 0


def test_a_pair_rated_set_reports_correlations(tmp_path: Path) -> None:
    _write_set(tmp_path / "pairs", _demo_records(40), judgments=False, pairs=True)
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path / "data")})
    result = evaluate(tmp_path / "pairs", FakeEncoder(), settings)
    system, baseline = result["metrics"], result["baseline"]["tfidf"]
    assert set(system) == {"pearson", "spearman"} == set(baseline)
    # articles sharing more tags are scored more alike, by the system and by the baseline
    assert system["pearson"] > 0.3 and system["spearman"] > 0.2
    assert baseline["pearson"] > 0.2
