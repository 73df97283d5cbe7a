"""``RankingContext``: everything a page's ranking reads besides the page itself.

One ranking (live for an editor, or every list of a nightly build) ranks many pages against the
same search space, catalogue, curations and policy; bundling them lets ``lists.rank_page`` and
``lists.compute_all`` take (context, page, ...) and keeps the two paths fed the same inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recommender.catalog.items import Curations, ItemInfo
from recommender.ranking.policy import RankingPolicy
from recommender.ranking.space import SearchSpace


@dataclass(frozen=True)
class RankingContext:
    """What every page's ranking needs, built once per request or build."""

    space: SearchSpace  # where candidates come from (the serving build plus its delta)
    items: Mapping[int, ItemInfo]  # the catalogue's metadata, by article id
    curations: Curations  # editors' pins and blocks
    fallback: Mapping[str, Sequence[ItemInfo]]  # recent articles per section (the filler)
    policy: RankingPolicy
    k: int  # list length
    below_cut: int = 5  # candidates kept past the cut, for editors (stored lists keep none)

    @property
    def tag_idf(self) -> Mapping[str, float]:
        """The serving build's tag weights (empty without a build: every tag weighs 1)."""
        build = self.space.build
        return build.tag_idf if build is not None else {}
