"""Importing JSON Lines and CSV: validation, all-or-nothing, idempotence, updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.catalog.importing import ImportFailed, import_file
from recommender.storage.schema import Article


def _record(n: int, **kw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": f"art-{n}", "url": f"https://Mag.example/{n}/?utm_source=feed",
        "title": f"Story {n}", "dek": "A dek.", "body": f"<p>Body of story {n}.</p><p>More.</p>",
        "authors": ["Ann Author"], "tags": ["Russia", "india"], "section": "Asia",
        "content_type": "news", "language": "en", "published_at": "2025-01-02T03:04:05Z",
    }
    rec.update(kw)
    return rec


def _write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Article)) or 0


def test_jsonl_import_cleans_and_normalises(session: Session, tmp_path: Path) -> None:
    report = import_file(session, _write_jsonl(tmp_path / "a.jsonl", [_record(1), _record(2)]))
    session.commit()
    assert report.summary()["added"] == 2
    a = session.scalars(select(Article).where(Article.external_id == "art-1")).one()
    assert a.url == "https://mag.example/1"
    assert a.body == "Body of story 1.\n\nMore."
    assert a.tags == ["russia", "india"]
    assert a.word_count == 5
    assert a.published_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert len(a.content_hash) == 64


def test_reimport_is_idempotent_and_updates_in_place(session: Session, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "a.jsonl", [_record(1), _record(2)])
    import_file(session, path)
    session.commit()
    first = {a.external_id: (a.id, a.content_hash, a.modified) for a in session.scalars(select(Article))}
    report = import_file(session, path)
    session.commit()
    assert report.summary() == {"seen": 2, "added": 0, "updated": 0, "unchanged": 2, "skipped": 0}
    again = {a.external_id: (a.id, a.content_hash, a.modified) for a in session.scalars(select(Article))}
    assert again == first
    changed = _write_jsonl(tmp_path / "b.jsonl", [_record(1, body="Rewritten body."), _record(2)])
    report = import_file(session, changed)
    session.commit()
    assert report.summary()["updated"] == 1
    a1 = session.scalars(select(Article).where(Article.external_id == "art-1")).one()
    assert a1.id == first["art-1"][0]
    assert a1.content_hash != first["art-1"][1]
    assert _count(session) == 2


def test_malformed_row_commits_nothing(session: Session, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "bad.jsonl",
                        [_record(1), "{not json", _record(3, url="ftp://x"), _record(4, title=" ")])
    with pytest.raises(ImportFailed) as info:
        import_file(session, path)
    session.rollback()
    lines = [(e.line, e.reason.split(":")[0]) for e in info.value.errors]
    assert lines == [(2, "not valid JSON"), (3, "url"), (4, "title")]
    assert all(e.file == str(path) for e in info.value.errors)
    assert _count(session) == 0


def test_skip_invalid_imports_the_rest_and_lists_skips(session: Session, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "bad.jsonl",
                        [_record(1), _record(1, title="dup id"), _record(3, status="gone")])
    report = import_file(session, path, skip_invalid=True)
    session.commit()
    assert [e.line for e in report.skipped] == [2, 3]
    assert "duplicate id" in report.skipped[0].reason
    assert "status" in report.skipped[1].reason
    assert _count(session) == 1


def test_url_taken_by_another_article_is_an_error(session: Session, tmp_path: Path) -> None:
    import_file(session, _write_jsonl(tmp_path / "a.jsonl", [_record(1)]))
    session.commit()
    other = _record(9, url="https://mag.example/1")
    with pytest.raises(ImportFailed, match="1 invalid"):
        import_file(session, _write_jsonl(tmp_path / "b.jsonl", [other]))


def test_statuses_and_scheduling(session: Session, tmp_path: Path) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    records = [_record(1, status="draft", published_at=None),
               _record(2, published_at=future),
               _record(3, status="unpublished"),
               _record(4, published_at=None)]
    import_file(session, _write_jsonl(tmp_path / "s.jsonl", records))
    session.commit()
    by_id = {a.external_id: a for a in session.scalars(select(Article))}
    assert by_id["art-1"].status == "draft"
    assert by_id["art-2"].status == "scheduled"
    assert not by_id["art-2"].is_live()
    assert by_id["art-2"].is_live(datetime.now(UTC) + timedelta(days=4))
    assert by_id["art-3"].status == "unpublished"
    assert by_id["art-4"].is_live()  # published without a date: live from import time


def test_csv_import(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "id,url,title,dek,body,authors,tags,section,content_type,published_at,status\n"
        'c1,https://mag.example/c1,"Title, with comma",Dek,"Body one",A; B,x;y,Asia,'
        "analysis,2024-05-01T00:00:00Z,published\n"
        "c2,https://mag.example/c2,Second,,Body two,,,,,,draft\n"
    )
    report = import_file(session, path)
    session.commit()
    assert report.summary()["added"] == 2
    c1 = session.scalars(select(Article).where(Article.external_id == "c1")).one()
    assert c1.title == "Title, with comma"
    assert c1.authors == ["A", "B"]
    assert c1.tags == ["x", "y"]
    assert c1.content_type == "analysis"


def test_csv_without_header_fails(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "nohead.csv"
    path.write_text("1,https://x.example/1,T\n")
    with pytest.raises(ImportFailed, match="invalid"):
        import_file(session, path)


def test_non_utf8_bytes_are_replaced(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    raw = json.dumps(_record(1, title="Caf\u00e9"), ensure_ascii=False).encode("utf-8")
    line = raw.replace(b"Caf\xc3\xa9", b"Caf\xe9")
    path.write_bytes(line + b"\n")
    import_file(session, path)
    session.commit()
    assert session.scalars(select(Article)).one().title == "Caf\ufffd"


def test_ten_thousand_articles(session: Session, tmp_path: Path) -> None:
    records = [_record(n, body=f"Body {n} " * 50) for n in range(10_000)]
    path = _write_jsonl(tmp_path / "big.jsonl", records)
    report = import_file(session, path)
    session.commit()
    assert report.summary()["added"] == 10_000
    assert _count(session) == 10_000
    report = import_file(session, path)
    session.rollback()
    assert report.summary()["unchanged"] == 10_000


def test_batch_problems_are_worded_per_line(session: Session, tmp_path: Path) -> None:
    import_file(session, _write_jsonl(tmp_path / "a.jsonl", [_record(100)]))
    session.commit()
    path = _write_jsonl(tmp_path / "b.jsonl", [
        _record(1), _record(1, url="https://mag.example/x"), _record(3, url="https://mag.example/1"),
        _record(4, url="https://mag.example/100"), ["not", "an", "object"]])
    with pytest.raises(ImportFailed) as info:
        import_file(session, path)
    assert [str(e) for e in info.value.errors] == [
        f"{path}:2: id: duplicate id 'art-1' (first at line 1)",
        f"{path}:3: url: duplicate url (first at line 1)",
        f"{path}:4: url: already used by article 'art-100'",
        f"{path}:5: expected an object with id, url and title"]


def test_the_format_comes_from_the_extension_or_is_named(session: Session, tmp_path: Path) -> None:
    tsv = tmp_path / "a.tsv"
    tsv.write_text("id\turl\ttitle\nt1\thttps://mag.example/t1\tTabbed, with comma\n"
                   "t2\thttps://mag.example/t2\tToo\tmany\n")
    report = import_file(session, tsv, skip_invalid=True)
    assert [str(e) for e in report.skipped] == [f"{tsv}:3: more fields than the header names"]
    assert session.scalars(select(Article.title)).all() == ["Tabbed, with comma"]
    text = _write_jsonl(tmp_path / "a.txt", [_record(1)])
    with pytest.raises(ValueError, match="cannot tell the format"):
        import_file(session, text)
    assert import_file(session, text, fmt="jsonl").summary()["added"] == 1
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        import_file(session, text, fmt="xml")
