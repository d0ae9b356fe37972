"""The nginx site of the production profile, from deploy/nginx/assistant.conf.template.

    python -m deploy.nginx_site --server-name assistant.example.org \
        --webchat-htpasswd /etc/nginx/assistant.htpasswd [--tls] > /etc/nginx/sites-available/assistant

prints the site of a systemd installation (docs/deploy.md); `make run-prod` renders its
own copy (deploy/local_profile.py). The staff widget needs a password file, unless
--public-widget (or PUBLIC_WIDGET=1) says on purpose that anyone may use it.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import pwd
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from deploy.template import SetupError, render
from project_paths import REPO_ROOT

NGINX_DIR = REPO_ROOT / "deploy" / "nginx"
WIDGET_REALM = "Assistant - equipes"


def is_loopback(listen: str) -> bool:
    """True for 127.0.0.1:8080, [::1]:8080, localhost:8080."""
    host = listen.rsplit(":", 1)[0].strip("[]") if ":" in listen else ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class NginxSite:
    """What varies between the nginx sites of `make run-prod` and of a server."""

    rasa_servers: List[str]  # host:port of each replica
    actions_servers: List[str]  # host:port of each action server
    actions_listen: str  # where the replicas find the action servers
    rest_listen: str  # loopback address:port of the REST server
    listen: List[str] = field(default_factory=lambda: ["80", "[::]:80"])
    server_name: str = "_"
    log_dir: str = "/var/log/nginx"
    tls: Optional[Tuple[str, str]] = None  # (certificate, key): HTTPS, and 80 redirects
    acme_root: Optional[str] = None  # webroot of Let's Encrypt's HTTP challenge
    telegram: Optional[Tuple[str, int]] = None  # (webhook path, local port of the front)
    webchat_htpasswd: Optional[str] = None  # password file protecting the widget
    public_widget: bool = False  # no password, on purpose

    def render(self) -> str:
        if not self.webchat_htpasswd and not self.public_widget:
            raise SetupError(
                "The staff widget needs a password file (--webchat-htpasswd FILE), "
                "or --public-widget / PUBLIC_WIDGET=1 to open it to anyone on purpose."
            )
        for address in (self.rest_listen, self.actions_listen):
            if not is_loopback(address):
                raise SetupError(
                    f"{address}: the REST channel and the action servers' balancer "
                    "listen on a loopback address only (127.0.0.1:port)."
                )
        upstream = "    server {} max_fails=0;"
        listen = "\n".join(f"    listen {spec}{' ssl http2' if self.tls else ''};" for spec in self.listen)
        if self.tls:
            listen += (
                f"\n    ssl_certificate {self.tls[0]};\n    ssl_certificate_key {self.tls[1]};"
                "\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_cache shared:assistant_tls:1m;"
                '\n    add_header Strict-Transport-Security "max-age=31536000" always;'
            )
        acme = ""
        if self.acme_root:
            acme = f"\n    location /.well-known/acme-challenge/ {{\n        root {self.acme_root};\n    }}\n"
        redirect = ""
        if self.tls:
            redirect = (
                "\n# Plain HTTP: Let's Encrypt's challenge, and a redirect to HTTPS.\nserver {\n"
                f"    listen 80;\n    listen [::]:80;\n    server_name {self.server_name};\n"
                f"    server_tokens off;\n    access_log {self.log_dir}/assistant-access.log assistant;\n"
                f"    error_log {self.log_dir}/assistant-error.log crit;"
                f"{acme.rstrip()}\n    location / {{ return 301 https://$host$request_uri; }}\n}}\n"
            )
            acme = ""
        telegram = ""
        if self.telegram:
            path, port = self.telegram
            telegram = (
                "\n    # Telegram's webhook (HTTPS in production): the Telegram front checks the\n"
                "    # secret token header of every update. Compressed bodies are refused before\n"
                "    # they reach the front (its parser would inflate them before that check).\n"
                f"    location = {path} {{\n"
                "        if ($http_content_encoding) { return 415; }\n"
                "        client_max_body_size 1m;\n        client_body_buffer_size 1m;\n"
                f"        proxy_pass http://127.0.0.1:{port};\n    }}\n"
            )
        auth = ""
        if self.webchat_htpasswd:
            auth = (
                f'        auth_basic "{WIDGET_REALM}";\n        auth_basic_user_file {self.webchat_htpasswd};'
            )
        values = {
            "rasa_servers": "\n".join(upstream.format(s) for s in self.rasa_servers),
            "actions_servers": "\n".join(upstream.format(s) for s in self.actions_servers),
            "actions_listen": self.actions_listen,
            "rest_listen": self.rest_listen,
            "listen": listen,
            "server_name": self.server_name,
            "log_dir": self.log_dir,
            "redirect_server": redirect,
            "telegram_location": telegram,
            "acme_location": acme,
            "webchat_auth": auth,
        }
        return render(NGINX_DIR / "assistant.conf.template", values)


def nginx_program() -> str:
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "nginx"


def standalone_config(prod_dir: Path, log_dir: Path) -> str:
    """nginx's main file for `make run-prod`: everything it writes stays under prod_dir."""
    user = ""
    if os.geteuid() == 0:  # workers drop root; without root nginx runs as the caller
        for name in ("www-data", "nobody"):
            try:
                pwd.getpwnam(name)
                user = f"user {name};"
                break
            except KeyError:
                continue
    return render(
        NGINX_DIR / "standalone.conf.template",
        {"user": user, "prod_dir": str(prod_dir), "log_dir": str(log_dir)},
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.nginx_site", description=__doc__.splitlines()[0])
    parser.add_argument("--server-name", default="_", help="public host name, e.g. assistant.example.org")
    parser.add_argument("--tls", action="store_true", help="HTTPS on 443 (Let's Encrypt paths) and 80 -> 443")
    parser.add_argument("--certificate")
    parser.add_argument("--key")
    parser.add_argument("--listen", action="append", help="public listen directive(s) (default 80 or 443)")
    parser.add_argument(
        "--rest-listen",
        default="127.0.0.1:8080",
        help="loopback listener of the REST channel (the Telegram front's RASA_URL)",
    )
    parser.add_argument("--rasa", default="127.0.0.1:5005,127.0.0.1:5006", help="replicas, host:port,...")
    parser.add_argument("--actions", default="127.0.0.1:5056,127.0.0.1:5057", help="action servers")
    parser.add_argument("--actions-listen", default="127.0.0.1:5055", help="their load balancer")
    parser.add_argument("--telegram-webhook-url", default=os.environ.get("TELEGRAM_WEBHOOK_URL"))
    parser.add_argument(
        "--telegram-port", type=int, default=int(os.environ.get("TELEGRAM_WEBHOOK_PORT") or 8443)
    )
    parser.add_argument("--acme-root", default="/var/www/letsencrypt")
    parser.add_argument("--webchat-htpasswd", help="password file of the staff widget (htpasswd)")
    parser.add_argument(
        "--public-widget",
        action="store_true",
        default=os.environ.get("PUBLIC_WIDGET") == "1",
        help="no password on the widget: anyone may use it (PUBLIC_WIDGET=1)",
    )
    parser.add_argument("--log-dir", default="/var/log/nginx")
    args = parser.parse_args(argv)
    telegram = None
    if args.telegram_webhook_url:
        telegram = (urlsplit(args.telegram_webhook_url).path or "/", args.telegram_port)
    tls = None
    if args.tls:
        live = f"/etc/letsencrypt/live/{args.server_name}"
        tls = (args.certificate or f"{live}/fullchain.pem", args.key or f"{live}/privkey.pem")
    site = NginxSite(
        rasa_servers=args.rasa.split(","),
        actions_servers=args.actions.split(","),
        actions_listen=args.actions_listen,
        rest_listen=args.rest_listen,
        listen=args.listen or (["443", "[::]:443"] if tls else ["80", "[::]:80"]),
        server_name=args.server_name,
        log_dir=args.log_dir,
        tls=tls,
        acme_root=args.acme_root,
        telegram=telegram,
        webchat_htpasswd=args.webchat_htpasswd,
        public_widget=args.public_widget,
    )
    try:
        sys.stdout.write(site.render())
    except SetupError as error:
        print(f"deploy.nginx_site: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
