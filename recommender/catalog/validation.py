"""Checking a batch of incoming records: each record, duplicates inside the batch, URLs already taken.

A file import, a source sync and the publish webhook each receive many records at once and must
refuse the same things, so this is the one place that decides. It decides nothing else: every
problem comes back with where it was found (a file's line, a request's index, a feed's entry), the
field at fault and what is wrong, so each edge words it its own way and decides what a problem
costs (the whole file, one entry, the whole request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.orm import Session

from recommender.catalog.articles import ArticleInput, InvalidArticle, parse_article
from recommender.catalog.storing import find_url_conflicts
from recommender.storage.schema import site_of, utcnow

Where = TypeVar("Where")
Kind = Literal["invalid", "duplicate", "taken"]

# Valid stand-ins: once a field's problem is recorded, the record is re-checked with the field
# replaced, so one request can report every bad field of every item, not the first of each.
STAND_INS: dict[str, Any] = {
    "id": "stand-in", "url": "https://stand-in.invalid/", "title": "stand-in", "dek": "",
    "body": "", "authors": [], "tags": [], "section": "", "content_type": "", "language": "",
    "published_at": "2000-01-01T00:00:00Z", "updated_at": None, "status": "draft", "image": None,
}


# --- #17 items 3-4: characters no database stores, and links a reader must never follow
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
IDENTIFIERS = frozenset({"id", "url", "image"})  # stored and matched as given: no cleaning
IMAGE_SCHEMES = ("http", "https")


def character_problem(name: str, value: Any) -> str | None:
    """What is wrong with the characters of one field's value (a string or a list of them), or
    None. A lone surrogate ("\\ud800": not text, no database can store it) is refused in any
    field, and any control character (NUL included: PostgreSQL refuses it) in an id or a URL,
    which would otherwise be created once and then never be found again. Other text fields
    keep having their control characters cleaned away. The value itself is never quoted: it
    may not even be printable."""
    values = value if isinstance(value, list | tuple) else [value]
    for item in values:
        if not isinstance(item, str):
            continue
        if _SURROGATE.search(item):
            return "contains a lone surrogate (not valid Unicode text)"
        if name in IDENTIFIERS and _CONTROL.search(item):
            return "contains a control character (such as NUL or a line break)"
    return None


def image_problem(image: str | None) -> str | None:
    """A stored image URL is shown to readers as a link's picture: only http(s) ones are
    kept, so a ``javascript:`` or ``data:`` URL sent by a CMS or a file never reaches a page."""
    if image is None:
        return None
    scheme, sep, rest = image.partition(":")
    if not sep or scheme.strip().lower() not in IMAGE_SCHEMES or not rest.startswith("//") \
            or len(rest) <= 2:
        return f"expected an absolute {' or '.join(IMAGE_SCHEMES)} URL"
    return None


def _parse(record: Any, now: datetime) -> ArticleInput:
    """``parse_article``, then the checks on what it returns (the image's scheme)."""
    item = parse_article(record, now)
    problem = image_problem(item.image)
    if problem is not None:
        raise InvalidArticle(f"image: {problem}")
    return item


@dataclass(frozen=True)
class Problem(Generic[Where]):
    """One reason a record was refused.

    ``kind`` says which check refused it: ``invalid`` (the record itself), ``duplicate`` (its id
    or URL came earlier in the batch, at ``first``) or ``taken`` (another stored article has its
    URL). The last two carry the refused ``item``, which some edges quote.
    """

    where: Where
    field: str | None
    message: str
    kind: Kind = "invalid"
    first: Where | None = None
    item: ArticleInput | None = None

    @property
    def text(self) -> str:
        """The field and the message in one line, worded as :class:`InvalidArticle` words it."""
        return f"{self.field}: {self.message}" if self.field is not None else self.message


def check_record(record: Any, now: datetime,
                 every_field: bool = False) -> tuple[ArticleInput | None, list[tuple[str | None, str]]]:
    """One record: (the article, []) or (None, [(field, message), ...]).

    Only the first problem is found unless ``every_field``; a record that is already an
    :class:`InvalidArticle` (an entry its reader could not read) is reported as it is.
    """
    if isinstance(record, InvalidArticle):
        return None, [(record.field, record.reason)]
    trial: Any = dict(record) if isinstance(record, Mapping) else record
    found: list[tuple[str | None, str]] = []
    for key in STAND_INS if isinstance(trial, dict) else ():
        problem = character_problem(key, trial.get(key))
        if problem is not None:
            found.append((key, problem))
            if not every_field:
                return None, found
            trial[key] = STAND_INS[key]
    for _ in range(len(STAND_INS) + 1):
        try:
            item = _parse(trial, now)
        except InvalidArticle as exc:
            found.append((exc.field, exc.reason))
            name = exc.field
            if (not every_field or name is None or name not in STAND_INS
                    or trial.get(name) == STAND_INS[name]):
                break
            trial[name] = STAND_INS[name]
            continue
        return (None if found else item), found
    return None, found


def validate_batch(session: Session, records: Iterable[tuple[Where, Any]], *,
                   now: datetime | None = None,
                   every_field: bool = False, check_taken: bool = True,
                   ) -> tuple[list[ArticleInput], list[Problem[Where]]]:
    """Every (where, record) checked: (the articles to store, the problems in record order).

    A record whose id or URL came earlier in the batch is a duplicate (the id is checked first,
    and only the first copy counts, so a refused record reserves nothing); an article whose URL
    another stored article (another CMS id) already has is refused too. Neither is stored. Reads
    the database (no writes), so a caller that must not lose a URL meanwhile validates under its
    writer lock. Ids are compared per site (the host of the URL): two sites may both have a "12".
    Syncs pass ``check_taken=False``: there a stored article with the same URL is the same article
    (a feed's entry seen again in the sitemap), which ``upsert_articles(match_url=True)`` updates.
    """
    moment = now or utcnow()
    items: list[ArticleInput] = []
    placed: list[tuple[int, Problem[Where]]] = []  # (position in the batch, problem)
    position_of: dict[str, int] = {}
    where_of_id: dict[tuple[str, str], Where] = {}
    where_of_url: dict[str, Where] = {}
    for position, (where, record) in enumerate(records):
        item, found = check_record(record, moment, every_field)
        placed.extend((position, Problem(where, name, message)) for name, message in found)
        if item is None:
            continue
        key = (site_of(item.url), item.external_id)
        if key in where_of_id:
            placed.append((position, Problem(where, "id", f"duplicate id {item.external_id!r}",
                                             "duplicate", where_of_id[key], item)))
        elif item.url in where_of_url:
            placed.append((position, Problem(where, "url", "duplicate url", "duplicate",
                                             where_of_url[item.url], item)))
        else:
            where_of_id[key] = where_of_url[item.url] = where
            position_of[item.url] = position
            items.append(item)
    conflicts = find_url_conflicts(session, items) if check_taken else {}
    for item in (i for i in items if i.url in conflicts):
        placed.append((position_of[item.url],
                       Problem(where_of_url[item.url], "url",
                               f"already used by article {conflicts[item.url]!r}",
                               "taken", item=item)))
    placed.sort(key=lambda entry: entry[0])
    return [i for i in items if i.url not in conflicts], [p for _, p in placed]
