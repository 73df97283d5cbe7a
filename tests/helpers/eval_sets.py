"""Labelled sets in the ../shared/data format made from the demo magazine, for the evaluation's
tests and the ``eval`` command's: two articles are related in proportion to the tags they share,
and the tags are withheld from the text the system sees."""

from __future__ import annotations

import json
import random
from itertools import combinations
from pathlib import Path

from recommender.cli.main import DEMO_DIR
from recommender.jobs.ranking_metrics import summarise

METRICS = {"ndcg@10", "p@5", "mrr", "recall@10", "coverage", "ils"}


def demo_records(limit: int | None = None) -> list[dict[str, object]]:
    records = [json.loads(line) for path in sorted(DEMO_DIR.glob("*.jsonl"))
               for line in path.read_text().splitlines() if line.strip()]
    return records[:limit] if limit else records


def write_set(directory: Path, records: list[dict[str, object]], *, judgments: bool = True,
               pairs: bool = False) -> dict[str, dict[str, float]]:
    """A set in the ../shared/data format; gain = number of shared tags. Returns the judgments."""
    directory.mkdir(parents=True, exist_ok=True)
    tags = {str(r["id"]): set(r["tags"]) for r in records}  # type: ignore[arg-type]
    with (directory / "articles.jsonl").open("w") as fh:
        for r in records:
            fh.write(json.dumps({**r, "tags": []}) + "\n")  # withheld
    judged: dict[str, dict[str, float]] = {}
    for a, b in combinations(tags, 2):
        shared = len(tags[a] & tags[b])
        if shared:
            judged.setdefault(a, {})[b] = float(shared)
            judged.setdefault(b, {})[a] = float(shared)
    if judgments:
        lines = ["query\tdoc\tgain"] + [f"{q}\t{d}\t{g}" for q, docs in judged.items()
                                        for d, g in docs.items()]
        (directory / "judgments.tsv").write_text("\n".join(lines) + "\n")
    if pairs:
        lines = ["a\tb\tsimilarity"] + [f"{a}\t{b}\t{len(tags[a] & tags[b])}"
                                        for a, b in combinations(sorted(tags), 2)]
        (directory / "pairs.tsv").write_text("\n".join(lines) + "\n")
    return judged


def random_ndcg(ids: list[str], judged: dict[str, dict[str, float]]) -> float:
    """nDCG@10 of random lists: the chance level a system must beat."""
    rng = random.Random(7)
    rankings = {q: rng.sample([d for d in ids if d != q], 10) for q in judged}
    return summarise(rankings, judged, 10)["ndcg@10"]
