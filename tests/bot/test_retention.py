"""bot/retention.py: messages are deleted by their own age (review S7), removed from the
database files too, and the inbox loses what they leave behind. SQLite always;
PostgreSQL too when TEST_POSTGRES_URL is set (.ci/run sets it)."""

import os
import secrets
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot.retention import delete_old_messages
from retrain.inbox import entry_id, write_inbox
from retrain.trainingdata import example_key
from tests.retrain.helpers import save_conversation, turn

DAY = 86400
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    admin = sa.engine.make_url(os.environ["TEST_POSTGRES_URL"])
    name = f"retention_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    engine.dispose()


def texts(url, sender=None):
    engine = sa.create_engine(url)
    query = "select data from events where type_name = 'user'" + (" and sender_id = :s" if sender else "")
    with engine.connect() as connection:
        found = [yaml.safe_load(row[0])["text"] for row in connection.execute(sa.text(query), {"s": sender})]
    engine.dispose()
    return found


OLD_TEXT = "ancien message de Quentilius Oldfield"
NEW_TEXT = "nouveau message sur le titre de séjour"


def fill(url, now):
    save_conversation(
        url,
        "returning",
        turn(OLD_TEXT, "nlu_fallback", 0.4, "incompris", timestamp=now - 45 * DAY),
        turn(NEW_TEXT, "nlu_fallback", 0.4, "incompris", timestamp=now - 2 * DAY),
    )
    save_conversation(
        url,
        "gone",
        turn("vieille conversation oubliée", "nlu_fallback", 0.4, "incompris", timestamp=now - 40 * DAY),
    )


def test_each_message_is_deleted_by_its_own_age(db_url, tmp_path):
    now = time.time()
    fill(db_url, now)
    counts = delete_old_messages(db_url, 30, now=now, inbox=None)
    assert texts(db_url, "returning") == [NEW_TEXT]  # the person came back: old words still go
    assert texts(db_url, "gone") == []
    assert counts["conversations"] == 1 and counts["events"] >= 10


def test_deleted_messages_leave_the_database_files(db_url, tmp_path):
    now = time.time()
    fill(db_url, now)
    delete_old_messages(db_url, 30, now=now, inbox=None)
    for raw in database_files(db_url):
        assert b"Quentilius" not in raw and b"Oldfield" not in raw
    assert b"nouveau message sur le titre" in b"".join(database_files(db_url))  # the files were read


def database_files(url):
    if url.startswith("sqlite"):
        path = Path(url.replace("sqlite:///", "", 1))
        return [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        data_dir = connection.exec_driver_sql("show data_directory").scalar()
        files = [
            connection.exec_driver_sql(f"select pg_relation_filepath('{t}')").scalar() for t in ("events",)
        ]
        connection.exec_driver_sql("checkpoint")  # dirty pages to the files
    engine.dispose()
    return [Path(data_dir, f).read_bytes() for f in files if f and Path(data_dir, f).exists()]


def test_the_inbox_loses_the_entries_of_deleted_messages(db_url, tmp_path):
    now = time.time()
    fill(db_url, now)
    inbox = tmp_path / "inbox.yml"
    ids = [entry_id(example_key(t)) for t in (OLD_TEXT, NEW_TEXT)]
    write_inbox(
        inbox,
        [
            {"id": ids[0], "text": "ancien message de <NAME>", "intent": "hors-sujet"},
            {"id": ids[1], "text": NEW_TEXT, "intent": ""},
        ],
    )
    counts = delete_old_messages(db_url, 30, now=now, inbox=inbox)
    left = yaml.safe_load(inbox.read_text(encoding="utf-8"))
    assert [e["id"] for e in left] == [ids[1]] and counts["inbox_entries"] == 1
    assert oct(inbox.stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only (TEST_POSTGRES_URL unset)")
def test_postgresql_keeps_statements_out_of_its_log(tmp_path):
    url = os.environ["TEST_POSTGRES_URL"]
    delete_old_messages(url, 30, inbox=None)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        settings = (
            connection.exec_driver_sql(
                "select setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase "
                "where d.datname = current_database()"
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert any("log_min_error_statement=panic" in (s or []) for s in settings), settings
