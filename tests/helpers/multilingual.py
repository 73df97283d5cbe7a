"""A multilingual catalogue for the language rule's tests: demo articles republished in other
languages (same words, so the fake encoder and the lexical model put each translation right next
to its original: the hardest case for the rule), with their own ids and URLs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recommender.catalog.importing import import_file
from recommender.cli.main import DEMO_DIR


def demo_records() -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(DEMO_DIR.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def translations(language: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` demo articles (from the ``start``-th) as published in ``language``."""
    out = []
    for record in demo_records()[start:start + count]:
        copy = dict(record, id=f"{language}-{record['id']}", language=language,
                    url=record["url"].replace("meridian.example/", f"meridian.example/{language}/"))
        out.append(copy)
    return out


def import_translations(session: Session, directory: Path, languages: dict[str, int]) -> None:
    """Import ``languages`` ({language: how many}) translations of the demo into the session."""
    path = directory / "translations.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for language, count in languages.items():
            for record in translations(language, count):
                out.write(json.dumps(record) + "\n")
    import_file(session, path)
    session.commit()
