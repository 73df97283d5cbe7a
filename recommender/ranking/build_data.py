"""The ranking's part of a build: its lexical model, TF-IDF rows and tag IDF, beside the vectors.

The index's build store writes these files into the build directory and checksums them without
knowing what they are: the index package must not depend on ranking (ranking searches the index,
so the other direction would be a cycle). This module is the one that knows the files; it hands
their writers to the store and reads them back into a ``RankingBuild``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from scipy import sparse

from recommender.index.builds import BuildError, FileWriter, IndexStore
from recommender.index.loaded import LoadedBuild
from recommender.ranking.lexical import LexicalModel
from recommender.ranking.smoothing import Smoothing

LEXICAL_FILE, LEXICAL_MATRIX_FILE, TAGS_FILE = "lexical.pkl", "lexical.npz", "tag_idf.json"


def ranking_files(lexical: LexicalModel, lexical_matrix: sparse.csr_matrix,
                  tag_idf: dict[str, float]) -> dict[str, FileWriter]:
    """The writers of the ranking's files, for ``IndexStore.write(files=...)``."""

    def write_matrix(path: Path) -> None:
        sparse.save_npz(path, lexical_matrix)

    def write_tags(path: Path) -> None:
        path.write_text(json.dumps(tag_idf))

    return {LEXICAL_FILE: lexical.save, LEXICAL_MATRIX_FILE: write_matrix, TAGS_FILE: write_tags}


@dataclass(kw_only=True)
class RankingBuild(LoadedBuild):
    """A loaded build as ranking uses it: lexical rows aligned with ``ids``, the tag IDF, and the
    smoothing the build applied (so live paths smooth new articles and drafts the same way)."""

    lexical: LexicalModel
    lexical_matrix: sparse.csr_matrix
    tag_idf: dict[str, float]

    @property
    def smoothing(self) -> Smoothing:
        return Smoothing.from_dict(self.meta.get("smoothing"))

    @classmethod
    def load(cls, store: IndexStore, build_id: str, *, verify: bool = False) -> RankingBuild:
        """The build ``build_id`` of ``store`` with the ranking's files; ``verify`` checks every
        file of it (these included) against the build's checksum first."""
        base = store.load(build_id, verify=verify)
        directory = base.directory
        try:
            lexical = LexicalModel.load(directory / LEXICAL_FILE)
            matrix = sparse.csr_matrix(sparse.load_npz(directory / LEXICAL_MATRIX_FILE))
            tag_idf = json.loads((directory / TAGS_FILE).read_text())
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise BuildError(f"cannot load build {build_id}: {exc}") from exc
        if matrix.shape[0] != len(base.ids):
            raise BuildError(f"build {build_id} is inconsistent: {matrix.shape[0]} lexical rows "
                             f"for {len(base.ids)} articles")
        fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(LoadedBuild)}
        return cls(**fields, lexical=lexical, lexical_matrix=matrix, tag_idf=tag_idf)
