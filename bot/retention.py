"""Deletes the messages (and feedback) older than the retention period.

`python -m bot.retention [--days N]`, run daily (cron or a systemd timer): every stored
event older than N days (RETENTION_DAYS, default 30) is deleted, message by message: a
person who comes back keeps only their recent messages. Then the deleted rows are
removed from the database files (SQLite: zeroed and the WAL emptied; PostgreSQL:
`VACUUM FULL`), the review inbox (var/inbox.yml, when there is one) loses the entries
whose messages are gone, and PostgreSQL is told to keep statements out of its log.
"""

import argparse
import logging
import os
import time
from datetime import datetime, timezone
from typing import Dict, Optional

import sqlalchemy as sa

from bot import feedback
from bot.disk_erasure import forget_on_disk, quiet_server_log, vacuum, zero_deleted_rows
from bot.settings import private_files, tracker_db_url
from project_paths import VAR_DIR
from retrain.inbox import prune_inbox

logger = logging.getLogger(__name__)
DEFAULT_INBOX = VAR_DIR / "inbox.yml"


def delete_old_messages(
    db_url: str, days: int, now: Optional[float] = None, inbox=DEFAULT_INBOX
) -> Dict[str, int]:
    """Deletes the events and votes older than `days`; returns counts (never ids)."""
    cutoff = (now or time.time()) - days * 86400
    engine = sa.create_engine(db_url, future=True)
    zero_deleted_rows(engine)
    try:
        counts = _delete_old_events(engine, cutoff)
        counts["feedback"] = feedback.delete_older_than(
            datetime.fromtimestamp(cutoff, tz=timezone.utc), db_url
        )
        with engine.connect() as connection:
            forget_on_disk(connection)
        vacuum(engine, ["events", "feedback"])
        quiet_server_log(engine)
    finally:
        engine.dispose()
    counts["inbox_entries"] = _prune_inbox(inbox, db_url)
    return counts


def delete_old_conversations(db_url: str, days: int, now: Optional[float] = None) -> int:
    """Kept for callers of the first version: how many conversations disappeared."""
    return delete_old_messages(db_url, days, now)["conversations"]


def _delete_old_events(engine: sa.engine.Engine, cutoff: float) -> Dict[str, int]:
    try:
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        return {"events": 0, "conversations": 0}
    senders = sa.select(sa.func.count(sa.distinct(events.c.sender_id)))
    with engine.begin() as connection:
        before = connection.execute(senders).scalar()
        deleted = connection.execute(events.delete().where(events.c.timestamp < cutoff)).rowcount
        after = connection.execute(senders).scalar()
    return {"events": int(deleted or 0), "conversations": int(before - after)}


def _prune_inbox(inbox, db_url: str) -> int:
    if inbox is None or not os.path.exists(inbox):
        return 0
    return prune_inbox(inbox, db_url)


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
    parser.add_argument(
        "--days",
        type=days,
        default=os.environ.get("RETENTION_DAYS", "30"),
        help="default: RETENTION_DAYS, or 30",
    )
    parser.add_argument("--db", default=tracker_db_url())
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    os.umask(0o077)
    if args.db.startswith("sqlite") and str(VAR_DIR) in args.db:
        private_files()
    counts = delete_old_messages(args.db, args.days)
    logger.info(
        "Deleted %d message event(s) older than %d days (%d conversation(s) now empty), "
        "%d vote(s), %d inbox entry(ies).",
        counts["events"],
        args.days,
        counts["conversations"],
        counts["feedback"],
        counts["inbox_entries"],
    )


if __name__ == "__main__":
    main()
