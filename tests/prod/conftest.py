"""The production profile for tests/prod/, run by `make test-prod` only (`make test`
leaves this folder out).

One profile for the whole session, run by supervisord from the configuration that
`make run-prod` uses (deploy/local_profile.py): a fresh PostgreSQL database (made from
TEST_POSTGRES_URL, which .ci/run sets, else on the local Debian cluster), Redis with a
password, 2 action servers, 2 Rasa replicas, nginx, and the Telegram front (started by
its test, against a fake Bot API). supervisord is shut down and the database dropped at
the end.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from bot.launcher import free_port, stop_process
from deploy import database
from deploy.local_profile import Profile, supervisord_env
from deploy.template import SetupError
from project_paths import DEFAULT_MODEL, REPO_ROOT

READY_TIMEOUT = 300


@pytest.fixture(scope="session")
def admin_url() -> str:
    """A PostgreSQL URL whose user may create databases."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        return url
    try:
        return database.local_database()
    except SetupError as error:
        pytest.fail(f"No PostgreSQL for the production tests: {error} (or set TEST_POSTGRES_URL).")


@pytest.fixture(scope="session")
def prod_db(admin_url):
    name = f"assistant_prodtest_{secrets.token_hex(4)}"
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    database.drop_database(admin_url, name)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def supervisor_status(profile: Profile) -> str:
    return subprocess.run(profile.supervisorctl("status"), capture_output=True, text=True).stdout


def wait_ready(profile: Profile, supervisord: subprocess.Popen) -> None:
    urls = (
        [f"{profile.replica_url(i)}/webhooks/rest/" for i in range(profile.replicas)]
        + [f"http://127.0.0.1:{p}/health" for p in profile.actions_ports]
        + [f"{profile.rest_url}/healthz", f"{profile.public_url}/healthz"]
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while not all(answers(u) for u in urls):
        status = supervisor_status(profile)
        if supervisord.poll() is not None or "FATAL" in status or time.monotonic() > deadline:
            logs = "\n".join(
                f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                for log in sorted([*profile.log_dir.glob("*.log"), profile.prod_dir / "supervisord.out"])
                if log.exists()
            )
            pytest.fail(f"The production profile did not start:\n{status}\n{logs}")
        time.sleep(1)


@pytest.fixture(scope="session")
def prod(prod_db):
    """The running profile. Its Telegram front (webhook mode, behind nginx) is declared
    but not started: test_prod.py starts it once its fake Bot API listens."""
    prod_dir = Path(tempfile.mkdtemp(prefix="assistant-prod-"))
    (prod_dir / "model").mkdir()
    model = prod_dir / "model" / "current.tar.gz"  # a link that the model test repoints
    model.symlink_to(DEFAULT_MODEL)
    public_port, rest_port = free_port(), free_port()
    while rest_port == public_port:
        rest_port = free_port()
    bot_api_port, webhook_port = free_port(), free_port()
    telegram = {
        "TELEGRAM_BOT_TOKEN": "123456789:"
        + "AAH-prod_TOKEN-value-0123456789abcd",  # fake, split for secret scanners
        "TELEGRAM_API_URL": f"http://127.0.0.1:{bot_api_port}/bot",
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{public_port}/telegram/{secrets.token_hex(8)}",
        "TELEGRAM_WEBHOOK_PORT": str(webhook_port),
        "TELEGRAM_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "SENDER_ID_SECRET": secrets.token_hex(32),
        "RASA_TIMEOUT_SECONDS": "60",
    }
    started = time.monotonic()
    # What assistant-init.service and `make run-prod` run first.
    done = subprocess.run(
        [sys.executable, "-m", "deploy.database", "init"],
        cwd=REPO_ROOT,
        env=dict(os.environ, TRACKER_DB_URL=prod_db),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        profile = Profile(
            prod_dir=prod_dir,
            tracker_url=prod_db,
            knowledge_url=prod_db,
            public_port=public_port,
            rest_port=rest_port,
            model=model,
            telegram_env=telegram,
            telegram_autostart=False,
            ports_taken=[bot_api_port],
        )
        profile.write()
    except SetupError as error:
        pytest.fail(f"The production profile could not be prepared: {error}")
    profile.bot_api_port = bot_api_port
    with open(prod_dir / "supervisord.out", "wb") as out:
        supervisord = subprocess.Popen(
            profile.supervisord_command(),
            env=supervisord_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(profile, supervisord)
        profile.started_in = time.monotonic() - started
        print(f"\nproduction profile started in {profile.started_in:.0f} s (logs: {profile.log_dir})")
        yield profile
    finally:
        subprocess.run(profile.supervisorctl("shutdown"), capture_output=True, timeout=30)
        try:
            supervisord.wait(120)
        except subprocess.TimeoutExpired:
            stop_process(supervisord)
        shutil.rmtree(prod_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    """A Redis of its own (for the lock store tests that need no Rasa)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (make test-prod does it).")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            if redis.Redis(port=port, socket_timeout=1).ping():
                break
        except redis.RedisError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            stop_process(process)
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield port
    stop_process(process)
