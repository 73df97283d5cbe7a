"""Readers on replicas: two real gunicorn servers over one PostgreSQL database and one build
directory answer alike, and a publish or a withdrawal through one server's webhook reaches the
other's readers within the memo's poll interval (0.25 s here; the requirement is one second).

Both servers have warm memos when the change is made, so the second can only answer right by
noticing another process's commit (``web.memo.DataVersion``). The measured delay is printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from recommender.accounts.apikeys import create_key
from recommender.settings import Settings
from recommender.storage.engine import make_engine, make_session_factory
from recommender.storage.schema import Article, RelatedItem
from tests.helpers.demo import build_demo
from tests.helpers.replicas import Replica, private_database, wait_for

# The bound the mechanism promises (FLASK_RESPONSE_CACHE_POLL_SECONDS); issue #15 asks for 1 s.
POLL_SECONDS = 0.25
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
NEW_ARTICLE: dict[str, Any] = {
    "id": "replica-new-1",
    "url": "https://wire.example/2025/12/rupee-rouble-crude-contracts",
    "title": "Indian Refiners Sign Russian Crude Contracts Settled in Rupees and Roubles",
    "dek": "The crude framework agreed at the Delhi summit becomes contracts for refiners.",
    "body": "<p>Indian refiners signed contracts under the crude framework that the Indian prime "
            "minister and the Russian president agreed at their Delhi summit. Invoices will be "
            "settled in rupees and roubles through both central banks.</p><p>Traders warned "
            "that rupee balances pile up in Russian accounts and that US tariffs on buyers of "
            "Russian oil remain a risk for Indian exporters.</p>",
    "authors": ["Wire Desk"], "tags": ["india", "russia", "oil"], "section": "Asia",
    "content_type": "news", "published_at": "2025-12-08T09:00:00Z",
}


class Cluster:
    def __init__(self, url: str, a: Replica, b: Replica, key: str) -> None:
        self.url, self.a, self.b, self.key = url, a, b, key

    def live_ids(self) -> list[str]:
        engine = make_engine(self.url)
        try:
            with make_session_factory(engine)() as session:
                return sorted(session.scalars(select(Article.external_id).where(
                    Article.status == "published")))
        finally:
            engine.dispose()

    def holders(self, external_id: str) -> list[str]:
        """The pages whose stored list holds this article."""
        engine = make_engine(self.url)
        try:
            with make_session_factory(engine)() as session:
                target = select(Article.id).where(Article.external_id == external_id)
                return sorted(session.scalars(
                    select(Article.external_id).join(RelatedItem,
                                                     RelatedItem.article_id == Article.id)
                    .where(RelatedItem.target_id.in_(target.scalar_subquery()))))
        finally:
            engine.dispose()

    def hook(self, method: str, path: str, body: Any = None) -> tuple[int, float]:
        """Call A's webhook; the status and the monotonic time its response arrived."""
        status, _, raw = self.a.request(method, path, body,
                                        {"Authorization": f"Bearer {self.key}"})
        assert status in (200, 201), raw
        return status, time.monotonic()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: replicas share a PostgreSQL database")
    root = tmp_path_factory.mktemp("replicas")
    with private_database(PG_URL) as url:
        settings = Settings.from_env({"RELATED_DATA_DIR": str(root / "shared"),
                                      "RELATED_DATABASE_URL": url})
        build_demo(settings)  # the database and the shared build directory
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            key = create_key(session, "cms")
            session.commit()
        engine.dispose()
        env = {"RELATED_DATA_DIR": str(root / "shared"), "RELATED_DATABASE_URL": url,
               "FLASK_RESPONSE_CACHE_POLL_SECONDS": str(POLL_SECONDS)}
        a = Replica(env, root / "a", workers=1)
        b = Replica(env, root / "b", workers=2)
        try:
            a.wait_ready()
            b.wait_ready()
            yield Cluster(url, a, b, key)
        finally:
            a.stop()
            b.stop()


def _assert_alike(cluster: Cluster, pages: list[str]) -> None:
    for page in pages:
        status_a, etag_a, _, body_a = cluster.a.related(page)
        status_b, etag_b, _, body_b = cluster.b.related(page)
        assert (status_a, etag_a, body_a) == (status_b, etag_b, body_b), page


def _after_the_bound(done_at: float) -> None:
    time.sleep(max(0.0, done_at + POLL_SECONDS - time.monotonic()))


def test_replicas_answer_alike_and_see_each_others_webhook_at_once(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    pages = cluster.live_ids()
    assert len(pages) == 84
    for _ in range(3):  # warm every memo of both servers (B has two workers)
        _assert_alike(cluster, pages)

    # -- a withdrawal through A -------------------------------------------------------------
    page = "demo-001"
    target = b.related(page)[2][0]
    holders = [holder for holder in cluster.holders(target) if target in b.related(holder)[2]]
    assert page in holders
    _, done = cluster.hook("DELETE", f"/api/v1/articles/{target}")
    withdrawn = wait_for(lambda: target not in b.related(page)[2], timeout=5.0)
    print(f"\nwithdrawal through A seen by B after {withdrawn:.3f} s"
          if withdrawn is not None else "\nwithdrawal never seen by B")
    assert withdrawn is not None
    _after_the_bound(done)  # every request from now on must see it, on every worker of B
    for holder in holders:
        for _ in range(3):
            assert target not in b.related(holder)[2], holder
    assert b.related(target)[0] == 404

    # -- a publish through A ----------------------------------------------------------------
    assert b.related(NEW_ARTICLE["id"])[0] == 404
    _, done = cluster.hook("POST", "/api/v1/articles", NEW_ARTICLE)
    # the pages whose list, as the writer A serves it, shows the new article (it sees its own
    # commit at once)
    holders = [page for page in cluster.holders(NEW_ARTICLE["id"])
               if NEW_ARTICLE["id"] in a.related(page)[2]]
    assert holders, "the new article entered no list"
    published = wait_for(lambda: NEW_ARTICLE["id"] in b.related(holders[0])[2], timeout=5.0)
    print(f"publish through A seen by B after {published:.3f} s"
          if published is not None else "publish never seen by B")
    assert published is not None
    _after_the_bound(done)
    for holder in holders:
        for _ in range(3):
            assert NEW_ARTICLE["id"] in b.related(holder)[2], holder
    assert b.related(NEW_ARTICLE["id"])[0] == 200
    _assert_alike(cluster, [*pages, NEW_ARTICLE["id"]])
