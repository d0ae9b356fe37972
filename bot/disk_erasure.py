"""Deleted conversations must not stay readable on disk. SQLite leaves deleted rows in
the free pages of its file, and older copies of pages in its write-ahead log: with
`secure_delete` it overwrites deleted rows with zeros, and a truncating checkpoint
empties the log. (PostgreSQL reclaims deleted rows with VACUUM, as usual.)"""
from typing import Any

import sqlalchemy as sa


def zero_deleted_rows(engine: sa.engine.Engine) -> None:
    """On SQLite, every connection of this engine overwrites the rows it deletes."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _secure_delete)


def _secure_delete(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=ON")


def forget_on_disk(connection: sa.engine.Connection) -> None:
    """After a deletion: move the write-ahead log into the file and empty it."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
