"""Comparing two arms' CTR when pages, not page views, were assigned to the arms.

Views of one page share its list, its readers and its topic, so they are not independent: treating
every view as a coin flip understates the uncertainty. Each page is a cluster; an arm's CTR is the
ratio estimator R = sum(clicks) / sum(views) over its pages, and its variance comes from the delta
method with cluster-robust residuals (the linearisation of a ratio): ``Var(R) = n / (n - 1) *
sum((c_p - R v_p)^2) / (sum v_p)^2`` over the arm's n pages. The two arms hold different pages,
so the difference's variance is the sum of theirs; 95% intervals use z = 1.96.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

Z95 = 1.959964


@dataclass(frozen=True)
class ArmResult:
    pages: int
    views: int
    clicks: int
    ctr: float
    low: float  # the 95% interval of the CTR
    high: float
    se: float

    def to_dict(self) -> dict[str, Any]:
        return {key: round(value, 5) if isinstance(value, float) else value
                for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Comparison:
    a: ArmResult
    b: ArmResult
    difference: float  # b - a
    low: float
    high: float
    z: float
    p: float
    significant: bool

    @property
    def statement(self) -> str:
        """One sentence an editor can act on."""
        if self.a.pages < 2 or self.b.pages < 2:
            return "Not enough pages with views in each arm to compare yet."
        relation = "higher" if self.difference > 0 else "lower"
        if self.significant:
            return (f"B's CTR is {relation} than A's by {abs(self.difference):.2%} points "
                    f"(95% CI {self.low:+.2%} to {self.high:+.2%}, p = {self.p:.3f}): "
                    "the difference is significant at the 5% level.")
        return (f"No significant difference yet: B - A = {self.difference:+.2%} points "
                f"(95% CI {self.low:+.2%} to {self.high:+.2%}, p = {self.p:.3f}).")

    @property
    def winner(self) -> str | None:
        """'a' or 'b' when the difference is significant, else None."""
        if not self.significant:
            return None
        return "b" if self.difference > 0 else "a"

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(),
                "difference": round(self.difference, 5), "low": round(self.low, 5),
                "high": round(self.high, 5), "z": round(self.z, 3), "p": round(self.p, 4),
                "significant": self.significant, "winner": self.winner,
                "statement": self.statement}


def arm_result(pages: Sequence[tuple[int, int]]) -> ArmResult:
    """CTR and its cluster-robust 95% interval from (views, clicks) per page."""
    pages = [(v, c) for v, c in pages if v > 0]
    views = sum(v for v, _ in pages)
    clicks = sum(c for _, c in pages)
    if not views:
        return ArmResult(0, 0, clicks, 0.0, 0.0, 0.0, 0.0)
    ratio = clicks / views
    n = len(pages)
    if n < 2:
        return ArmResult(n, views, clicks, ratio, 0.0, 1.0, math.inf)
    residuals = sum((c - ratio * v) ** 2 for v, c in pages)
    se = math.sqrt(n / (n - 1) * residuals) / views
    return ArmResult(n, views, clicks, ratio, max(0.0, ratio - Z95 * se), ratio + Z95 * se, se)


def compare(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> Comparison:
    """B against A: the difference in CTR, its 95% interval, a two-sided p-value."""
    left, right = arm_result(a), arm_result(b)
    difference = right.ctr - left.ctr
    se = math.sqrt(left.se ** 2 + right.se ** 2) if math.isfinite(left.se + right.se) else math.inf
    # no spread at all (every page the same CTR): any difference is certain, none is nothing
    z = difference / se if se > 0 else (math.copysign(math.inf, difference) if difference else 0.0)
    p = math.erfc(abs(z) / math.sqrt(2)) if math.isfinite(z) else 0.0
    enough = left.pages >= 2 and right.pages >= 2
    return Comparison(left, right, difference,
                      difference - Z95 * se if math.isfinite(se) else -1.0,
                      difference + Z95 * se if math.isfinite(se) else 1.0,
                      z if math.isfinite(z) else 0.0, p, enough and p < 0.05)
