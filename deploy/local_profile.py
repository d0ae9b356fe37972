"""The production profile on one machine, run by supervisord (Debian's `supervisor`):
Redis, the action servers, the Rasa replicas, nginx and, when TELEGRAM_BOT_TOKEN is set,
the Telegram front. This module only prepares; supervisord starts, watches and stops.

    python -m deploy.local_profile run     what `make run-prod` runs: the database (role,
                                           tables, knowledge), the configuration files
                                           under var/prod/, then supervisord in the
                                           foreground (Ctrl-C stops everything)
    python -m deploy.local_profile check   say what is missing, change nothing

Written under var/prod/ (secrets mode 600): supervisord.conf (deploy/supervisor/*.template),
redis.conf, nginx/ (deploy/nginx/*.template), the widget's password file, logs/.
Settings: PROD_PORT (8080, public), PROD_REST_PORT (8081, loopback: the REST channel),
RASA_REPLICAS (2), ACTION_SERVERS (2), PROD_DATABASE_URL (default: a database
`assistant_local` on the local cluster), KNOWLEDGE_DB_URL, PUBLIC_WIDGET=1 (no widget
password), TELEGRAM_* and SENDER_ID_SECRET (the front).
"""

from __future__ import annotations

import argparse
import base64
import grp
import hashlib
import os
import random
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from bot.launcher import port_in_use
from deploy import database
from deploy.nginx_site import NginxSite, nginx_program, standalone_config
from deploy.template import SetupError, render
from project_paths import DEFAULT_MODEL, REPO_ROOT, VAR_DIR

PROD_DIR = VAR_DIR / "prod"
SUPERVISOR_DIR = REPO_ROOT / "deploy" / "supervisor"
SUPERVISORD = "/usr/bin/supervisord"
SUPERVISORCTL = "/usr/bin/supervisorctl"
WIDGET_USER = "equipe"
# Programs -> the Debian package that provides them.
PACKAGES = {SUPERVISORD: "supervisor", "/usr/sbin/nginx": "nginx", "/usr/bin/redis-server": "redis-server"}
# What the Telegram front may read from the caller's environment.
TELEGRAM_VARIABLES = ("SENDER_ID_SECRET", "SENDER_ID_SECRET_FILE", "RASA_TIMEOUT_SECONDS")


def free_block(count: int, taken: List[int]) -> int:
    """The first of `count` consecutive free loopback ports (supervisord numbers the
    processes of a program with consecutive numbers: here, their ports)."""
    for _ in range(200):
        first = random.randint(20000, 60000 - count)
        ports = range(first, first + count)
        if not any(p in taken or port_in_use(p) for p in ports):
            return first
    raise SetupError(f"No {count} consecutive free ports.")


def supervisor_environment(values: Mapping[str, str]) -> str:
    """supervisord's `environment=` syntax: KEY="value",... ('%' doubled)."""
    items = []
    for key, value in values.items():
        if any(c in value for c in "\n\r\0") or ('"' in value and "'" in value):
            raise SetupError(f"{key}: a value with a newline or both quote kinds cannot be passed.")
        quote = "'" if '"' in value else '"'
        items.append(f"{key}={quote}{value.replace('%', '%%')}{quote}")
    return ",".join(items)


def write_secret(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def kept_secret(path: Path) -> str:
    """A random secret generated once and kept in `path` (mode 600)."""
    if not path.exists():
        write_secret(path, secrets.token_hex(24))
    return path.read_text().strip()


def ssha_line(user: str, password: str) -> str:
    """An htpasswd line in nginx's {SSHA} scheme (salted SHA-1; the password is random)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


@dataclass
class Profile:
    """The profile's files and ports; `write()` renders them, supervisord runs them."""

    prod_dir: Path
    tracker_url: str
    knowledge_url: str
    public_port: int = 8080
    rest_port: int = 8081
    replicas: int = 2
    action_servers: int = 2
    model: Path = DEFAULT_MODEL
    public_widget: bool = False
    telegram_env: Optional[Dict[str, str]] = None  # the front's variables; None: no front
    telegram_autostart: bool = True
    rasa_first_port: int = 0
    actions_first_port: int = 0
    actions_proxy_port: int = 0
    redis_port: int = 0
    ports_taken: List[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.replicas < 1 or self.action_servers < 1:
            raise SetupError("RASA_REPLICAS and ACTION_SERVERS must be at least 1.")
        for name, port in (("PROD_PORT", self.public_port), ("PROD_REST_PORT", self.rest_port)):
            if port_in_use(port):
                raise SetupError(f"Port {port} ({name}) is in use: stop what uses it, or set {name}.")
        taken = [self.public_port, self.rest_port, *self.ports_taken]
        if self.telegram_webhook:
            taken.append(self.telegram_webhook[1])
        self.rasa_first_port = self.rasa_first_port or free_block(self.replicas, taken)
        taken += self.rasa_ports
        self.actions_first_port = self.actions_first_port or free_block(self.action_servers + 2, taken)
        # One block: the action servers, then their balancer, then Redis.
        self.actions_proxy_port = self.actions_first_port + self.action_servers
        self.redis_port = self.actions_proxy_port + 1

    # -- where things are
    @property
    def rasa_ports(self) -> List[int]:
        return list(range(self.rasa_first_port, self.rasa_first_port + self.replicas))

    @property
    def actions_ports(self) -> List[int]:
        return list(range(self.actions_first_port, self.actions_first_port + self.action_servers))

    @property
    def log_dir(self) -> Path:
        return self.prod_dir / "logs"

    @property
    def config_file(self) -> Path:
        return self.prod_dir / "supervisord.conf"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def redis_password(self) -> str:
        return kept_secret(self.prod_dir / "redis_password")

    @property
    def widget_password(self) -> str:
        return kept_secret(self.prod_dir / "webchat_password")

    @property
    def telegram_webhook(self) -> Optional[Tuple[str, int]]:
        """(path, port) of the front's webhook receiver, when in webhook mode."""
        env = self.telegram_env or {}
        if not env.get("TELEGRAM_WEBHOOK_URL"):
            return None
        return urlsplit(env["TELEGRAM_WEBHOOK_URL"]).path or "/", int(
            env.get("TELEGRAM_WEBHOOK_PORT") or 8443
        )

    # -- what each program receives
    def base_env(self) -> Dict[str, str]:
        return {
            "PYTHONPATH": str(REPO_ROOT),
            "HOME": str(self.prod_dir / "home"),
            "LANG": "C.UTF-8",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
        }

    def actions_env(self) -> Dict[str, str]:
        # TRACKER_DB_URL: the erase action checks that the conversation store answers.
        return dict(
            self.base_env(),
            KNOWLEDGE_DB_URL=self.knowledge_url,
            TRACKER_DB_URL=self.tracker_url,
            SANIC_HOST="127.0.0.1",
        )

    def rasa_env(self) -> Dict[str, str]:
        return dict(
            self.base_env(),
            TRACKER_DB_URL=self.tracker_url,
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.actions_proxy_port}/webhook",
            REDIS_HOST="127.0.0.1",
            REDIS_PORT=str(self.redis_port),
            REDIS_DB="1",
            REDIS_PASSWORD=self.redis_password,
            ASSISTANT_MODEL=str(self.model),
            RASA_INTERFACE="127.0.0.1",
            SANIC_WORKERS="1",
        )

    def front_env(self) -> Dict[str, str]:
        # ASSISTANT_MODEL: the front reads its danger check from the model the replicas serve.
        env = dict(
            self.base_env(),
            **(self.telegram_env or {}),
            RASA_URL=self.rest_url,
            ASSISTANT_MODEL=str(self.model),
        )
        if self.telegram_webhook:
            env.update(
                TELEGRAM_WEBHOOK_LISTEN="127.0.0.1", TELEGRAM_WEBHOOK_PORT=str(self.telegram_webhook[1])
            )
        return env

    # -- files
    def nginx_site(self) -> NginxSite:
        return NginxSite(
            rasa_servers=[f"127.0.0.1:{p}" for p in self.rasa_ports],
            actions_servers=[f"127.0.0.1:{p}" for p in self.actions_ports],
            actions_listen=f"127.0.0.1:{self.actions_proxy_port}",
            rest_listen=f"127.0.0.1:{self.rest_port}",
            listen=[str(self.public_port)],
            log_dir=str(self.log_dir),
            telegram=self.telegram_webhook,
            webchat_htpasswd=None
            if self.public_widget
            else str(self.prod_dir / "nginx" / "webchat.htpasswd"),
            public_widget=self.public_widget,
        )

    def nginx_command(self) -> str:
        nginx_dir = self.prod_dir / "nginx"
        return (
            f"{nginx_program()} -p {nginx_dir} -c {nginx_dir / 'nginx.conf'} "
            f'-e {self.log_dir / "nginx-error.log"} -g "daemon off;"'
        )

    def write(self) -> Path:
        """Renders every file of the profile; returns supervisord's configuration."""
        if not self.model.is_file():
            raise SetupError(f"No trained model at {self.model}: run `make train`.")
        for directory in (
            self.prod_dir,
            self.prod_dir / "nginx",
            self.prod_dir / "nginx" / "tmp",
            self.log_dir,
            self.prod_dir / "home",
        ):
            directory.mkdir(parents=True, exist_ok=True)
        # nginx's workers (www-data) open the password file: they may cross these two.
        for directory in (self.prod_dir, self.prod_dir / "nginx"):
            os.chmod(directory, 0o711)
        os.chmod(self.log_dir, 0o700)
        os.chmod(self.prod_dir / "home", 0o700)
        nginx_dir = self.prod_dir / "nginx"
        if not self.public_widget:
            htpasswd = nginx_dir / "webchat.htpasswd"
            write_secret(htpasswd, ssha_line(WIDGET_USER, self.widget_password), 0o640)
            if os.geteuid() == 0:
                os.chown(htpasswd, 0, grp.getgrnam("www-data").gr_gid)
        (nginx_dir / "assistant.conf").write_text(self.nginx_site().render())
        (nginx_dir / "nginx.conf").write_text(standalone_config(self.prod_dir, self.log_dir))
        write_secret(
            self.prod_dir / "redis.conf",
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.redis_port}",
                    "protected-mode yes",
                    'save ""',
                    "appendonly no",
                    f"dir {self.prod_dir}",
                    "daemonize no",
                    f"requirepass {self.redis_password}",
                    "",
                ]
            ),
        )
        common = {
            "prod_dir": str(self.prod_dir),
            "log_dir": str(self.log_dir),
            "repo": str(REPO_ROOT),
            "python": sys.executable,
        }
        telegram = ""
        if self.telegram_env is not None:
            telegram = render(
                SUPERVISOR_DIR / "telegram.conf.template",
                dict(
                    common,
                    telegram_env=supervisor_environment(self.front_env()),
                    telegram_autostart=str(self.telegram_autostart).lower(),
                ),
            )
        write_secret(
            self.config_file,
            render(
                SUPERVISOR_DIR / "assistant.conf.template",
                dict(
                    common,
                    redis_server=shutil.which("redis-server") or "/usr/bin/redis-server",
                    actions_first_port=str(self.actions_first_port),
                    action_servers=str(self.action_servers),
                    actions_listen=f"127.0.0.1:{self.actions_proxy_port}",
                    actions_env=supervisor_environment(self.actions_env()),
                    rasa_first_port=str(self.rasa_first_port),
                    replicas=str(self.replicas),
                    rasa_env=supervisor_environment(self.rasa_env()),
                    nginx_command=self.nginx_command(),
                    public_listen=str(self.public_port),
                    rest_listen=f"127.0.0.1:{self.rest_port}",
                    telegram_program=telegram,
                ),
            ),
        )
        return self.config_file

    def supervisord_command(self) -> List[str]:
        return [SUPERVISORD, "--nodaemon", "--configuration", str(self.config_file)]

    def supervisorctl(self, *arguments: str) -> List[str]:
        return [SUPERVISORCTL, "--configuration", str(self.config_file), *arguments]


def supervisord_env() -> Dict[str, str]:
    """supervisord's own environment, inherited by every program: nothing secret."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def telegram_env(env: Mapping[str, str] = os.environ) -> Optional[Dict[str, str]]:
    """The front's variables from the caller's environment; None without a bot token."""
    if not env.get("TELEGRAM_BOT_TOKEN"):
        return None
    return {k: v for k, v in env.items() if k.startswith("TELEGRAM_") or k in TELEGRAM_VARIABLES}


def missing_packages() -> List[str]:
    return sorted({package for path, package in PACKAGES.items() if not Path(path).exists()})


def from_environment(prod_dir: Path = PROD_DIR, env: Mapping[str, str] = os.environ) -> Profile:
    tracker = env.get("PROD_DATABASE_URL") or database.local_database(prod_dir=prod_dir)
    return Profile(
        prod_dir=prod_dir,
        tracker_url=tracker,
        knowledge_url=env.get("KNOWLEDGE_DB_URL") or tracker,
        public_port=int(env.get("PROD_PORT") or 8080),
        rest_port=int(env.get("PROD_REST_PORT") or 8081),
        replicas=int(env.get("RASA_REPLICAS") or 2),
        action_servers=int(env.get("ACTION_SERVERS") or 2),
        model=Path(env.get("ASSISTANT_MODEL") or DEFAULT_MODEL),
        public_widget=env.get("PUBLIC_WIDGET") == "1",
        telegram_env=telegram_env(env),
    )


def run(_: argparse.Namespace) -> int:
    missing = missing_packages()
    if missing:
        print(
            f"Missing Debian packages: apt-get install {' '.join(missing)} (make run-prod does it as root)."
        )
        return 1
    try:
        profile = from_environment()
        print(database.init_db(profile.tracker_url, profile.knowledge_url), flush=True)
        profile.write()
    except SetupError as error:
        print(error)
        return 1
    widget = (
        "open to anyone (PUBLIC_WIDGET=1)"
        if profile.public_widget
        else f"user {WIDGET_USER}, password in {profile.prod_dir / 'webchat_password'}"
    )
    print(
        f"\nsupervisord starts {profile.action_servers} action server(s), {profile.replicas} Rasa replica(s) "
        f"(20-60 s to load the model), Redis, nginx"
        f"{' and the Telegram front' if profile.telegram_env else ''}:\n"
        f"  Widget:        http://localhost:{profile.public_port}/webchat/  ({widget})\n"
        f'  REST (local):  POST {profile.rest_url}/webhooks/rest/webhook  {{"sender": "moi", "message": "bonjour"}}\n'
        f"  Health:        http://localhost:{profile.public_port}/healthz\n"
        f"  Conversations: {database.safe_url(profile.tracker_url)}\n"
        f"  State:         {' '.join(profile.supervisorctl('status'))}\n"
        f"  Logs:          {profile.log_dir}/\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    os.execve(SUPERVISORD, profile.supervisord_command(), supervisord_env())
    return 0  # not reached


def check(_: argparse.Namespace) -> int:
    problems = []
    missing = missing_packages()
    if missing:
        problems.append(f"missing Debian packages: apt-get install {' '.join(missing)}")
    if not os.environ.get("PROD_DATABASE_URL"):
        clusters = database.local_clusters()
        if not clusters:
            problems.append("no PostgreSQL: set PROD_DATABASE_URL or apt-get install postgresql")
        elif not any(c["status"] == "online" for c in clusters):
            c = clusters[0]
            problems.append(f"local PostgreSQL stopped: pg_ctlcluster {c['version']} {c['name']} start")
    if not Path(os.environ.get("ASSISTANT_MODEL") or DEFAULT_MODEL).is_file():
        problems.append("no trained model: make train")
    for problem in problems:
        print(problem)
    if not problems:
        print("OK: everything the production profile needs is here.")
    return 1 if problems else 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local_profile", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="prepare everything, then run supervisord in the foreground")
    commands.add_parser("check", help="say what is missing")
    args = parser.parse_args(argv)
    return {"run": run, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
