"""The feedback tables are part of the one schema, and a view's token counts once per position."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.storage.feedback_tables import FeedbackEvent
from recommender.storage.schema import Base
from tests.helpers.feedback import add_articles


def test_the_tables_are_in_the_metadata() -> None:
    assert {"feedback_events", "feedback_daily", "experiments"} <= set(Base.metadata.tables)


def test_one_row_per_kind_token_and_position(session: Session) -> None:
    add_articles(session, 2)
    row = {"kind": "click", "token": "t" * 32, "page_id": 1, "item_id": 2, "position": 1}
    session.add(FeedbackEvent(**row))
    session.commit()
    session.add(FeedbackEvent(**row))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(FeedbackEvent(**{**row, "kind": "view"}))
    with pytest.raises(IntegrityError):  # the kind is checked by the database too
        session.commit()
