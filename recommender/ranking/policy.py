"""The ranking policy: every weight the ranker uses, in one frozen, validated object.

Editors preview changes to it and the nightly build records which one it used, so it is plain
data (no behaviour) that round-trips through a dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DEFAULT_HALF_LIVES: dict[str, float] = {
    "news": 45.0,
    "opinion": 180.0,
    "analysis": 730.0,
    "review": 1095.0,
    "evergreen": 0.0,  # 0 = never decays
}


@dataclass(frozen=True)
class RankingPolicy:
    """Weights of the hybrid ranker; defaults were chosen by measurement on ../shared/data."""

    # with centred, smoothed embeddings, 0.5/0.5 beat 0.3/0.7 and 0.4/0.6 on all three sets
    # (benchmarks/ablate.py; README, "Evaluation")
    semantic_weight: float = 0.5
    lexical_weight: float = 0.5
    tag_weight: float = 0.10
    author_weight: float = 0.03
    # semantic top-50 ranked as well as top-100 or the whole set (within 0.001 nDCG@10 on all
    # three sets) at half the cost per page
    candidates: int = 50
    recency_weight: float = 0.3
    half_life_days: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HALF_LIVES))
    default_half_life_days: float = 365.0
    # 1.0 = MMR off: every lambda < 1 measured lowered nDCG@10 on all three sets (0.9: -0.006 to
    # -0.019); duplicate stories are still collapsed. Editors can raise it per policy preview.
    mmr_lambda: float = 1.0
    # TF-IDF cosine at which a candidate is the page's own text, lightly edited (an update)
    near_duplicate_threshold: float = 0.90
    # ... and at which two results are one text twice (wire copies): only the first is kept
    duplicate_collapse_threshold: float = 0.98
    quality_floor: float = 0.10  # blended score under which an item is not worth a teaser
    # Neighbourhood smoothing (applied by the next build, see ranking/smoothing.py): each
    # article's vector moves towards the mean of its ``smoothing_neighbours`` closest articles
    # by the text score, with this weight; 0 turns it off.
    smoothing: float = 1.0
    smoothing_neighbours: int = 10
    # each neighbour counts in proportion to its text score ** this (0: a plain mean)
    smoothing_power: float = 2.0
    # subtract the catalogue's mean embedding first (only with smoothing on)
    centring: bool = True
    same_language: bool = True
    fallback: bool = True

    def __post_init__(self) -> None:
        for name in ("semantic_weight", "lexical_weight", "tag_weight", "author_weight",
                     "recency_weight", "default_half_life_days", "quality_floor", "smoothing",
                     "smoothing_power"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.semantic_weight + self.lexical_weight <= 0:
            raise ValueError("semantic_weight + lexical_weight must be > 0")
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ValueError("mmr_lambda must be between 0 and 1")
        for name in ("near_duplicate_threshold", "duplicate_collapse_threshold"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]")
        if not 1 <= self.smoothing_neighbours <= 100:
            raise ValueError("smoothing_neighbours must be between 1 and 100")
        if not 1 <= self.candidates <= 2000:
            raise ValueError("candidates must be between 1 and 2000")
        if self.recency_weight > 1:
            raise ValueError("recency_weight must be between 0 and 1")
        if any(v < 0 for v in self.half_life_days.values()):
            raise ValueError("half_life_days values must be >= 0")

    def half_life_for(self, content_type: str | None) -> float:
        """Half-life in days for a content type (0 means no decay)."""
        return self.half_life_days.get(content_type or "", self.default_half_life_days)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RankingPolicy:
        """Build from a (possibly partial) mapping; unknown keys are an error, not ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown ranking policy keys: {', '.join(unknown)}")
        merged = {**dataclasses.asdict(cls()), **data}
        if "half_life_days" in data:
            merged["half_life_days"] = {**DEFAULT_HALF_LIVES, **data["half_life_days"]}
        return cls(**merged)
