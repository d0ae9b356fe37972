"""The production profile's PostgreSQL database.

    python -m deploy.database init        tables (conversations, feedback, knowledge) and
                                          the knowledge content; creates the database when
                                          missing. Reads TRACKER_DB_URL and KNOWLEDGE_DB_URL
                                          (default: the same). Idempotent: run it at every
                                          installation or upgrade (assistant-init.service,
                                          the Kubernetes Job, `make run-prod`).

`local_database()` gives `make run-prod` and `make test-prod` a role and a database on the
local Debian cluster (as root; the role's password is kept in var/prod/db_password).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

from deploy.template import SetupError
from knowledge.loader import load_database
from project_paths import VAR_DIR

PROD_DIR = VAR_DIR / "prod"
# The local profile's own role and database: never the `assistant` ones that
# docs/deploy.md creates on a server (whose password this must not touch).
LOCAL_NAME = "assistant_local"


def local_clusters() -> List[Dict[str, str]]:
    """Debian's PostgreSQL clusters (pg_lsclusters), online ones first."""
    if shutil.which("pg_lsclusters") is None:
        return []
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout
    clusters = [
        dict(zip(("version", "name", "port", "status"), line.split()[:4]))
        for line in out.splitlines()
        if len(line.split()) >= 4
    ]
    return sorted(clusters, key=lambda c: c["status"] != "online")


def _psql_as_postgres(port: str, sql: str) -> str:
    # The SQL goes through stdin: a password in it never shows in the process list.
    command = [
        "runuser",
        "-u",
        "postgres",
        "--",
        "psql",
        "-p",
        port,
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        "postgres",
    ]
    done = subprocess.run(command, input=sql, capture_output=True, text=True, cwd="/")
    if done.returncode != 0:
        raise SetupError(f"psql on the local cluster failed: {done.stderr.strip()}")
    return done.stdout.strip()


def local_database(dbname: str = LOCAL_NAME, role: str = LOCAL_NAME, prod_dir: Path = PROD_DIR) -> str:
    """The URL of database `dbname` on the local cluster, owned by `role` (both created
    when missing; the role may create databases, which the tests use). Needs root."""
    online = [c for c in local_clusters() if c["status"] == "online"]
    if not online:
        raise SetupError(
            "No running PostgreSQL: set PROD_DATABASE_URL, or install and start a "
            "local one (make run-prod does both as root)."
        )
    if os.geteuid() != 0:
        raise SetupError(
            "Creating the local database needs root (it runs psql as postgres). "
            "Run as root, or create a database and set PROD_DATABASE_URL."
        )
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", role) or not re.fullmatch(r"[a-z_][a-z0-9_]*", dbname):
        raise SetupError("Role and database names: lower-case letters, digits and _ only.")
    password_file = prod_dir / "db_password"
    if not password_file.exists():
        prod_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24))  # hex: safe inside SQL and URLs
    password = password_file.read_text().strip()
    port = online[0]["port"]
    _psql_as_postgres(
        port,
        (
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'; "
            f"ELSE ALTER ROLE {role} LOGIN CREATEDB PASSWORD '{password}'; END IF; END $$;"
        ),
    )
    if _psql_as_postgres(port, f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'") != "1":
        _psql_as_postgres(port, f"CREATE DATABASE {dbname} OWNER {role}")
    return f"postgresql://{role}:{password}@127.0.0.1:{port}/{dbname}"


def safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url


def ensure_database(url: str) -> bool:
    """Creates the PostgreSQL database of `url` when it does not exist (connecting to the
    server's `postgres` database with the same credentials). True when created."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    engine = sa.create_engine(parsed)
    try:
        with engine.connect():
            return False  # it exists (and may be all this user can reach)
    except sa.exc.OperationalError as error:
        if "does not exist" not in str(error.orig):
            raise
    finally:
        engine.dispose()
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{parsed.database.replace(chr(34), chr(34) * 2)}"'))
            return True
    finally:
        engine.dispose()


def drop_database(admin_url: str, dbname: str) -> None:
    """Drops a database (the tests' own), closing its connections first."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        sa.engine.make_url(admin_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{dbname.replace(chr(34), chr(34) * 2)}" WITH (FORCE)')
            )
    finally:
        engine.dispose()


def init_db(tracker_url: str, knowledge_url: str) -> str:
    """Database(s), tables (conversations, feedback, knowledge) and knowledge content.
    Returns a summary line."""
    created = [safe_url(u) for u in dict.fromkeys([tracker_url, knowledge_url]) if ensure_database(u)]
    # Here, not at the top: they import Rasa (TensorFlow, seconds), which only this
    # command needs among the module's commands.
    from bot import feedback
    from bot.tracker_store import ErasableSQLTrackerStore

    ErasableSQLTrackerStore(url=tracker_url).engine.dispose()  # creates the events table
    feedback.engine(tracker_url).dispose()  # creates the feedback table
    topics = load_database(knowledge_url)
    return (
        f"Database ready ({'created ' + ', '.join(created) + '; ' if created else ''}"
        f"{topics} topics loaded into {safe_url(knowledge_url)})."
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.database", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="database, tables and knowledge content")
    init.add_argument("--db", help="conversations database (default TRACKER_DB_URL)")
    init.add_argument("--knowledge-db", help="knowledge database (default KNOWLEDGE_DB_URL, else --db)")
    args = parser.parse_args(argv)
    tracker = args.db or os.environ.get("TRACKER_DB_URL")
    if not tracker:
        print("deploy.database init: set TRACKER_DB_URL (or pass --db).", file=sys.stderr)
        return 2
    knowledge = args.knowledge_db or os.environ.get("KNOWLEDGE_DB_URL") or tracker
    print(init_db(tracker, knowledge), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
