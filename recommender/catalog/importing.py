"""Importing article files (JSON Lines, CSV): all-or-nothing unless told to skip bad rows.

A half-imported file is worse than none (an editor cannot tell what landed), so every row is
validated first (``catalog.validation``, as for feeds and the webhook) and the file is committed in
one transaction. This module only reads files and words the problems by file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recommender.catalog.articles import InvalidArticle
from recommender.catalog.storing import upsert_articles
from recommender.catalog.validation import Problem, validate_batch

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


def _row_error(path: Path, problem: Problem[int]) -> RowError:
    """A file's wording: ``file:line: field: message``, a duplicate naming the first line."""
    reason = problem.text
    if problem.first is not None:
        reason += f" (first at line {problem.first})"
    return RowError(str(path), problem.where, reason)


def import_file(session: Session, path: Path, *, fmt: str | None = None,
                skip_invalid: bool = False) -> ImportReport:
    """Validate and upsert a whole file in one transaction; raise ImportFailed on bad rows."""
    items, problems = validate_batch(session, read_records(path, fmt))
    errors = [_row_error(path, p) for p in problems]  # one per row, in line order
    if errors and not skip_invalid:
        raise ImportFailed(errors)
    report = ImportReport(seen=len(items) + len(errors), skipped=errors)
    result = upsert_articles(session, items)
    report.added, report.updated, report.unchanged = (result.added, result.updated,
                                                      len(result.unchanged))
    return report
