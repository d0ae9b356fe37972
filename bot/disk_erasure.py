"""Deleted conversations must not stay readable on disk.

SQLite leaves deleted rows in the free pages of its file, and older copies of pages in
its write-ahead log: with `secure_delete` it overwrites deleted rows with zeros, and a
truncating checkpoint empties the log (retried while a reader holds it).

PostgreSQL keeps deleted rows as dead tuples in the table files until they are
overwritten: the retention job rewrites the tables (`VACUUM FULL`, see vacuum()), so a
deleted or erased message leaves the table files within a day. Old WAL segments are
recycled by the server (docs/deploy.md says what remains where).
"""

import logging
import time
from typing import Any, Iterable

import sqlalchemy as sa

logger = logging.getLogger(__name__)
CHECKPOINT_ATTEMPTS = 5


def zero_deleted_rows(engine: sa.engine.Engine) -> None:
    """On SQLite, every connection of this engine overwrites the rows it deletes."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _secure_delete)


def _secure_delete(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=ON")


def forget_on_disk(connection: sa.engine.Connection) -> bool:
    """After a deletion on SQLite: move the write-ahead log into the file and empty it.
    Returns False when a reader kept the log busy through every attempt (logged)."""
    if connection.dialect.name != "sqlite":
        return True
    for attempt in range(CHECKPOINT_ATTEMPTS):
        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        if not busy or not busy[0]:
            return True
        time.sleep(0.1 * (attempt + 1))
    logger.warning(
        "The write-ahead log could not be emptied (a reader held it); the next deletion or checkpoint will."
    )
    return False


def vacuum(engine: sa.engine.Engine, tables: Iterable[str]) -> None:
    """On PostgreSQL, rewrites the tables so that deleted rows leave their files."""
    if engine.dialect.name != "postgresql":
        return
    inspector = sa.inspect(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        preparer = engine.dialect.identifier_preparer
        for table in tables:
            if inspector.has_table(table):
                connection.exec_driver_sql(f"VACUUM FULL {preparer.quote(table)}")


def quiet_server_log(engine: sa.engine.Engine) -> bool:
    """On PostgreSQL, keeps failing statements (and so message texts) out of the server
    log: `ALTER DATABASE <db> SET log_min_error_statement = panic`. Needs a superuser
    (or, from PostgreSQL 15, `GRANT SET ON PARAMETER`); returns False when refused."""
    if engine.dialect.name != "postgresql":
        return True
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = connection.exec_driver_sql("SELECT current_database()").scalar()
            quoted = engine.dialect.identifier_preparer.quote(name)
            connection.exec_driver_sql(f"ALTER DATABASE {quoted} SET log_min_error_statement = 'panic'")
        return True
    except sa.exc.DBAPIError as error:
        logger.warning(
            "Could not set log_min_error_statement (%s): run, as a PostgreSQL superuser, "
            "ALTER DATABASE <db> SET log_min_error_statement = 'panic' (docs/deploy.md).",
            type(error.orig).__name__,
        )
        return False
