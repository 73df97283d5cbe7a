"""A Core SELECT compiled once per dialect and run straight on the driver's cursor.

The readers' path runs one small query per page view. Through ``Connection.execute`` most of its
cost was SQLAlchemy's per-execution machinery (cache lookup, parameter and result processing set
up anew), several times the query itself. ``Prepared`` keeps what SQLAlchemy would compute each
time: the SQL text, the order of its parameters, the constants' values and the type conversions
of every parameter and column, all taken from SQLAlchemy's own types for the dialect (so a
datetime is stored and read exactly as the ORM does). PostgreSQL's driver (psycopg) then also
prepares the statement on the server once it has run a few times on a connection.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    order: tuple[str, ...]  # parameter names in the order of the placeholders (positional)
    constants: dict[str, Any]  # the statement's own bound values, already converted
    binds: dict[str, Processor]  # conversions of the caller's parameters
    columns: tuple[Any, ...]
    row: Any  # a namedtuple class named after the selected columns


class Prepared:
    """One SELECT, run with ``rows(connection, **parameters)``; rows are named tuples."""

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._results: dict[str, tuple[Processor, ...]] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect)
        binds = compiled.binds
        wanted = {name for name, bind in binds.items()
                  if bind.required or (bind.value is None and bind.callable is None)}
        processors: dict[str, Processor] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()}
        constants = {}
        for name, value in compiled.construct_params(dict.fromkeys(wanted)).items():
            if name not in wanted:
                processor = processors.get(name)
                constants[name] = processor(value) if processor else value
        columns = tuple(self._statement.selected_columns)
        names = list(self._statement.selected_columns.keys())
        row = namedtuple("row", names)  # type: ignore[misc]  # names known only here
        return _Compiled(sql=compiled.string, positional=compiled.positional,
                         order=tuple(compiled.positiontup or ()), constants=constants,
                         binds={name: processors.get(name) for name in wanted},
                         columns=columns, row=row)

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compiled.get(dialect.name)
                if found is None:
                    found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def rows(self, source: Connection | Engine, **parameters: Any) -> list[Any]:
        """Run it on this connection (its transaction) or on a pooled one of this engine."""
        if isinstance(source, Engine):
            raw = source.raw_connection()
            try:
                return self._run(raw.driver_connection, source.dialect, parameters)
            finally:
                raw.close()  # back to the pool, rolled back
        return self._run(source.connection.driver_connection, source.dialect, parameters)

    def _run(self, driver: Any, dialect: Dialect, parameters: Mapping[str, Any]) -> list[Any]:
        compiled = self.compiled(dialect)
        values = dict(compiled.constants)
        for name, processor in compiled.binds.items():
            value = parameters[name]
            values[name] = processor(value) if processor else value
        args: Any = tuple(values[name] for name in compiled.order) if compiled.positional \
            else values
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, args)
            fetched = cursor.fetchall()
            results = self._results.get(dialect.name)
            if results is None:  # some conversions depend on the driver's column types
                results = self._results[dialect.name] = tuple(
                    column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                    for column, described in zip(compiled.columns, cursor.description,
                                                 strict=True))
        finally:
            cursor.close()
        make = compiled.row._make
        return [make([p(v) if p else v for p, v in zip(results, raw_row, strict=True)])
                for raw_row in fetched]
