"""What text an article is embedded as: title, dek and body as one passage (the head), or the
mean of 180-word body chunks each read with the title and dek."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from recommender.embedding.encoder import Vectors
from recommender.embedding.representation import CHUNK_WORDS, chunks, embed_texts, head_text
from tests.helpers.fakes import FakeEncoder


class RecordingEncoder(FakeEncoder):
    """The fake encoder, remembering every batch it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.batches.append(list(texts))
        return super().encode(texts)


def test_the_head_is_title_dek_and_body_without_empty_parts() -> None:
    assert head_text(" Title ", "A dek.", "Body text.\n") == "Title\nA dek.\nBody text."
    assert head_text("Title", "", "Body") == "Title\nBody"
    assert head_text("Title", "   ", "") == "Title"
    assert head_text("", "", "") == ""


def test_chunks_are_runs_of_whole_words() -> None:
    words = [f"w{i}" for i in range(2 * CHUNK_WORDS + 5)]
    parts = chunks(" \n".join(words))
    assert [len(p.split()) for p in parts] == [CHUNK_WORDS, CHUNK_WORDS, 5]
    assert " ".join(parts).split() == words  # nothing lost, nothing repeated, in order
    assert chunks("one two three", size=2) == ["one two", "three"]
    assert chunks("") == [""] and chunks("  \n ") == [""]  # a title-only article still gets a text


def test_head_mode_embeds_one_passage_per_article_in_order() -> None:
    encoder = RecordingEncoder()
    articles = [("Oil deal", "Rupees", "India buys crude."), ("Rates", "", "The bank moved.")]
    vectors = embed_texts(encoder, articles)
    assert encoder.batches == [["Oil deal\nRupees\nIndia buys crude.", "Rates\nThe bank moved."]]
    assert np.array_equal(vectors, FakeEncoder().encode(encoder.batches[0]))


def test_chunk_mode_is_the_normalised_mean_of_each_articles_chunks() -> None:
    encoder = RecordingEncoder()
    long_body = " ".join(["tariffs"] * CHUNK_WORDS + ["harvest"] * 10)
    articles = [("Trade", "", long_body), ("Short", "Dek", "Only a few words.")]
    vectors = embed_texts(encoder, articles, mode="chunks")
    [texts] = encoder.batches
    assert texts == [f"Trade\n{' '.join(['tariffs'] * CHUNK_WORDS)}", "Trade\n" + " ".join(
        ["harvest"] * 10), "Short\nDek\nOnly a few words."]
    parts = FakeEncoder().encode(texts)
    mean = parts[0] + parts[1]
    assert vectors.shape == (2, parts.shape[1]) and vectors.dtype == np.float32
    assert np.allclose(vectors[0], mean / np.linalg.norm(mean), atol=1e-6)
    assert np.allclose(vectors[1], parts[2], atol=1e-6)  # one chunk: its own vector


def test_an_unknown_mode_is_refused_before_encoding() -> None:
    encoder = RecordingEncoder()
    with pytest.raises(ValueError, match="unknown representation 'tail'"):
        embed_texts(encoder, [("T", "", "B")], mode="tail")
    assert encoder.batches == []
