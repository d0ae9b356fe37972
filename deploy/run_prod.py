"""The production profile on one machine: PostgreSQL, Redis, action servers, Rasa
replicas and nginx in front of them.

    python -m deploy.run_prod               start everything (what `make run-prod` runs);
                                            Ctrl-C stops everything it started
    python -m deploy.run_prod check         say what is missing, change nothing
    python -m deploy.run_prod init-db       create the database if missing, its tables,
                                            and load the knowledge base into it
    python -m deploy.run_prod nginx-config  print the nginx site of a systemd
                                            installation (docs/deploy.md)

What `python -m deploy.run_prod` starts (every internal port on 127.0.0.1):
  - redis-server for the lock store, without persistence (locks live for seconds),
    unless REDIS_HOST names one that already runs;
  - ACTION_SERVERS action servers (default 2), behind an nginx upstream that the
    replicas reach at ACTION_SERVER_URL;
  - RASA_REPLICAS Rasa replicas (default 2), with the endpoints of
    deploy/endpoints.prod.yml: conversations and feedback in PostgreSQL, the Redis lock
    store, the action servers' load balancer;
  - nginx on PROD_PORT (default 8080): the widget and the REST channel round robin
    across the replicas, socket.io sticky per client address, Rasa's API not exposed;
  - the Telegram front when TELEGRAM_BOT_TOKEN is set, talking to Rasa through nginx.

PostgreSQL: PROD_DATABASE_URL (conversations and feedback; the knowledge base goes to
the same database unless KNOWLEDGE_DB_URL says otherwise). Unset: the local Debian
cluster (pg_lsclusters), where a role and a database `assistant_local` are created when
missing (as root; the role's password is kept in var/prod/db_password, mode 600).

Nothing is installed here: what is missing is named with the command that installs it
(`make run-prod` runs that command for the Debian packages).
"""
from __future__ import annotations

import argparse
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from bot.launcher import api_token, free_port, port_in_use, spawn, stop_process, url_ok, wait_until
from project_paths import REPO_ROOT, VAR_DIR

PROD_DIR = VAR_DIR / "prod"
NGINX_DIR = REPO_ROOT / "deploy" / "nginx"
DEFAULT_MODEL = REPO_ROOT / "models" / "assistant.tar.gz"
DEFAULT_PUBLIC_PORT = 8080
# The local profile's own role and database: never the `assistant` ones that
# docs/deploy.md creates on a server (whose password this must not touch).
LOCAL_DB_NAME = "assistant_local"
LOCAL_DB_ROLE = "assistant_local"

# Program -> the Debian package that provides it.
PACKAGES = {"redis-server": "redis-server", "nginx": "nginx",
            "pg_lsclusters": "postgresql", "psql": "postgresql-client"}


class SetupError(RuntimeError):
    """Something the profile needs is missing; the message says what to do."""


# --------------------------------------------------------------------------- checks
def missing_programs(programs: Sequence[str]) -> List[str]:
    return [p for p in programs if shutil.which(p) is None
            and not Path("/usr/sbin", p).exists()]


def require_programs(programs: Sequence[str]) -> None:
    missing = missing_programs(programs)
    if missing:
        packages = " ".join(sorted({PACKAGES.get(p, p) for p in missing}))
        raise SetupError(f"Missing: {', '.join(missing)}. Install them with: "
                         f"apt-get install {packages}   (make run-prod does it when run as root)")


def program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


# --------------------------------------------------------------------------- PostgreSQL
def local_clusters() -> List[Dict[str, str]]:
    """Debian's PostgreSQL clusters (pg_lsclusters), online ones first."""
    if shutil.which("pg_lsclusters") is None:
        return []
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout
    clusters = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            clusters.append({"version": parts[0], "name": parts[1], "port": parts[2], "status": parts[3]})
    return sorted(clusters, key=lambda c: c["status"] != "online")


def _psql_as_postgres(port: str, sql: str) -> str:
    # The SQL goes through stdin: a password in it never shows in the process list.
    command = ["runuser", "-u", "postgres", "--", "psql", "-p", port, "-X", "-q", "-A", "-t",
               "-v", "ON_ERROR_STOP=1", "-d", "postgres"]
    done = subprocess.run(command, input=sql, capture_output=True, text=True, cwd="/")
    if done.returncode != 0:
        raise SetupError(f"psql on the local cluster failed: {done.stderr.strip()}")
    return done.stdout.strip()


def ensure_local_database(dbname: str = LOCAL_DB_NAME, role: str = LOCAL_DB_ROLE) -> str:
    """The URL of database `dbname` on the local cluster, owned by `role` (created when
    missing; the role may create databases, which the tests use). Needs root."""
    clusters = local_clusters()
    online = [c for c in clusters if c["status"] == "online"]
    if not online:
        if not clusters:
            raise SetupError("No PostgreSQL: set PROD_DATABASE_URL, or install a local one "
                             "with: apt-get install postgresql")
        c = clusters[0]
        raise SetupError(f"The local PostgreSQL cluster is stopped: start it with "
                         f"pg_ctlcluster {c['version']} {c['name']} start (or set PROD_DATABASE_URL)")
    if os.geteuid() != 0:
        raise SetupError("Creating the local database needs root (it runs psql as postgres). "
                         "Run as root, or create a database and set PROD_DATABASE_URL.")
    port = online[0]["port"]
    password_file = PROD_DIR / "db_password"
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        PROD_DIR.mkdir(parents=True, exist_ok=True)
        password = secrets.token_hex(24)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", role) or not re.fullmatch(r"[a-z_][a-z0-9_]*", dbname):
        raise SetupError("Role and database names: lower-case letters, digits and _ only.")
    _psql_as_postgres(port, (
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'; "
        f"ELSE ALTER ROLE {role} LOGIN CREATEDB PASSWORD '{password}'; END IF; END $$;"))
    if _psql_as_postgres(port, f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'") != "1":
        _psql_as_postgres(port, f"CREATE DATABASE {dbname} OWNER {role}")
    return f"postgresql://{role}:{password}@127.0.0.1:{port}/{dbname}"


def safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
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
            name = parsed.database.replace('"', '""')
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        engine.dispose()


def drop_database(admin_url: str, dbname: str) -> None:
    """Drops a database (the tests' own), closing its connections first."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(admin_url)
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            name = dbname.replace('"', '""')
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def init_db(tracker_url: str, knowledge_url: str) -> str:
    """Database(s), tables (conversations, feedback, knowledge) and knowledge content.
    Idempotent: run it at every installation or upgrade. Returns a summary line."""
    created = [safe_url(u) for u in dict.fromkeys([tracker_url, knowledge_url]) if ensure_database(u)]
    from bot import feedback
    from bot.tracker_store import ErasableSQLTrackerStore
    from knowledge.loader import load_database

    store = ErasableSQLTrackerStore(url=tracker_url)  # creates the events table
    store.engine.dispose()
    feedback.engine(tracker_url).dispose()  # creates the feedback table
    topics = load_database(knowledge_url)
    return (f"Database ready ({'created ' + ', '.join(created) + '; ' if created else ''}"
            f"{topics} topics loaded into {safe_url(knowledge_url)}).")


# --------------------------------------------------------------------------- nginx
def render(template: Path, values: Dict[str, str]) -> str:
    text = template.read_text()

    def line(match: "re.Match[str]") -> str:  # a placeholder alone on its line
        filled = values[match.group(1)]
        return filled.rstrip("\n") + "\n" if filled.strip() else ""

    def value(match: "re.Match[str]") -> str:
        return values[match.group(1)]

    try:
        text = re.sub(r"^[ \t]*\{\{(\w+)\}\}[ \t]*\n", line, text, flags=re.MULTILINE)
        return re.sub(r"\{\{(\w+)\}\}", value, text)
    except KeyError as error:
        raise SetupError(f"{template.name}: no value for {{{{{error.args[0]}}}}}") from None


@dataclass
class NginxSite:
    """What varies between the nginx sites of `make run-prod` and of a server."""

    rasa_servers: List[str]                 # host:port of each replica
    actions_servers: List[str]              # host:port of each action server
    actions_listen: str                     # where the replicas find the action servers
    listen: List[str] = field(default_factory=lambda: [str(DEFAULT_PUBLIC_PORT)])
    local_listen: Optional[str] = None      # plain HTTP on loopback (the Telegram front's RASA_URL)
    server_name: str = "_"
    log_dir: str = "/var/log/nginx"
    tls: Optional[Tuple[str, str]] = None   # (certificate, key): HTTPS, and 80 redirects
    acme_root: Optional[str] = None         # webroot of Let's Encrypt's HTTP challenge
    rest_allow: List[str] = field(default_factory=list)  # more clients of the REST channel
    telegram: Optional[Tuple[str, int]] = None  # (webhook path, local port of the front)
    webchat_htpasswd: Optional[str] = None  # password file protecting the widget

    def render(self) -> str:
        upstream = "    server {} max_fails=0;"
        listen = "\n".join(f"    listen {spec}{' ssl http2' if self.tls else ''};" for spec in self.listen)
        if self.local_listen:
            listen += f"\n    listen {self.local_listen};  # plain HTTP, this machine only"
        if self.tls:
            listen += (f"\n    ssl_certificate {self.tls[0]};\n    ssl_certificate_key {self.tls[1]};"
                       "\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_cache shared:assistant_tls:1m;"
                       '\n    add_header Strict-Transport-Security "max-age=31536000" always;')
        acme = ""
        if self.acme_root:
            acme = (f"\n    location /.well-known/acme-challenge/ {{\n        root {self.acme_root};\n"
                    "    }\n")
        redirect = ""
        if self.tls:
            redirect = ("\n# Plain HTTP: Let's Encrypt's challenge, and a redirect to HTTPS.\nserver {\n"
                        f"    listen 80;\n    listen [::]:80;\n    server_name {self.server_name};\n"
                        f"    server_tokens off;\n    access_log {self.log_dir}/assistant-access.log assistant;"
                        f"{acme.rstrip()}\n    location / {{ return 301 https://$host$request_uri; }}\n}}\n")
            acme = ""
        telegram = ""
        if self.telegram:
            path, port = self.telegram
            telegram = ("\n    # Telegram's webhook (HTTPS in production): the Telegram front checks the\n"
                        "    # secret token header of every update.\n"
                        f"    location = {path} {{\n        client_max_body_size 1m;\n        client_body_buffer_size 1m;\n"
                        f"        proxy_pass http://127.0.0.1:{port};\n    }}\n")
        auth = ""
        if self.webchat_htpasswd:
            auth = (f'        auth_basic "Assistant - equipes";\n'
                    f"        auth_basic_user_file {self.webchat_htpasswd};")
        values = {
            "rasa_servers": "\n".join(upstream.format(s) for s in self.rasa_servers),
            "actions_servers": "\n".join(upstream.format(s) for s in self.actions_servers),
            "actions_listen": self.actions_listen,
            "listen": listen,
            "server_name": self.server_name,
            "log_dir": self.log_dir,
            "rest_allow": "\n".join(f"        allow {a};" for a in self.rest_allow),
            "redirect_server": redirect,
            "telegram_location": telegram,
            "acme_location": acme,
            "webchat_auth": auth,
        }
        return render(NGINX_DIR / "assistant.conf.template", values)


def nginx_main_config(prod_dir: Path, log_dir: Path) -> str:
    user = ""
    if os.geteuid() == 0:  # workers drop root; without root nginx runs as the caller
        for name in ("www-data", "nobody"):
            try:
                pwd.getpwnam(name)
                user = f"user {name};"
                break
            except KeyError:
                continue
    return render(NGINX_DIR / "standalone.conf.template",
                  {"user": user, "prod_dir": str(prod_dir), "log_dir": str(log_dir)})


# --------------------------------------------------------------------------- Redis
def redis_ready(port: int, host: str = "127.0.0.1", password: Optional[str] = None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            if password:
                sock.sendall(f"AUTH {password}\r\n".encode())
                sock.recv(64)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# --------------------------------------------------------------------------- the stack
@dataclass
class ProdStack:
    """The running production profile; stop() ends everything it started."""

    prod_dir: Path
    public_port: int
    rasa_ports: List[int]
    actions_ports: List[int]
    actions_proxy_port: int
    env: Dict[str, str]
    telegram: Optional[Tuple[str, int]] = None
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.prod_dir / "logs"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def tracker_db_url(self) -> str:
        return self.env["TRACKER_DB_URL"]

    def _spawn(self, name: str, command: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            process = spawn(command, env or self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def _wait(self, name: str, ready) -> None:
        try:
            wait_until(ready, self.processes[name], name)
        except RuntimeError as error:
            tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{error}\n--- {self.log_dir / name}.log (end) ---\n{tail}") from None

    # -- Redis
    def start_redis(self) -> None:
        port = int(self.env["REDIS_PORT"])
        self._spawn("redis", [program("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
                              "--save", "", "--appendonly", "no", "--protected-mode", "yes",
                              "--dir", str(self.prod_dir), "--daemonize", "no"])

    def wait_redis(self) -> None:
        self._wait("redis", lambda: redis_ready(int(self.env["REDIS_PORT"])))

    # -- database
    def start_init_db(self) -> None:
        self._spawn("init-db", [sys.executable, "-m", "deploy.run_prod", "init-db"])

    def wait_init_db(self) -> None:
        process = self.processes.pop("init-db")
        if process.wait() != 0:
            tail = (self.log_dir / "init-db.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"Preparing the database failed:\n{tail}")

    # -- action servers
    def start_actions(self) -> None:
        env = dict(self.env, SANIC_HOST="127.0.0.1")
        for i, port in enumerate(self.actions_ports, 1):
            self._spawn(f"actions-{i}", [sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                                         "--port", str(port)], env)

    def wait_actions(self) -> None:
        for i, port in enumerate(self.actions_ports, 1):
            self._wait(f"actions-{i}", lambda port=port: url_ok(f"http://127.0.0.1:{port}/health"))

    # -- Rasa replicas
    def start_replica(self, index: int, extra_env: Optional[Dict[str, str]] = None) -> None:
        self._spawn(f"rasa-{index + 1}", [sys.executable, "-m", "deploy.rasa_server",
                                          "--port", str(self.rasa_ports[index])],
                    dict(self.env, **(extra_env or {})))

    def wait_replica(self, index: int) -> None:
        self._wait(f"rasa-{index + 1}", lambda: url_ok(f"{self.replica_url(index)}/webhooks/rest/"))

    def stop_replica(self, index: int) -> None:
        process = self.processes.pop(f"rasa-{index + 1}", None)
        if process is not None:
            stop_process(process, grace=30)

    def restart_replica(self, index: int, extra_env: Optional[Dict[str, str]] = None) -> None:
        """What deploy/rolling-restart.sh does to one systemd unit (e.g. to load a new
        model: extra_env={"ASSISTANT_MODEL": path})."""
        self.stop_replica(index)
        self.start_replica(index, extra_env)
        self.wait_replica(index)

    # -- nginx
    def nginx_site(self) -> NginxSite:
        return NginxSite(
            rasa_servers=[f"127.0.0.1:{p}" for p in self.rasa_ports],
            actions_servers=[f"127.0.0.1:{p}" for p in self.actions_ports],
            actions_listen=f"127.0.0.1:{self.actions_proxy_port}",
            listen=[str(self.public_port)],
            log_dir=str(self.log_dir),
            telegram=self.telegram,
        )

    def write_nginx_config(self) -> Path:
        directory = self.prod_dir / "nginx"
        (directory / "tmp").mkdir(parents=True, exist_ok=True)
        (directory / "assistant.conf").write_text(self.nginx_site().render())
        main = directory / "nginx.conf"
        main.write_text(nginx_main_config(self.prod_dir, self.log_dir))
        return main

    def nginx_command(self, *extra: str) -> List[str]:
        main = self.prod_dir / "nginx" / "nginx.conf"
        return [program("nginx"), "-p", str(self.prod_dir / "nginx"), "-c", str(main),
                "-e", str(self.log_dir / "nginx-error.log"), *extra]

    def start_nginx(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.write_nginx_config()
        test = subprocess.run(self.nginx_command("-t", "-q"), capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{test.stderr}")
        self._spawn("nginx", self.nginx_command("-g", "daemon off;"))

    def wait_nginx(self) -> None:
        self._wait("nginx", lambda: url_ok(f"{self.public_url}/healthz"))

    # -- Telegram front
    def start_telegram(self) -> None:
        env = dict(self.env, RASA_URL=self.public_url)
        if self.telegram:
            env["TELEGRAM_WEBHOOK_PORT"] = str(self.telegram[1])
            env["TELEGRAM_WEBHOOK_LISTEN"] = "127.0.0.1"
        self._spawn("telegram", [sys.executable, "-m", "telegram_front"], env)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            stop_process(self.processes[name], grace=30 if name.startswith("rasa") else 10)
        self.processes.clear()


def distinct_free_ports(count: int, taken: Sequence[int] = ()) -> List[int]:
    ports: List[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports and port not in taken:
            ports.append(port)
    return ports


def prod_env(tracker_url: str, knowledge_url: str, actions_proxy_port: int, redis: Dict[str, str],
             extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        TRACKER_DB_URL=tracker_url,
        KNOWLEDGE_DB_URL=knowledge_url,
        ACTION_SERVER_URL=f"http://127.0.0.1:{actions_proxy_port}/webhook",
        RASA_API_TOKEN=api_token(),
        RASA_INTERFACE=env.get("RASA_INTERFACE") or "127.0.0.1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        RASA_TELEMETRY_ENABLED="false",
        SANIC_WORKERS="1",
        **redis,
    )
    env.update(extra or {})
    return env


def start_prod(
    prod_dir: Path,
    tracker_url: str,
    knowledge_url: Optional[str] = None,
    public_port: Optional[int] = None,
    replicas: int = 2,
    action_servers: int = 2,
    telegram_webhook: Optional[Tuple[str, int]] = None,
    start_telegram: bool = False,
    extra_env: Optional[Dict[str, str]] = None,
) -> ProdStack:
    """Starts the whole profile; raises SetupError (something missing) or RuntimeError
    (a server did not start; its log's end is in the message)."""
    if not DEFAULT_MODEL.exists() and not os.environ.get("ASSISTANT_MODEL"):
        raise SetupError(f"No trained model at {DEFAULT_MODEL}: run `make train`.")
    external_redis = bool(os.environ.get("REDIS_HOST"))
    require_programs(["nginx"] + ([] if external_redis else ["redis-server"]))
    if replicas < 1 or action_servers < 1:
        raise SetupError("RASA_REPLICAS and ACTION_SERVERS must be at least 1.")

    public_port = public_port or DEFAULT_PUBLIC_PORT
    if port_in_use(public_port):
        raise SetupError(f"Port {public_port} is in use: stop what uses it, or set PROD_PORT.")
    if external_redis:
        redis = {"REDIS_HOST": os.environ["REDIS_HOST"], "REDIS_PORT": os.environ.get("REDIS_PORT", "6379"),
                 "REDIS_DB": os.environ.get("REDIS_DB", "1")}
    else:
        redis_port = int(os.environ.get("REDIS_PORT") or 0) or free_port()
        if port_in_use(redis_port):
            raise SetupError(f"Port {redis_port} (REDIS_PORT) is in use.")
        redis = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port),
                 "REDIS_DB": os.environ.get("REDIS_DB", "1")}
    ports = distinct_free_ports(replicas + action_servers + 1,
                                taken=[public_port, int(redis["REDIS_PORT"])]
                                + ([telegram_webhook[1]] if telegram_webhook else []))
    rasa_ports, actions_ports, proxy_port = ports[:replicas], ports[replicas:-1], ports[-1]
    env = prod_env(tracker_url, knowledge_url or tracker_url, proxy_port, redis, extra_env)
    stack = ProdStack(prod_dir, public_port, rasa_ports, actions_ports, proxy_port, env, telegram_webhook)
    try:
        if not external_redis:
            stack.start_redis()
        stack.start_init_db()
        stack.start_actions()
        if not external_redis:
            stack.wait_redis()
        elif not redis_ready(int(redis["REDIS_PORT"]), redis["REDIS_HOST"], os.environ.get("REDIS_PASSWORD")):
            raise SetupError(f"Redis does not answer at {redis['REDIS_HOST']}:{redis['REDIS_PORT']}.")
        stack.wait_init_db()
        for index in range(replicas):
            stack.start_replica(index)
        stack.start_nginx()
        stack.wait_actions()
        for index in range(replicas):
            stack.wait_replica(index)
        stack.wait_nginx()
        if start_telegram:
            stack.start_telegram()
    except BaseException:
        stack.stop()
        raise
    return stack


# --------------------------------------------------------------------------- commands
def database_urls() -> Tuple[str, str]:
    tracker = os.environ.get("PROD_DATABASE_URL") or ensure_local_database()
    return tracker, os.environ.get("KNOWLEDGE_DB_URL") or tracker


def telegram_settings() -> Tuple[bool, Optional[Tuple[str, int]]]:
    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        return False, None
    webhook = os.environ.get("TELEGRAM_WEBHOOK_URL")
    if not webhook:
        return True, None  # long polling: nothing comes in through nginx
    port = int(os.environ.get("TELEGRAM_WEBHOOK_PORT") or 8443)
    return True, (urlsplit(webhook).path or "/", port)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    telegram, webhook = telegram_settings()
    try:
        tracker_url, knowledge_url = database_urls()
        print(f"Conversations: {safe_url(tracker_url)}\nStarting Redis, {args.action_servers} action "
              f"server(s), {args.replicas} Rasa replica(s) and nginx (logs in {PROD_DIR / 'logs'})…",
              flush=True)
        stack = start_prod(PROD_DIR, tracker_url, knowledge_url, args.port, args.replicas,
                           args.action_servers, webhook, telegram)
    except SetupError as error:
        print(error)
        return 1
    except RuntimeError as error:
        print(f"Could not start the production profile: {error}")
        return 1
    except KeyboardInterrupt:
        return 130
    base = f"http://localhost:{stack.public_port}"
    replicas = ", ".join(f"{stack.replica_url(i)}" for i in range(len(stack.rasa_ports)))
    print(
        f"\nProduction profile ready in {time.monotonic() - started:.0f} s.\n"
        f"  Widget:        {base}/webchat/\n"
        f"  REST (local):  POST {base}/webhooks/rest/webhook  {{\"sender\": \"moi\", \"message\": \"bonjour\"}}\n"
        f"  Health:        {base}/healthz\n"
        f"  Replicas (API with RASA_API_TOKEN, loopback only): {replicas}\n"
        f"  Action servers behind http://127.0.0.1:{stack.actions_proxy_port}/webhook\n"
        f"  Lock store:    redis {stack.env['REDIS_HOST']}:{stack.env['REDIS_PORT']} db {stack.env['REDIS_DB']}\n"
        f"  Telegram front: {'started' if telegram else 'off (set TELEGRAM_BOT_TOKEN to start it)'}\n"
        f"  Logs:          {stack.log_dir}/\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    try:
        while True:
            stopped = [name for name, p in stack.processes.items() if p.poll() is not None]
            if stopped:
                print(f"{', '.join(stopped)} stopped on its own (see {stack.log_dir}/); stopping the others.")
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    finally:
        stack.stop()


def check(_: argparse.Namespace) -> int:
    problems = []
    missing = missing_programs(["nginx"] + ([] if os.environ.get("REDIS_HOST") else ["redis-server"]))
    if missing:
        problems.append(f"missing programs: {', '.join(missing)} "
                        f"(apt-get install {' '.join(PACKAGES[p] for p in missing)})")
    if not os.environ.get("PROD_DATABASE_URL"):
        clusters = local_clusters()
        if not clusters:
            problems.append("no PostgreSQL: set PROD_DATABASE_URL or apt-get install postgresql")
        elif not any(c["status"] == "online" for c in clusters):
            c = clusters[0]
            problems.append(f"local PostgreSQL stopped: pg_ctlcluster {c['version']} {c['name']} start")
    if not DEFAULT_MODEL.exists():
        problems.append("no trained model: make train")
    for problem in problems:
        print(problem)
    if not problems:
        print("OK: everything the production profile needs is here.")
    return 1 if problems else 0


def init_db_command(args: argparse.Namespace) -> int:
    tracker = args.db or os.environ.get("TRACKER_DB_URL")
    if not tracker:
        print("init-db: set TRACKER_DB_URL (or pass --db).", file=sys.stderr)
        return 2
    knowledge = args.knowledge_db or os.environ.get("KNOWLEDGE_DB_URL") or tracker
    print(init_db(tracker, knowledge), flush=True)
    return 0


def nginx_config_command(args: argparse.Namespace) -> int:
    telegram = None
    if args.telegram_webhook_url:
        telegram = (urlsplit(args.telegram_webhook_url).path or "/", args.telegram_port)
    tls = None
    if args.tls:
        live = f"/etc/letsencrypt/live/{args.server_name}"
        tls = (args.certificate or f"{live}/fullchain.pem", args.key or f"{live}/privkey.pem")
    listen = args.listen or (["443", "[::]:443"] if tls else ["80", "[::]:80"])
    site = NginxSite(
        rasa_servers=args.rasa.split(","), actions_servers=args.actions.split(","),
        actions_listen=args.actions_listen, listen=listen, local_listen=args.local_listen or None,
        server_name=args.server_name,
        log_dir=args.log_dir, tls=tls, acme_root=args.acme_root, telegram=telegram,
        webchat_htpasswd=args.webchat_htpasswd,
    )
    sys.stdout.write(site.render())
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.run_prod", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PROD_PORT") or DEFAULT_PUBLIC_PORT),
                        help="nginx's public port (PROD_PORT, default 8080)")
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("RASA_REPLICAS") or 2))
    parser.add_argument("--action-servers", type=int, default=int(os.environ.get("ACTION_SERVERS") or 2))
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("check", help="say what is missing")
    init = commands.add_parser("init-db", help="database, tables and knowledge content")
    init.add_argument("--db", help="conversations database (default TRACKER_DB_URL)")
    init.add_argument("--knowledge-db", help="knowledge database (default KNOWLEDGE_DB_URL, else --db)")
    conf = commands.add_parser("nginx-config", help="print the nginx site of a server installation")
    conf.add_argument("--server-name", default="_", help="public host name, e.g. assistant.example.org")
    conf.add_argument("--tls", action="store_true", help="HTTPS on 443 (Let's Encrypt paths) and 80 -> 443")
    conf.add_argument("--certificate")
    conf.add_argument("--key")
    conf.add_argument("--listen", action="append", help="listen directive(s) (default 80 or 443)")
    conf.add_argument("--local-listen", default="127.0.0.1:8080",
                      help="plain HTTP listener on loopback for the Telegram front ('' for none)")
    conf.add_argument("--rasa", default="127.0.0.1:5005,127.0.0.1:5006", help="replicas, host:port,...")
    conf.add_argument("--actions", default="127.0.0.1:5056,127.0.0.1:5057", help="action servers")
    conf.add_argument("--actions-listen", default="127.0.0.1:5055", help="their load balancer")
    conf.add_argument("--telegram-webhook-url", default=os.environ.get("TELEGRAM_WEBHOOK_URL"))
    conf.add_argument("--telegram-port", type=int, default=int(os.environ.get("TELEGRAM_WEBHOOK_PORT") or 8443))
    conf.add_argument("--acme-root", default="/var/www/letsencrypt")
    conf.add_argument("--webchat-htpasswd", help="protect the widget with this password file")
    conf.add_argument("--log-dir", default="/var/log/nginx")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args)
    if args.command == "init-db":
        return init_db_command(args)
    if args.command == "nginx-config":
        return nginx_config_command(args)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, _interrupt)  # systemctl stop / docker stop: like Ctrl-C
    return run(args)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
