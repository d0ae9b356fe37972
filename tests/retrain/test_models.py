"""Versioned models (make train): names, the current copy, the registry, no-op when
nothing changed, adoption of an unversioned model, rollback. Training is faked here
(the round-trip test trains for real)."""

import json
import os
import re
import time
from pathlib import Path

import pytest

from retrain import models


@pytest.fixture
def project(tmp_path):
    config, domain = tmp_path / "config.yml", tmp_path / "domain.yml"
    data = tmp_path / "data"
    data.mkdir()
    config.write_text("pipeline: []\n")
    domain.write_text("intents: [a]\n")
    (data / "a.yml").write_text("nlu: []\n")
    return {
        "config": config,
        "domain": domain,
        "data": [data],
        "models_dir": tmp_path / "models",
        "inputs": None,
    }


class FakeRasa:
    """Writes the .tar.gz that `rasa train --out D --fixed-model-name N` would."""

    def __init__(self):
        self.calls = []

    def __call__(self, command, env):
        self.calls.append(command)
        out = Path(command[command.index("--out") + 1])
        name = command[command.index("--fixed-model-name") + 1]
        (out / f"{name}.tar.gz").write_bytes(f"model {len(self.calls)}".encode())
        assert str(models.REPO_ROOT) in env["PYTHONPATH"].split(os.pathsep)
        return 0


def train(project, runner, **kw):
    inputs = models.default_inputs(project["config"], project["domain"], project["data"], code_dir=None)
    return models.train(
        project["config"],
        project["domain"],
        project["data"],
        project["models_dir"],
        inputs=inputs,
        runner=runner,
        **kw,
    )


def test_a_training_gives_a_named_versioned_model_and_the_current_copy(project):
    rasa = FakeRasa()
    model, trained = train(project, rasa)
    assert trained
    assert re.fullmatch(r"assistant-\d{8}T\d{6}Z-[0-9a-f]{8}\.tar\.gz", model["file"])
    folder = project["models_dir"]
    assert (folder / "assistant.tar.gz").read_bytes() == (folder / model["file"]).read_bytes() == b"model 1"
    registry = json.loads((folder / "registry.json").read_text())
    assert registry["current"] == model["file"] and registry["previous"] is None
    assert json.loads((folder / "train_info.json").read_text())["seconds"] >= 0
    assert rasa.calls[0][1:4] == ["-m", "rasa", "train"]


def test_nothing_changed_means_no_training(project):
    rasa = FakeRasa()
    first, _ = train(project, rasa)
    alias = project["models_dir"] / "assistant.tar.gz"
    os.utime(alias, (time.time() - 100, time.time() - 100))
    again, trained = train(project, rasa)
    assert not trained and again["file"] == first["file"] and len(rasa.calls) == 1
    assert alias.stat().st_mtime > time.time() - 10  # touched, so make sees it up to date


def test_a_data_change_makes_a_new_version_and_keeps_the_previous(project):
    rasa = FakeRasa()
    first, _ = train(project, rasa)
    (project["data"][0] / "a.yml").write_text("nlu: [changed]\n")
    time.sleep(1.1)  # the names hold the time to the second
    second, trained = train(project, rasa)
    assert trained and second["file"] != first["file"]
    assert second["inputs_sha256"][:8] in second["file"]
    registry = models.load_registry(project["models_dir"])
    assert registry["current"] == second["file"] and registry["previous"] == first["file"]
    assert models.model_path(registry, "previous", project["models_dir"]).read_bytes() == b"model 1"

    restored = models.rollback(project["models_dir"])
    assert restored["file"] == first["file"]
    assert (project["models_dir"] / "assistant.tar.gz").read_bytes() == b"model 1"
    registry = models.load_registry(project["models_dir"])
    assert registry["current"] == first["file"] and registry["previous"] == second["file"]


def test_a_model_trained_before_versioning_becomes_the_previous_one(project):
    folder = project["models_dir"]
    folder.mkdir()
    (folder / "assistant.tar.gz").write_bytes(b"old unversioned model")
    model, _ = train(project, FakeRasa())
    registry = models.load_registry(folder)
    assert registry["previous"].endswith("-unknown.tar.gz")
    assert (folder / registry["previous"]).read_bytes() == b"old unversioned model"
    assert registry["current"] == model["file"]


def test_a_failed_training_leaves_the_current_model(project):
    train(project, FakeRasa())
    before = (project["models_dir"] / "assistant.tar.gz").read_bytes()
    (project["data"][0] / "a.yml").write_text("nlu: [broken]\n")
    with pytest.raises(RuntimeError, match="Training failed"):
        train(project, lambda command, env: 1)
    assert (project["models_dir"] / "assistant.tar.gz").read_bytes() == before


def test_old_versions_are_pruned(project):
    rasa = FakeRasa()
    for i in range(4):
        (project["data"][0] / "a.yml").write_text(f"nlu: [{i}]\n")
        train(project, rasa, keep=2, force=True)
        registry = models.load_registry(project["models_dir"])
        for m in registry["models"]:  # distinct, older creation times without waiting
            if m["file"] == registry["current"]:
                m["created_at"] = f"2020-01-0{i + 1}"
        models.save_registry(registry, project["models_dir"])
    registry = models.load_registry(project["models_dir"])
    files = sorted(p.name for p in project["models_dir"].glob("assistant-*.tar.gz"))
    assert len(registry["models"]) == 2 and files == sorted(m["file"] for m in registry["models"])


def test_a_deleted_copy_is_restored_without_training(project):
    rasa = FakeRasa()
    first, _ = train(project, rasa)
    (project["models_dir"] / "assistant.tar.gz").unlink()
    again, trained = train(project, rasa)
    assert not trained and len(rasa.calls) == 1
    assert (project["models_dir"] / "assistant.tar.gz").read_bytes() == b"model 1"
