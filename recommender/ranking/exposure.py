"""The exposure cap: no one article may take more than a set share of all list slots.

Ranking alone lets a few broadly-related articles (explainers, hubs) into hundreds of lists; the
cap spreads the box's attention across the catalogue. It is applied to the whole build after
ranking: an article over its limit loses its weakest placements (lowest score first), and in each
the page's next-best eligible candidate (from below the cut, not already in the list, itself under
the limit) takes the slot, at the same position. Pins never move and always count. When a page
has no eligible replacement the item stays (the list is not shortened) and is reported unfilled.

The limit is ``ceil(cap x slots)``, but never below twice an article's fair share
(``2 x slots / articles listed``): on a catalogue smaller than ``1 / cap`` articles a literal cap
could not be met by anyone, and would only empty the lists' best places.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Row = dict[str, Any]
FAIR_SHARE_FLOOR = 2.0


@dataclass(frozen=True)
class ExposureReport:
    cap: float
    limit: int  # slots one article may take
    slots: int
    moved: int  # slots given to the next-best item
    unfilled: int  # over-limit placements left in place: no eligible replacement
    top_before: int  # the most slots any one article had before / after
    top_after: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def exposure_limit(cap: float, slots: int, targets: int) -> int:
    """How many slots one article may take (see the module docstring for the floor)."""
    fair = FAIR_SHARE_FLOOR * slots / max(1, targets)
    return max(1, math.ceil(cap * slots), math.ceil(fair))


def enforce_cap(rows: Sequence[Row], spares: Mapping[int, Sequence[Row]],
                pinned: set[tuple[int, int]], cap: float, listed: int) -> tuple[list[Row], ExposureReport]:
    """The build's rows with the cap applied (new dicts; the input is left alone).

    ``spares`` are each page's next candidates below the cut, best first (rows like ``rows``'s);
    ``pinned`` the (page, target) pairs editors pinned; ``listed`` how many articles could be
    listed (the live catalogue), for the fair-share floor.
    """
    out = [dict(r) for r in rows]
    counts = Counter(r["target_id"] for r in out)
    top_before = max(counts.values(), default=0)
    limit = exposure_limit(cap, len(out), listed)
    if cap <= 0 or top_before <= limit:
        return out, ExposureReport(cap, limit, len(out), 0, 0, top_before, top_before)
    on_page: dict[int, set[int]] = defaultdict(set)
    for row in out:
        on_page[row["article_id"]].add(row["target_id"])
    # Every over-limit article's movable placements, weakest first, across the whole build.
    excess = {t: c - limit for t, c in counts.items() if c > limit}
    movable = sorted((r for r in out if r["target_id"] in excess
                      and (r["article_id"], r["target_id"]) not in pinned),
                     key=lambda r: (r["score"], -r["position"]))
    moved = unfilled = 0
    for row in movable:
        target, page = row["target_id"], row["article_id"]
        if excess.get(target, 0) <= 0:
            continue
        spare = next((s for s in spares.get(page, ()) if s["target_id"] not in on_page[page]
                      and counts[s["target_id"]] < limit), None)
        if spare is None:
            unfilled += 1
            continue
        excess[target] -= 1
        counts[target] -= 1
        counts[spare["target_id"]] += 1
        on_page[page].discard(target)
        on_page[page].add(spare["target_id"])
        row.update(target_id=spare["target_id"], score=spare["score"],
                   signals=spare["signals"], fallback=spare["fallback"])
        moved += 1
    unfilled = sum(max(0, c - limit) for c in counts.values())
    return out, ExposureReport(cap, limit, len(out), moved, unfilled, top_before,
                               max(counts.values(), default=0))
