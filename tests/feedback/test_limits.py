"""The in-memory per-client rate limit (a token bucket on an injected clock)."""

from __future__ import annotations

from recommender.feedback.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_budget_then_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)  # one event a second, bursts of 60
    assert limiter.allow("a", 50)
    assert not limiter.allow("a", 20)  # refused whole, nothing spent
    assert limiter.allow("a", 10)
    assert not limiter.allow("a", 1)
    assert limiter.allow("b", 60)  # other clients are unaffected
    clock.now += 5
    assert limiter.allow("a", 5)
    assert not limiter.allow("a", 1)


def test_idle_clients_are_forgotten_and_zero_turns_it_off() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    limiter.allow("a")
    clock.now += 120
    limiter.allow("b")
    assert len(limiter) == 1  # "a" was swept: nothing about it stays in memory
    unlimited = RateLimiter(0, clock=clock)
    assert all(unlimited.allow("a", 1000) for _ in range(10))
