"""Validating a draft before it is ranked: the fields, their limits and the message naming the
first bad one, shared by the editors' form and ``POST /api/v1/preview``."""

from __future__ import annotations

from typing import Any

import pytest

from recommender.live.drafts import LIMITS, MAX_LIST, DraftError, parse_draft
from recommender.live.recommender import Draft


def test_a_full_draft_is_trimmed_into_a_draft() -> None:
    draft = parse_draft({"title": "  Oil deal ", "body": "India buys crude.\n", "dek": " Rupees ",
                         "tags": [" india ", "", "oil"], "authors": "Ann Author; Bo, ",
                         "section": " Asia ", "content_type": "analysis", "language": "hi",
                         "k": 5})
    assert draft == Draft(title="Oil deal", body="India buys crude.", dek="Rupees",
                          tags=("india", "oil"), authors=("Ann Author", "Bo"), section="Asia",
                          content_type="analysis", language="hi")


def test_defaults_for_what_is_left_out_or_null() -> None:
    assert parse_draft({"body": "Only a body.", "content_type": None, "language": "",
                        "tags": None}) == Draft(title="", body="Only a body.")
    assert parse_draft({"title": "T", "content_type": " "}).content_type == "news"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"title": "T", "summary": "x", "author": "y"}, "author", "unknown field 'author'"),
    ({}, "title", "a draft needs a title or a body"),
    ({"title": "  ", "body": "\n"}, "title", "a draft needs a title or a body"),
    ({"title": 42}, "title", "title must be a string"),
    ({"title": "T", "dek": ["x"]}, "dek", "dek must be a string"),
    ({"title": "x" * (LIMITS["title"] + 1)}, "title", "title is longer than 1000 characters"),
    ({"title": "T", "section": "s" * 256}, "section", "section is longer than 255 characters"),
    ({"title": "T", "body": "a\x00b"}, "body", "body must not contain NUL characters"),
    ({"title": "T", "tags": [1, 2]}, "tags", "tags must be a list of strings"),
    ({"title": "T", "authors": {"name": "x"}}, "authors", "authors must be a list of strings"),
    ({"title": "T", "tags": ["t"] * (MAX_LIST + 1)}, "tags", "at most 50 entries"),
    ({"title": "T", "tags": ["t" * 256]}, "tags", "of up to 255 characters"),
    ({"title": "T", "authors": ["a\x00"]}, "authors", "at most 50 entries"),
    ({"title": "T", "content_type": "Op-Ed"}, "content_type", "lower-case word such as news"),
    ({"title": "T", "content_type": "9lives"}, "content_type", "lower-case word"),
])
def test_the_first_bad_field_is_named(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(DraftError, match=message) as caught:
        parse_draft(data)
    assert caught.value.field == field and caught.value.message == str(caught.value)


def test_limits_are_inclusive_and_new_content_types_are_welcome() -> None:
    at_limit = parse_draft({"title": "x" * LIMITS["title"], "tags": ["t" * 255] * MAX_LIST,
                            "content_type": "live-blog_2"})
    assert len(at_limit.title) == LIMITS["title"] and len(at_limit.tags) == MAX_LIST
    assert at_limit.content_type == "live-blog_2"


def test_a_draft_error_is_a_value_error() -> None:
    """Callers that already catch ValueError for bad input (the CLI, the views) catch it too."""
    with pytest.raises(ValueError, match="unknown field"):
        parse_draft({"bogus": 1})
