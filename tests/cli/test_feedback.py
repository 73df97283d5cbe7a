"""``related-reading stats``: the table, the JSON last line, bad --days exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recommender.cli.main import main
from recommender.feedback.events import parse_batch, store
from tests.helpers.feedback import add_articles, batch, click, impression, token


@pytest.fixture
def cli_db(migrated_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("RELATED_DATABASE_URL", migrated_url)
    monkeypatch.setenv("RELATED_DATA_DIR", str(tmp_path / "data"))
    return migrated_url


def test_stats_json_and_table(cli_db: str, session: Session,
                              capsys: pytest.CaptureFixture[str]) -> None:
    ids = add_articles(session)
    view = token()
    store(session, parse_batch(batch(impression(ids[0], ids[1:4], view),
                                     click(ids[0], ids[2], 2, view))))
    session.commit()
    assert main(["stats", "--days", "7", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (doc["impressions"], doc["clicks"], doc["ctr"]) == (1, 1, 1.0)
    assert doc["ctr_by_position"] == {"1": 0.0, "2": 1.0, "3": 0.0}
    assert doc["arms"]["default"] == {"impressions": 1, "clicks": 1, "ctr": 1.0, "click_share": 1.0}
    assert main(["stats"]) == 0
    assert "1 box views, 1 clicks" in capsys.readouterr().out


def test_stats_rejects_bad_days(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--days", "0"]) == 2
    assert "--days must be at least 1" in capsys.readouterr().err
