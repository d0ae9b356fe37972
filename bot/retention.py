"""Deletes conversations (and feedback) older than the retention period.

`python -m bot.retention [--days N]`, run daily (cron or a systemd timer): a
conversation whose last event is older than N days (RETENTION_DAYS, default 30) is
deleted whole.
"""
import argparse
import logging
import os
import time
from datetime import datetime, timezone
from typing import Optional

import sqlalchemy as sa

from bot import feedback
from bot.disk_erasure import forget_on_disk, zero_deleted_rows
from bot.settings import tracker_db_url

logger = logging.getLogger(__name__)


def delete_old_conversations(db_url: str, days: int, now: Optional[float] = None) -> int:
    """Deletes stale conversations and old feedback; returns how many conversations."""
    cutoff = (now or time.time()) - days * 86400
    engine = sa.create_engine(db_url, future=True)
    zero_deleted_rows(engine)
    try:
        deleted = _delete_stale_trackers(engine, cutoff)
        feedback.delete_older_than(datetime.fromtimestamp(cutoff, tz=timezone.utc), db_url)
        with engine.connect() as connection:
            forget_on_disk(connection)
    finally:
        engine.dispose()
    return deleted


def _delete_stale_trackers(engine: sa.engine.Engine, cutoff: float) -> int:
    try:
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        return 0
    last_activity = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    with engine.begin() as connection:
        stale = [row[0] for row in connection.execute(last_activity)]
        for chunk in range(0, len(stale), 500):
            connection.execute(events.delete().where(events.c.sender_id.in_(stale[chunk:chunk + 500])))
    return len(stale)


def days(value: str) -> int:
    """A number of days >= 1: a typo (`--days -1`, `RETENTION_DAYS=0`) must not delete
    every conversation, including the ones going on."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"a whole number of days, at least 1 (got {value!r})")
    return number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=days, default=os.environ.get("RETENTION_DAYS", "30"),
                        help="default: RETENTION_DAYS, or 30")
    parser.add_argument("--db", default=tracker_db_url())
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    count = delete_old_conversations(args.db, args.days)
    logger.info("Deleted %d conversation(s) older than %d days.", count, args.days)


if __name__ == "__main__":
    main()
