"""RELATED_ENCODER_BACKEND picks the encoder; a vector is valid only for the backend that made
it, so a change of backend re-embeds on the next build and never mixes in one index (#14)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.embedding.backends import (
    ONNX_INT8,
    TORCH,
    backend_of,
    chosen_backend,
    encoder_cache_dir,
    make_encoder,
)
from recommender.embedding.cache import embed_missing, load_vectors, stale_articles
from recommender.embedding.encoder import SentenceTransformerEncoder, resolve_model
from recommender.embedding.onnx_encoder import OnnxEncoder
from recommender.jobs.build import full_build
from recommender.jobs.reindex import plan
from recommender.live.recommender import Recommender
from recommender.ranking.space import SearchSpace
from recommender.settings import BUNDLED_MODEL, Settings, SettingsError
from recommender.storage.schema import Embedding
from tests.helpers.demo import load_demo
from tests.helpers.fakes import FakeEncoder


def test_the_setting_picks_the_encoder_lazily(tmp_path: Path) -> None:
    torch = make_encoder(Settings(data_dir=tmp_path, encoder_backend=TORCH))
    assert isinstance(torch, SentenceTransformerEncoder) and backend_of(torch) == TORCH
    fast = make_encoder(Settings(data_dir=tmp_path, encoder_backend=ONNX_INT8), threads=1)
    assert isinstance(fast, OnnxEncoder) and backend_of(fast) == ONNX_INT8
    assert encoder_cache_dir(Settings(data_dir=tmp_path)) == tmp_path / "encoders"
    assert not (tmp_path / "encoders").exists()  # nothing exported or loaded yet
    assert backend_of(FakeEncoder()) == TORCH  # an encoder naming no backend: torch's vectors
    # the default: the int8 encoder wherever it can run (the `fast` extra is in `dev`, so here)
    assert chosen_backend(Settings(data_dir=tmp_path)) == ONNX_INT8
    assert isinstance(make_encoder(Settings(data_dir=tmp_path)), OnnxEncoder)


def test_a_backend_that_cannot_run_is_a_setting_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tmp_path / "odd-model"
    shutil.copytree(resolve_model(BUNDLED_MODEL)[0], odd,
                    ignore=shutil.ignore_patterns("*.safetensors", "tokenizer.json"))
    settings = Settings(data_dir=tmp_path, model=str(odd), encoder_backend=ONNX_INT8)
    with pytest.raises(SettingsError, match=r"RELATED_ENCODER_BACKEND=onnx-int8: .*tokenizer\.json"
                                            r".*RELATED_ENCODER_BACKEND=torch"):
        make_encoder(settings)
    assert chosen_backend(Settings(data_dir=tmp_path, model=str(odd))) == TORCH  # auto: torch path
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the extra were not installed
    with pytest.raises(SettingsError, match=r"needs onnxruntime: pip install 'related-reading\[fast\]'"):
        make_encoder(Settings(data_dir=tmp_path, encoder_backend=ONNX_INT8))
    fallback = make_encoder(Settings(data_dir=tmp_path))  # auto, without the extra: torch
    assert isinstance(fallback, SentenceTransformerEncoder)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Recommender, sessionmaker[Session]]]:
    settings = Settings.from_env({"RELATED_DATA_DIR": str(tmp_path)})
    engine, factory = load_demo(settings)
    yield Recommender(settings, factory, encoder=FakeEncoder()), factory
    engine.dispose()


def test_a_backend_change_re_embeds_on_the_next_build_and_never_mixes(
        demo: tuple[Recommender, sessionmaker[Session]]) -> None:
    torch, factory = demo
    first = full_build(torch)
    assert first.embedded == 86
    fast = Recommender(torch.settings, factory, encoder=FakeEncoder(backend=ONNX_INT8))
    with factory() as session:
        assert len(stale_articles(session, "fake-bow", backend=ONNX_INT8)) == 86
        assert plan(session, fast, full=False) == ("build", [])  # not an incremental update
        assert plan(session, torch, full=False)[0] == "unchanged"
        space = SearchSpace.load(session, "fake-bow", torch.builds.get(), backend=ONNX_INT8)
        assert space.build is None  # the live path never searches the other backend's build
    second = full_build(fast)
    assert second.embedded == 86  # every vector made again, none reused from torch
    build = fast.builds.get()
    assert build is not None and build.meta["backend"] == ONNX_INT8
    with factory() as session:
        assert set(session.scalars(select(Embedding.backend))) == {ONNX_INT8}
        assert len(load_vectors(session, "fake-bow", backend=TORCH)[0]) == 0
        assert len(load_vectors(session, "fake-bow", backend=ONNX_INT8)[0]) == 86
        assert plan(session, fast, full=False)[0] == "unchanged"
        assert plan(session, torch, full=False) == ("build", [])  # and back again
        assert embed_missing(session, FakeEncoder(backend=ONNX_INT8)).embedded == 0
