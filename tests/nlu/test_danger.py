"""The danger detector component: trained on a tiny set, persisted, loaded, applied."""
import textwrap

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.danger import DangerDetector

TINY = textwrap.dedent("""\
    version: 1
    examples:
    """) + "".join(
    f"- {{text: \"{text}\", lang: fr, label: {label}, case: {case}}}\n"
    for text, label, case in [
        ("il me suit dans la rue", "danger", "general"),
        ("un homme me suit maintenant", "danger", "general"),
        ("il frappe à la porte il va entrer", "danger", "general"),
        ("je suis enfermée dans la chambre", "danger", "general"),
        ("mon fils est enfermé avec lui", "danger", "child"),
        ("ma petite fille est en danger chez eux", "danger", "child"),
        ("je veux mourir ce soir", "danger", "suicide"),
        ("je vais mettre fin à ma vie", "danger", "suicide"),
        ("comment avoir un titre de séjour", "safe", "null"),
        ("il m'a frappée il y a deux ans", "safe", "null"),
        ("où trouver un avocat gratuit", "safe", "null"),
        ("merci beaucoup", "safe", "null"),
        ("bonjour", "safe", "null"),
        ("que faire si on me suivait un jour", "safe", "null"),
    ])


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "danger"
    folder.mkdir()
    (folder / "tiny.yml").write_text(TINY, encoding="utf-8")
    return folder


def _context():
    return ExecutionContext(GraphSchema({}), "test")


def _trained(tmp_path, data_dir, **config):
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    config = {**DangerDetector.get_default_config(), "data_dir": str(data_dir),
              "threshold": 0.5, "keywords": False, **config}
    detector = DangerDetector.create(config, storage, Resource("danger"), _context())
    detector.train(TrainingData([]))
    return DangerDetector.load(config, storage, Resource("danger"), _context())


def _message(text, intent="titre-sejour"):
    message = Message.build(text=text)
    message.set("intent", {"name": intent, "confidence": 0.9}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": 0.9}], add_to_output=True)
    return message


def test_loaded_model_flags_danger_with_its_case_and_adds_the_entity(tmp_path, data_dir):
    detector = _trained(tmp_path, data_dir)
    [danger, child, safe] = detector.process([
        _message("un homme me suit dans la rue"),
        _message("mon fils est enfermé chez eux"),
        _message("comment avoir un titre de séjour"),
    ])
    assert danger.get("danger")["detected"] is True and danger.get("danger")["case"] == "general"
    assert [e["entity"] for e in danger.get("entities")] == ["danger_general"]
    assert danger.get("intent")["name"] == "titre-sejour"  # the topic answer still follows
    assert child.get("danger")["case"] == "child"
    assert safe.get("danger")["detected"] is False and not safe.get("entities")
    assert "danger" in danger.as_dict(only_output_properties=True)


def test_a_cry_for_help_alone_becomes_urgence(tmp_path, data_dir):
    detector = _trained(tmp_path, data_dir)
    [message] = detector.process([_message("je veux mourir ce soir", intent="nlu_fallback")])
    assert message.get("intent")["name"] == "urgence"
    assert [e["entity"] for e in message.get("entities")] == ["danger_suicide"]


def test_button_payloads_are_left_alone(tmp_path, data_dir):
    detector = _trained(tmp_path, data_dir)
    [message] = detector.process([_message('/en_savoir_plus{"topic":"asile"}', "en_savoir_plus")])
    assert message.get("danger") is None and not message.get("entities")


def test_threshold_one_flags_nothing(tmp_path, data_dir):
    detector = _trained(tmp_path, data_dir, threshold=1.01, rescue_fallback=False)
    [message] = detector.process([_message("un homme me suit dans la rue")])
    assert message.get("danger")["detected"] is False


def test_untrained_detector_flags_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path / "empty")
    detector = DangerDetector.load(DangerDetector.get_default_config(), storage,
                                   Resource("none"), _context())
    [message] = detector.process([_message("au secours")])
    assert message.get("danger") is None
