"""Runs ``related-reading reindex`` in a subprocess with the fake encoder, for fault tests.

RR_TEST_ENCODE_DELAY=SECONDS sleeps in every encode batch (to be killed mid-embedding);
RR_TEST_PAUSE_AFTER_LISTS=SECONDS sleeps after the lists are computed, before the swap (to be
killed mid-build). Markers are printed to stdout so the test knows where the run is.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import recommender.embedding.encoder as encoder
import recommender.jobs.build as build
from recommender.cli.main import main
from tests.helpers.fakes import FakeEncoder

os.environ.setdefault("RELATED_ENCODER_BACKEND", "torch")  # the fake stands in for torch's class
DELAY = float(os.environ.get("RR_TEST_ENCODE_DELAY", "0"))
PAUSE = float(os.environ.get("RR_TEST_PAUSE_AFTER_LISTS", "0"))


class SlowFakeEncoder(FakeEncoder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def encode(self, texts: Sequence[str]) -> Any:
        print("ENCODING", flush=True)
        time.sleep(DELAY)
        return super().encode(texts)


_compute_all = build.compute_all


def _paused_compute_all(*args: Any, **kwargs: Any) -> Any:
    result = _compute_all(*args, **kwargs)
    print("LISTS_DONE", flush=True)
    time.sleep(PAUSE)
    return result


encoder.SentenceTransformerEncoder = SlowFakeEncoder  # type: ignore[misc,assignment]
build.compute_all = _paused_compute_all  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main(["reindex", "--quiet", *sys.argv[1:]]))
