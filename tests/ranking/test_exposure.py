"""The exposure cap: over-limit articles give their weakest slots to the next-best item, pins
stay; on the demo magazine the cap holds and moves no pin."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recommender.jobs.build import full_build
from recommender.live.recommender import Recommender
from recommender.ranking.exposure import enforce_cap, exposure_limit
from recommender.settings import Settings
from recommender.storage.schema import Article, Curation, RelatedItem
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def _row(page: int, target: int, position: int, score: float) -> dict[str, Any]:
    return {"article_id": page, "target_id": target, "position": position, "score": score,
            "signals": {"text": score}, "fallback": False}


def test_the_weakest_placements_move_to_the_next_best() -> None:
    # Article 99 is first on all four pages; the limit (fair-share floor) is 2 slots of 8.
    rows = [r for p in range(1, 5) for r in (_row(p, 99, 1, 0.5 + p / 100), _row(p, 10 + p, 2, 0.4))]
    spares = {p: [_row(p, 99, 3, 0.3), _row(p, 20 + p, 3, 0.2)] for p in range(1, 5)}
    capped, report = enforce_cap(rows, spares, pinned={(1, 99)}, cap=0.01, listed=8)
    assert report.limit == exposure_limit(0.01, 8, 8) == 2
    assert (report.moved, report.unfilled, report.top_before, report.top_after) == (2, 0, 4, 2)
    by_page = {(r["article_id"], r["position"]): r["target_id"] for r in capped}
    assert by_page[(1, 1)] == 99  # pinned: never moves
    assert by_page[(4, 1)] == 99  # the strongest unpinned placement stays
    assert by_page[(2, 1)] == 22 and by_page[(3, 1)] == 23  # the weakest two moved, same slot
    assert rows[2]["target_id"] == 99  # the input is left alone


def test_no_replacement_leaves_the_item_and_says_so() -> None:
    rows = [_row(p, 99, 1, 0.5) for p in range(1, 5)]
    capped, report = enforce_cap(rows, {}, pinned=set(), cap=0.01, listed=4)
    assert [r["target_id"] for r in capped] == [99] * 4
    assert (report.limit, report.moved, report.unfilled) == (2, 0, 2)
    off, untouched = enforce_cap(rows, {}, pinned=set(), cap=0.0, listed=4)
    assert off == rows and untouched.moved == 0


def test_the_cap_holds_on_the_demo_and_moves_no_pin(tmp_path: Path) -> None:
    settings = replace(Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)}), exposure_cap=0.01)
    engine, factory = load_demo(settings)
    with factory() as session:
        ids = {a.external_id: a.id for a in session.scalars(select(Article))}
        pins = [(ids[f"demo-0{n:02d}"], ids["demo-070"], 1) for n in range(1, 40)]
        session.add_all([Curation(kind="pin", article_id=page, target_id=target, position=pos,
                                  created_by="t") for page, target, pos in pins])
        session.commit()
    report = full_build(Recommender(settings, factory, encoder=FakeEncoder()))
    exposure = report.exposure
    assert exposure["moved"] > 0 and exposure["top_after"] < exposure["top_before"]
    with factory() as session:
        rows = session.execute(select(RelatedItem.article_id, RelatedItem.target_id,
                                      RelatedItem.position)).all()
    counts = Counter(target for _, target, _ in rows)
    pinned_target = ids["demo-070"]
    assert all(c <= exposure["limit"] for t, c in counts.items() if t != pinned_target)
    placed = {(page, target, pos) for page, target, pos in rows}
    assert all(pin in placed for pin in pins)  # 39 pins of one article: over the limit, kept
    assert exposure["unfilled"] == counts[pinned_target] - exposure["limit"]
    engine.dispose()
