"""The production profile (deploy/run_prod.py) for tests/prod/, run by `make test-prod`
only (`make test` leaves this folder out).

One profile for the whole session: a fresh PostgreSQL database (made from
TEST_POSTGRES_URL, which .ci/run sets, else on the local Debian cluster), its own Redis,
2 action servers, 2 Rasa replicas and nginx, all on free loopback ports. The database is
dropped at the end.
"""
import os
import secrets
import shutil
import subprocess
import time

import pytest
import sqlalchemy as sa

from bot.launcher import free_port, stop_process
from deploy import run_prod


@pytest.fixture(scope="session")
def admin_url() -> str:
    """A PostgreSQL URL whose user may create databases."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        return url
    try:
        return run_prod.ensure_local_database()
    except run_prod.SetupError as error:
        pytest.fail(f"No PostgreSQL for the production tests: {error} (or set TEST_POSTGRES_URL).")


@pytest.fixture(scope="session")
def prod_db(admin_url):
    name = f"assistant_prodtest_{secrets.token_hex(4)}"
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    run_prod.ensure_database(url)
    yield url
    run_prod.drop_database(admin_url, name)


@pytest.fixture(scope="session")
def prod(prod_db, tmp_path_factory):
    """The running profile. Its nginx also routes a Telegram webhook path to a port on
    which tests may start the Telegram front (test_prod.py)."""
    telegram = (f"/telegram/{secrets.token_hex(8)}", free_port())
    started = time.monotonic()
    try:
        stack = run_prod.start_prod(tmp_path_factory.mktemp("prod"), prod_db,
                                    public_port=free_port(), telegram_webhook=telegram)
    except (run_prod.SetupError, RuntimeError) as error:
        pytest.fail(f"The production profile did not start: {error}")
    stack.started_in = time.monotonic() - started
    print(f"\nproduction profile started in {stack.started_in:.0f} s (logs: {stack.log_dir})")
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    """A Redis of its own (for the lock store tests that need no Rasa)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (make test-prod does it).")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10
    while not run_prod.redis_ready(port):
        if time.monotonic() > deadline or process.poll() is not None:
            stop_process(process)
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield port
    stop_process(process)
