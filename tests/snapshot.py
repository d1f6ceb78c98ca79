"""Replay what a command wrote to the database, instead of running it again.

The seed loader takes about a second (nine publishes, each with its signals, search and
reference indexing) and most tests start from it. In a rolled-back test nothing it does
outlives the test, so each test process runs the real command once, records every row it
added, changed or removed (raw SQL, every table), and later tests get the same rows back
in a few queries. It replays only onto the same starting state it was recorded from
(compared per table it touched); anything else runs the real command.

Cache entries are not replayed: the command's (a response-cache generation token, Wagtail's
site root paths) are made again on first use, and a token shared by every test would let
one test's process-local cached response be served in another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

# SQLite keeps an FTS5 index's data in shadow tables written through the virtual table.
FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    derived: set[str] = set()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
            virtual = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
        derived = {f"{table}{suffix}" for table in virtual for suffix in FTS5_SHADOWS}
        # Tables that triggers keep in step (Wagtail's FTS5 index): replaying the table the
        # trigger watches writes them again.
        derived |= {n for n in names for on, sql in triggers if n != on and n in sql}
    derived |= {
        config["LOCATION"]
        for config in settings.CACHES.values()
        if config["BACKEND"].endswith("DatabaseCache")
    }
    return [n for n in names if n not in derived and not n.startswith("sqlite_")]


def _key_column(table: str) -> str:
    """The primary key column, or SQLite's rowid for tables without one (FTS5 tables)."""
    with connection.cursor() as cursor:
        column = connection.introspection.get_primary_key_column(cursor, table)
    if column:
        return column
    if connection.vendor == "sqlite":
        return "rowid"
    raise LookupError(f"{table} has no primary key")


def _rows(table: str, key: str) -> dict:
    """Every row of ``table`` by key: tuples on SQLite, JSON text on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {_quote(key)}, row_to_json(t)::text FROM {_quote(table)} t")  # noqa: S608
            return dict(cursor.fetchall())
        cursor.execute(f"SELECT {_quote(key)}, * FROM {_quote(table)}")  # noqa: S608
        columns = [c[0] for c in cursor.description][1:]
        return {row[0]: (columns, tuple(row[1:])) for row in cursor.fetchall()}


def _signature(table: str, key: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX({_quote(key)}) FROM {_quote(table)}")  # noqa: S608
        return tuple(cursor.fetchone())


@dataclass
class TableChange:
    table: str
    key: str
    before: tuple  # (count, max key) of the table the change was recorded on
    removed: list = field(default_factory=list)  # keys deleted or rewritten
    written: list = field(default_factory=list)  # rows inserted (new or rewritten)

    def replay(self) -> None:
        table, key = _quote(self.table), _quote(self.key)
        with connection.cursor() as cursor:
            for start in range(0, len(self.removed), 500):
                chunk = self.removed[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {table} WHERE {key} IN ({marks})", chunk)  # noqa: S608
        _insert(self.table, self.key, self.written)


def _insert(table: str, key: str, written: list) -> None:
    """Insert rows in the form :func:`_written` gives, a table's worth per statement."""
    if not written:
        return
    name = _quote(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {name} SELECT * FROM json_populate_recordset(NULL::{name}, %s::json)",  # noqa: E501, S608
                ["[" + ",".join(written) + "]"],
            )
            return
        columns = written[0][1][0]
        if key == "rowid":
            columns = ["rowid", *columns]
        names = ", ".join(_quote(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {name} ({names}) VALUES ({marks})",  # noqa: S608
            [(k, *values) if key == "rowid" else values for k, (_cols, values) in written],
        )


class Recording:
    """What one run of ``action`` wrote to the database; ``replay()`` writes it again."""

    def __init__(self, changes: list[TableChange]) -> None:
        self.changes = changes

    @classmethod
    def record(cls, action: Callable[[], object]) -> Recording | None:
        """Run ``action`` for real; return what it wrote (None if it cannot be replayed)."""
        try:
            tables = {table: _key_column(table) for table in _tables()}
        except LookupError:
            action()
            return None
        before = {table: _rows(table, key) for table, key in tables.items()}
        signatures = {table: _signature(table, key) for table, key in tables.items()}
        action()
        changes = []
        for table, key in tables.items():
            old, new = before[table], _rows(table, key)
            if old == new:
                continue
            change = TableChange(table, key, signatures[table])
            change.removed = [k for k, row in old.items() if new.get(k) != row]
            change.written = [_written(k, row) for k, row in new.items() if old.get(k) != row]
            changes.append(change)
        return cls(changes)

    def matches(self) -> bool:
        """True when every table it touches starts as it did when it was recorded."""
        return all(_signature(c.table, c.key) == c.before for c in self.changes)

    def replay(self) -> None:
        for change in self.changes:
            change.replay()


def _written(key, row):
    """The form TableChange.replay() inserts: JSON text (PostgreSQL) or (key, row) (SQLite)."""
    return row if connection.vendor == "postgresql" else (key, row)


def all_rows() -> list[TableChange]:
    """Every row of the tables Django's ``flush`` empties, for :func:`put_back`.

    Those are its models' tables; the migration history and derived tables stay as they are.
    """
    flushed = set(connection.introspection.django_table_names(only_existing=True))
    contents = []
    for table in [t for t in _tables() if t in flushed]:
        key = _key_column(table)
        rows = _rows(table, key)
        if rows:
            written = [_written(k, row) for k, row in rows.items()]
            contents.append(TableChange(table, key, (0, None), written=written))
    return contents


def put_back(contents: list[TableChange]) -> None:
    """Insert rows taken by :func:`all_rows` into emptied tables: raw SQL, so no signals.

    Call inside a transaction: foreign keys are checked at its commit (Django makes them
    deferrable on both databases), so tables can go back in any order.
    """
    for change in contents:
        change.replay()
