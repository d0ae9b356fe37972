"""The deployment files themselves: the nginx sites that `python -m deploy.run_prod
nginx-config` writes for a server are accepted by nginx, and the systemd units by systemd
(`nginx -t` and `systemd-analyze verify` open no port and start nothing)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy import run_prod
from project_paths import REPO_ROOT

UNITS = REPO_ROOT / "deploy" / "systemd"


def nginx_accepts(site_text: str, directory: Path) -> subprocess.CompletedProcess:
    site = directory / "assistant.conf"
    site.write_text(site_text)
    main = directory / "nginx.conf"
    main.write_text(f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
                    f"events {{}}\nhttp {{ include {site}; }}\n")
    return subprocess.run([run_prod.program("nginx"), "-t", "-q", "-p", str(directory), "-c", str(main),
                           "-e", str(directory / "error.log")], capture_output=True, text=True)


def test_https_site_with_telegram_webhook_and_widget_password(tmp_path, capsys):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=assistant.example.org", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    (tmp_path / "htpasswd").write_text("equipe:$apr1$abcdefgh$0123456789abcdefghijkl\n")
    assert run_prod.main([
        "nginx-config", "--server-name", "assistant.example.org", "--tls",
        "--certificate", str(cert), "--key", str(key),
        "--telegram-webhook-url", "https://assistant.example.org/telegram/x1y2",
        "--webchat-htpasswd", str(tmp_path / "htpasswd"), "--log-dir", str(tmp_path),
    ]) == 0
    text = capsys.readouterr().out
    assert "location = /telegram/x1y2" in text and "return 301 https://$host$request_uri" in text
    assert "listen 443 ssl http2;" in text and "listen 127.0.0.1:8080;" in text
    assert text.count("auth_basic_user_file") == 2  # the page and its socket
    done = nginx_accepts(text, tmp_path)
    assert done.returncode == 0, done.stderr


def test_plain_http_site(tmp_path, capsys):
    assert run_prod.main(["nginx-config", "--log-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "/telegram/" not in text and " ssl" not in text and "acme-challenge" in text
    done = nginx_accepts(text, tmp_path)
    assert done.returncode == 0, done.stderr


def test_systemd_units_are_valid(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing")
    paths = []
    for unit in sorted(UNITS.iterdir()):
        # The units name /opt/assistant; here the repository stands in for it.
        text = unit.read_text().replace("/opt/assistant", str(REPO_ROOT))
        target = tmp_path / unit.name.replace("@.", "@5005.")
        target.write_text(text)
        paths.append(str(target))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert not problems, problems


def test_kubernetes_manifest_runs_modules_that_exist():
    import importlib.util

    import yaml

    documents = [d for d in yaml.safe_load_all((REPO_ROOT / "deploy" / "kubernetes" / "assistant.yaml").read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    for expected in [("Deployment", "assistant-rasa"), ("Deployment", "assistant-actions"),
                     ("Deployment", "assistant-telegram"), ("Job", "assistant-init-db"),
                     ("CronJob", "assistant-retention")]:
        assert expected in kinds
    for document in documents:
        spec = document.get("spec", {})
        pod = (spec.get("jobTemplate", {}).get("spec", spec)).get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            command = container.get("command") or []
            if command[:2] == ["python", "-m"]:
                assert importlib.util.find_spec(command[2]) is not None, command
    rasa = next(d for d in documents if d["metadata"]["name"] == "assistant-rasa" and d["kind"] == "Deployment")
    assert rasa["spec"]["replicas"] >= 2
    paths = [p["path"] for d in documents if d["kind"] == "Ingress"
             for rule in d["spec"]["rules"] for p in rule["http"]["paths"]]
    assert not any(p.startswith(("/model", "/conversations", "/webhooks")) or p == "/" for p in paths)
