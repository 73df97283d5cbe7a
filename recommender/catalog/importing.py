"""Importing article files (JSON Lines, CSV): all-or-nothing unless told to skip bad rows.

A half-imported file is worse than none (an editor cannot tell what landed), so every row is
validated first and the file is committed in one transaction.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recommender.catalog.articles import (
    ArticleInput,
    InvalidArticle,
    parse_article,
)
from recommender.catalog.storing import find_url_conflicts, upsert_articles
from recommender.storage.schema import utcnow

FORMATS = ("jsonl", "csv")


class ImportFailed(Exception):
    """The file had invalid rows and nothing was committed."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} invalid row(s); nothing imported")


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportReport:
    seen: int = 0
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[RowError] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"seen": self.seen, "added": len(self.added), "updated": len(self.updated),
                "unchanged": self.unchanged, "skipped": len(self.skipped)}


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    raise ValueError(f"{path}: cannot tell the format from the extension; pass --format jsonl|csv")


def _read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, InvalidArticle(f"not valid JSON: {exc.msg} at column {exc.colno}")


def _read_csv(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        reader = csv.DictReader(fh, dialect=dialect)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            yield 1, InvalidArticle("header: a CSV needs a header row with at least id, url, title")
            return
        for row in reader:
            if None in row:
                yield reader.line_num, InvalidArticle("more fields than the header names")
                continue
            yield reader.line_num, {k: (v if v != "" else None) for k, v in row.items()}


def read_records(path: Path, fmt: str | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, record or InvalidArticle) for each row of the file."""
    kind = fmt or detect_format(path)
    if kind not in FORMATS:
        raise ValueError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")
    return _read_jsonl(path) if kind == "jsonl" else _read_csv(path)


def validate_file(path: Path, fmt: str | None = None) -> tuple[list[ArticleInput], list[RowError],
                                                               list[int]]:
    """Parse every row: (valid items, row errors, line number of each valid item)."""
    now = utcnow()
    items: list[ArticleInput] = []
    lines: list[int] = []
    errors: list[RowError] = []
    first_line_of_id: dict[str, int] = {}
    first_line_of_url: dict[str, int] = {}
    for number, record in read_records(path, fmt):
        try:
            if isinstance(record, InvalidArticle):
                raise record
            item = parse_article(record, now)
            if item.external_id in first_line_of_id:
                raise InvalidArticle(
                    f"id: duplicate id {item.external_id!r} (first at line "
                    f"{first_line_of_id[item.external_id]})")
            if item.url in first_line_of_url:
                raise InvalidArticle(f"url: duplicate url (first at line {first_line_of_url[item.url]})")
        except InvalidArticle as exc:
            errors.append(RowError(str(path), number, str(exc)))
            continue
        first_line_of_id[item.external_id] = number
        first_line_of_url[item.url] = number
        items.append(item)
        lines.append(number)
    return items, errors, lines


def import_file(session: Session, path: Path, *, fmt: str | None = None,
                skip_invalid: bool = False) -> ImportReport:
    """Validate and upsert a whole file in one transaction; raise ImportFailed on bad rows."""
    items, errors, lines = validate_file(path, fmt)
    conflicts = find_url_conflicts(session, items)
    if conflicts:
        kept: list[ArticleInput] = []
        for item, line in zip(items, lines, strict=True):
            if item.external_id in conflicts:
                errors.append(RowError(str(path), line,
                                       f"url: already used by article {conflicts[item.external_id]!r}"))
            else:
                kept.append(item)
        items = kept
        errors.sort(key=lambda e: e.line)
    if errors and not skip_invalid:
        raise ImportFailed(errors)
    report = ImportReport(seen=len(items) + len(errors), skipped=errors)
    result = upsert_articles(session, items)
    report.added, report.updated, report.unchanged = (result.added, result.updated,
                                                      len(result.unchanged))
    return report
