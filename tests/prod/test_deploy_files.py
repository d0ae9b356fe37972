"""The deployment files themselves: the nginx sites that `python -m deploy.nginx_site`
writes for a server are accepted by nginx, the systemd units by systemd, the supervisord
configuration of `make run-prod` by supervisord (`nginx -t`, `systemd-analyze verify`
and a configuration check open no port and start nothing); what each process receives;
the Kubernetes manifest's isolation."""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy import nginx_site, rasa_server
from deploy.local_profile import Profile
from project_paths import REPO_ROOT

UNITS = REPO_ROOT / "deploy" / "systemd"
MANIFEST = REPO_ROOT / "deploy" / "kubernetes" / "assistant.yaml"
FRONT_SECRETS = {"TELEGRAM_BOT_TOKEN", "SENDER_ID_SECRET", "TELEGRAM_WEBHOOK_SECRET"}


def nginx_accepts(site_text: str, directory: Path) -> subprocess.CompletedProcess:
    site = directory / "assistant.conf"
    site.write_text(site_text)
    main = directory / "nginx.conf"
    main.write_text(
        f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
        f"events {{}}\nhttp {{ include {site}; }}\n"
    )
    return subprocess.run(
        [
            nginx_site.nginx_program(),
            "-t",
            "-q",
            "-p",
            str(directory),
            "-c",
            str(main),
            "-e",
            str(directory / "error.log"),
        ],
        capture_output=True,
        text=True,
    )


def server_blocks(text: str) -> list:
    """The text of each top-level `server { ... }` block."""
    blocks, depth, start = [], 0, None
    for match in re.finditer(r"^server \{|\{|\}", text, flags=re.MULTILINE):
        if match.group() == "server {" and depth == 0:
            start, depth = match.start(), 1
        elif match.group() == "{" or match.group() == "server {":
            depth += 1 if start is not None else 0
        elif start is not None:
            depth -= 1
            if depth == 0:
                blocks.append(text[start : match.end()])
                start = None
    return blocks


def test_https_site_with_telegram_webhook_and_widget_password(tmp_path, capsys):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=assistant.example.org",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "htpasswd").write_text("equipe:$apr1$abcdefgh$0123456789abcdefghijkl\n")
    assert (
        nginx_site.main(
            [
                "--server-name",
                "assistant.example.org",
                "--tls",
                "--certificate",
                str(cert),
                "--key",
                str(key),
                "--telegram-webhook-url",
                "https://assistant.example.org/telegram/x1y2",
                "--webchat-htpasswd",
                str(tmp_path / "htpasswd"),
                "--log-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "return 301 https://$host$request_uri" in text and "listen 443 ssl http2;" in text
    assert text.count("auth_basic_user_file") == 3  # the page, its votes and its socket
    # The webhook in a location of its own, refusing compressed bodies (S6, S12).
    webhook = text[text.index("location = /telegram/x1y2") :]
    webhook = webhook[: webhook.index("\n    }\n")]
    assert "if ($http_content_encoding) { return 415; }" in webhook
    done = nginx_accepts(text, tmp_path)
    assert done.returncode == 0, done.stderr


def test_rest_is_served_on_loopback_only_and_the_widget_is_limited(tmp_path, capsys):
    assert nginx_site.main(["--public-widget", "--log-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "/telegram/" not in text and " ssl" not in text and "acme-challenge" in text
    assert "auth_basic" not in text
    blocks = server_blocks(text)
    rest = [b for b in blocks if "location /webhooks/rest/" in b]
    assert len(rest) == 1 and re.findall(r"^\s*listen (\S+);", rest[0], flags=re.MULTILINE) == [
        "127.0.0.1:8080"
    ]
    public = next(b for b in blocks if "/socket.io/" in b)
    assert "location /webhooks/rest/" not in public and "listen 80;" in public
    socket = public[public.index("location /socket.io/") :]
    assert "limit_conn assistant_socket_conn" in socket and "limit_req zone=assistant_socket_req" in socket
    feedback = public[public.index("location = /webchat/feedback") :]
    assert "limit_req zone=assistant_feedback" in feedback.split("}")[0]
    # nginx's error lines carry the client's address: every server logs them at crit only.
    for block in blocks:
        assert re.search(r"error_log \S+ crit;", block), block[:200]
    done = nginx_accepts(text, tmp_path)
    assert done.returncode == 0, done.stderr


def test_the_widget_needs_a_password_unless_public_on_purpose(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PUBLIC_WIDGET", raising=False)
    assert nginx_site.main(["--log-dir", str(tmp_path)]) == 2
    assert "--webchat-htpasswd" in capsys.readouterr().err
    assert nginx_site.main(["--rest-listen", "0.0.0.0:8080", "--public-widget"]) == 2
    assert "loopback" in capsys.readouterr().err
    monkeypatch.setenv("PUBLIC_WIDGET", "1")
    assert nginx_site.main(["--log-dir", str(tmp_path)]) == 0


def test_replicas_run_without_rasas_api_unless_asked_for_maintenance():
    from rasa.__main__ import create_argument_parser

    parse = create_argument_parser().parse_args
    args = parse(rasa_server.rasa_arguments(["--port", "5005"], {"RASA_API_TOKEN": "x" * 32}))
    assert not args.enable_api and args.auth_token is None and args.port == 5005
    args = parse(
        rasa_server.rasa_arguments(["--maintenance-api", "--port", "5099"], {"RASA_API_TOKEN": "t" * 32})
    )
    assert args.enable_api and args.auth_token == "t" * 32 and args.interface == "127.0.0.1"
    with pytest.raises(rasa_server.UsageError, match="loopback"):
        rasa_server.rasa_arguments(
            ["--maintenance-api"], {"RASA_API_TOKEN": "t" * 32, "RASA_INTERFACE": "0.0.0.0"}
        )
    with pytest.raises(rasa_server.UsageError, match="RASA_API_TOKEN"):
        rasa_server.rasa_arguments(["--maintenance-api"], {})
    for unit in UNITS.glob("*.service"):
        assert "--enable-api" not in unit.read_text() and "--maintenance-api" not in unit.read_text()


def test_supervisord_configuration_gives_each_program_its_own_settings(tmp_path):
    url = "postgresql://u@127.0.0.1:5432/db"
    telegram = {
        "TELEGRAM_BOT_TOKEN": "1:" + "t" * 30,
        "SENDER_ID_SECRET": "s" * 64,
        "TELEGRAM_WEBHOOK_URL": "https://x/telegram/abc",
        "TELEGRAM_WEBHOOK_SECRET": "w" * 40,
    }
    profile = Profile(
        prod_dir=tmp_path / "prod",
        tracker_url=url,
        knowledge_url=url + "_kb",
        public_port=1,
        rest_port=2,
        telegram_env=telegram,
    )
    config_file = profile.write()
    assert oct(config_file.stat().st_mode & 0o777) == "0o600"
    assert oct((profile.prod_dir / "redis.conf").stat().st_mode & 0o777) == "0o600"
    done = subprocess.run(
        ["/usr/bin/supervisord", "--configuration", str(config_file), "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    parser.read(config_file)

    def env(program: str) -> dict:
        raw = parser.get(f"program:{program}", "environment", fallback="")
        return dict(re.findall(r'(\w+)="([^"]*)"', raw))

    rasa, actions, front = env("rasa"), env("actions"), env("telegram")
    assert rasa["TRACKER_DB_URL"] == url and "REDIS_PASSWORD" in rasa
    assert not FRONT_SECRETS & set(rasa) and "KNOWLEDGE_DB_URL" not in rasa and "RASA_API_TOKEN" not in rasa
    assert actions["KNOWLEDGE_DB_URL"] == url + "_kb" and not FRONT_SECRETS & set(actions)
    assert FRONT_SECRETS <= set(front) and not {"TRACKER_DB_URL", "REDIS_PASSWORD"} & set(front)
    assert front["RASA_URL"] == "http://127.0.0.1:2"
    assert not env("nginx") and not env("redis")
    # The widget's password file exists and nginx accepts the rendered site and main file.
    assert (profile.prod_dir / "nginx" / "webchat.htpasswd").read_text().startswith("equipe:{SSHA}")
    main = profile.prod_dir / "nginx" / "nginx.conf"
    done = subprocess.run(
        [
            nginx_site.nginx_program(),
            "-t",
            "-q",
            "-p",
            str(profile.prod_dir / "nginx"),
            "-c",
            str(main),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string((UNITS / name).read_text())
    return parser


def test_systemd_units_give_each_service_its_own_account_and_env_file():
    services = {
        "assistant-rasa@.service": ("assistant-rasa", "rasa.env"),
        "assistant-actions@.service": ("assistant-actions", "actions.env"),
        "assistant-telegram.service": ("assistant-telegram", "telegram.env"),
        "assistant-init.service": ("assistant", "jobs.env"),
        "assistant-retention.service": ("assistant", "jobs.env"),
        "assistant-backup.service": ("assistant", "jobs.env"),
    }
    assert set(services) == {p.name for p in UNITS.glob("*.service")}
    for name, (user, env_file) in services.items():
        service = unit(name)["Service"]
        assert service["User"] == user and service["EnvironmentFile"] == f"/etc/assistant/{env_file}", name
    examples = {p.name: p.read_text() for p in (REPO_ROOT / "deploy" / "env").glob("*.env.example")}
    assert set(examples) == {
        "rasa.env.example",
        "actions.env.example",
        "telegram.env.example",
        "jobs.env.example",
    }
    for name, text in examples.items():
        variables = set(re.findall(r"^([A-Z_]+)=", text, flags=re.MULTILINE))
        assert (FRONT_SECRETS <= variables) == (name == "telegram.env.example"), name
        assert not FRONT_SECRETS & variables or name == "telegram.env.example", name
        assert "RASA_API_TOKEN" not in variables


def test_systemd_units_are_valid(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing")
    paths = []
    for unit_file in sorted(UNITS.iterdir()):
        # The units name /opt/assistant; here the repository stands in for it.
        text = unit_file.read_text().replace("/opt/assistant", str(REPO_ROOT))
        target = tmp_path / unit_file.name.replace("@.", "@5005.")
        target.write_text(text)
        paths.append(str(target))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *paths],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert not problems, problems


def manifest() -> list:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def pods(documents: list):
    """(name, pod spec) of every workload."""
    for document in documents:
        spec = document.get("spec", {})
        pod = (spec.get("jobTemplate", {}).get("spec", spec)).get("template", {}).get("spec")
        if pod:
            yield document["metadata"]["name"], pod


def test_kubernetes_manifest_runs_modules_that_exist():
    import importlib.util

    documents = manifest()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    for expected in [
        ("Deployment", "assistant-rasa"),
        ("Deployment", "assistant-actions"),
        ("Deployment", "assistant-telegram"),
        ("Job", "assistant-init-db"),
        ("CronJob", "assistant-retention"),
    ]:
        assert expected in kinds
    for _, pod in pods(documents):
        for container in pod["containers"]:
            command = container.get("command") or []
            if command[:2] == ["python", "-m"]:
                assert importlib.util.find_spec(command[2]) is not None, command
            assert "--enable-api" not in command
    rasa = next(
        d for d in documents if d["metadata"]["name"] == "assistant-rasa" and d["kind"] == "Deployment"
    )
    assert rasa["spec"]["replicas"] >= 2
    paths = [
        p["path"]
        for d in documents
        if d["kind"] == "Ingress"
        for rule in d["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]
    assert not any(p.startswith(("/model", "/conversations", "/webhooks")) or p == "/" for p in paths)


def test_kubernetes_pods_are_locked_down_and_get_only_their_secrets():
    documents = manifest()
    secrets_of = {}
    for name, pod in pods(documents):
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"], name
            secrets_of.setdefault(name, set()).update(
                {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
                | {
                    e["valueFrom"]["secretKeyRef"]["name"]
                    for e in container.get("env", [])
                    if "valueFrom" in e
                }
            )
    assert secrets_of == {
        "assistant-init-db": {"assistant-jobs"},
        "assistant-retention": {"assistant-jobs"},
        "assistant-redis": {"assistant-redis"},
        "assistant-actions": {"assistant-actions"},
        "assistant-rasa": {"assistant-rasa", "assistant-redis"},
        "assistant-telegram": {"assistant-telegram"},
    }
    redis = next(pod for name, pod in pods(documents) if name == "assistant-redis")["containers"][0]
    assert "--requirepass" in redis["args"]


def test_kubernetes_network_policies_isolate_rest_actions_and_redis():
    policies = {d["metadata"]["name"]: d["spec"] for d in manifest() if d["kind"] == "NetworkPolicy"}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}

    def sources(app: str) -> list:
        spec = next(s for s in policies.values() if s["podSelector"].get("matchLabels", {}).get("app") == app)
        return [peer for rule in spec["ingress"] for peer in rule["from"]]

    from_rasa = [{"podSelector": {"matchLabels": {"app": "assistant-rasa"}}}]
    assert sources("assistant-actions") == from_rasa and sources("assistant-redis") == from_rasa
    rasa_sources = sources("assistant-rasa")
    assert {"podSelector": {"matchLabels": {"app": "assistant-telegram"}}} in rasa_sources
    assert all(
        "namespaceSelector" in p or p["podSelector"]["matchLabels"]["app"] == "assistant-telegram"
        for p in rasa_sources
    )


def test_docs_never_put_a_token_on_a_command_line():
    docs = (REPO_ROOT / "docs" / "deploy.md").read_text()
    # A token in curl's arguments shows in `ps`: it goes on curl's standard input.
    assert not re.search(r"curl [^\n|]*token", docs)
    assert "curl -s --config -" in docs
