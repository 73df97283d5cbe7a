"""Proper names and country adjectives found in the catalogue's own text."""

from __future__ import annotations

from recommender.ranking.names import name_words, names_in, with_countries
from tests.helpers.texts import CATALOGUE


def test_names_are_words_the_catalogue_capitalises_mid_sentence() -> None:
    names = name_words(CATALOGUE)
    assert {"bundesbank", "sumita", "satoshi"} <= names
    # "Trade" is capitalised in a headline but written "trade" elsewhere: not a name
    assert "trade" not in names
    # a sentence's first word does not count, nor grammar words
    assert "markets" not in names and "the" not in names


def test_names_in_keeps_runs_as_one_token_too() -> None:
    names = name_words(CATALOGUE)
    found = names_in("Yesterday Satoshi Sumita's office called the Bundesbank.", names)
    assert found == ["satoshi", "sumita", "satoshi_sumita", "bundesbank"]


def test_country_adjectives_add_the_country() -> None:
    assert with_countries("Swiss and Japanese banks").endswith("\nswitzerland japan")
    assert with_countries("No country here") == "No country here"
