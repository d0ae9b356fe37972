"""make deploy-model without a server: the regression gate's verdict is respected and
the deployment is recorded (the reload itself: test_reload_e2e.py)."""

import json

from retrain import deploy, models


def write_verdict(reports, model, passed):
    reports.mkdir(exist_ok=True)
    (reports / "regression.json").write_text(
        json.dumps(
            {
                "passed": passed,
                "candidate_sha256": models.file_sha256(model),
                "reasons": []
                if passed
                else ["recall dropped by more than 10 points for: sante (100 % -> 50 %)"],
            }
        )
    )


def test_a_model_that_failed_the_gate_is_not_deployed(tmp_path, monkeypatch, capsys):
    model = tmp_path / "assistant-x.tar.gz"
    model.write_bytes(b"model")
    write_verdict(tmp_path / "reports", model, passed=False)
    called = []
    monkeypatch.setattr(deploy, "deploy", lambda *a, **k: called.append(a))
    assert deploy.main(["--model", str(model), "--reports", str(tmp_path / "reports")]) == 1
    assert "sante" in capsys.readouterr().err and called == []

    monkeypatch.setattr(
        deploy, "deploy", lambda *a, **k: called.append(a) or {"model_file": str(model), "model_id": "abc"}
    )
    assert deploy.main(["--model", str(model), "--reports", str(tmp_path / "reports"), "--force"]) == 0
    assert len(called) == 1


def test_the_gate_of_another_model_does_not_block(tmp_path):
    model, other = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    model.write_bytes(b"a")
    other.write_bytes(b"b")
    write_verdict(tmp_path / "reports", other, passed=False)
    assert deploy.gate_failed(model, tmp_path / "reports") is None
    write_verdict(tmp_path / "reports", model, passed=True)
    assert deploy.gate_failed(model, tmp_path / "reports") is None


def test_the_deployment_is_recorded_and_becomes_the_baseline(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    old, new = folder / "assistant-1.tar.gz", folder / "assistant-2.tar.gz"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    registry = {
        "current": new.name,
        "previous": old.name,
        "deployed": None,
        "models": [
            {"file": p.name, "created_at": str(i), "sha256": models.file_sha256(p)}
            for i, p in enumerate((old, new))
        ],
    }
    models.save_registry(registry, folder)
    monkeypatch.setattr(
        deploy, "load_model", lambda url, model, token: {"model_file": str(model), "model_id": "x"}
    )
    deploy.deploy(old, "http://rasa:5005", "token", models_dir=folder)
    saved = models.load_registry(folder)
    assert saved["deployed"]["file"] == old.name and saved["deployed"]["url"] == "http://rasa:5005"

    from retrain.regression import default_baseline

    assert default_baseline(new, folder) == old  # the deployed model is the baseline
    deploy.deploy(new, "http://rasa:5005", "token", models_dir=folder)
    assert default_baseline(new, folder) == old  # deployed == evaluated: the previous one
