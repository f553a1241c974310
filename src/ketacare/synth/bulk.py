"""Fast row writers over the project's own tables: COPY on PostgreSQL, executemany on SQLite.

Rows go into the tables the models define, with the database's own constraints (not-null,
checks, unique, foreign keys) checked as they land. Values are given already in database form:
datetimes as naive UTC text (`db_datetime`), dates as ISO text, JSON as text. Columns a caller
leaves out take the model field's default, so a new field with a default needs no change here,
and a new required field makes the writer refuse to start, naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

from ketacare.dbstats import database_optimize

BATCH_ROWS = 20_000


def db_datetime(value: datetime) -> str:
    """An aware datetime as the naive UTC text Django stores on SQLite (and PostgreSQL reads)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value.replace(tzinfo=None))


def db_json(value: object) -> str:
    """JSON text for a JSONField column."""
    return json.dumps(value, separators=(",", ":"))


class TableWriter:
    """Buffers rows for one model's table and writes them in batches."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.model = model
        self.table = model._meta.db_table
        # The database computes generated columns itself.
        fields = {
            f.attname: f for f in model._meta.concrete_fields if not getattr(f, "generated", False)
        }
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise ValueError(f"{self.table}: no such columns {unknown}")
        tail: dict[str, Any] = {}
        for name, field in fields.items():
            if name in columns:
                continue
            if field.primary_key:
                raise ValueError(f"{self.table}: the writer assigns primary keys; give '{name}'")
            default = field.get_default()
            if isinstance(field, models.JSONField):
                default = db_json(default)
            elif default is None and not field.null:
                raise ValueError(f"{self.table}: required column '{name}' was not given")
            tail[name] = default
        self.columns = [*columns, *tail]
        # Choices are not database constraints: check them here, so a typo cannot load.
        self.choices = [
            (i, frozenset(str(value) for value, _ in fields[name].flatchoices))
            for i, name in enumerate(columns)
            if fields[name].choices
        ]
        self.tail = tuple(tail.values())
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0
        self.next_id = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    def new_id(self) -> int:
        """The primary key of the next row this writer will add."""
        value = self.next_id
        self.next_id += 1
        return value

    def add(self, *values: Any) -> None:
        """Queue one row (values in the order of the columns given)."""
        for i, allowed in self.choices:
            if values[i] not in allowed and not (values[i] == "" and "" in allowed):
                raise ValueError(f"{self.table}.{self.columns[i]}: {values[i]!r} is not a choice")
        self.rows.append(values + self.tail)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows."""
        if not self.rows:
            return
        _write(self.table, self.columns, self.rows)
        self.written += len(self.rows)
        self.rows = []


def _write(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = connection.connection
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)  # noqa: S608


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """After writing explicit primary keys, move PostgreSQL's sequences past them."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_list)):
            cursor.execute(sql)


def tune_for_bulk() -> None:
    """Trade durability for speed while the network is generated (SQLite only; reset after)."""
    connection.ensure_connection()
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")


def analyze() -> None:
    """Refresh the planner's statistics after a bulk load, on either database."""
    database_optimize(full=True)
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")
