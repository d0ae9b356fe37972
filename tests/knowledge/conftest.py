"""Fixtures of the knowledge tests: our own small content and a database per backend.

db_url runs each test on SQLite and, when TEST_POSTGRES_URL is set, also on PostgreSQL
in a throw-away schema.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from project_paths import REPO_ROOT

if str(REPO_ROOT) not in sys.path:  # so `import knowledge` works however pytest is started
    sys.path.insert(0, str(REPO_ROOT))

from kb_fixtures import write_content  # noqa: E402

from project_paths import REPO_ROOT


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A complete, valid content folder of the fixture topics."""
    return write_content(tmp_path / "content")


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path: Path):
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'knowledge.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_POSTGRES_URL"])
    schema = f"kbtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
