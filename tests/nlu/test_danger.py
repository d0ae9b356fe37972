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
    f'- {{text: "{text}", lang: fr, label: {label}, case: {case}}}\n'
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
    ]
)


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "danger"
    folder.mkdir()
    (folder / "tiny.yml").write_text(TINY, encoding="utf-8")
    return folder


def _context():
    return ExecutionContext(GraphSchema({}), "test")


def _trained(tmp_path, data_dir, **config):
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    config = {
        **DangerDetector.get_default_config(),
        "data_dir": str(data_dir),
        "threshold": 0.5,
        "keywords": False,
        **config,
    }
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
    [danger, child, safe] = detector.process(
        [
            _message("un homme me suit dans la rue"),
            _message("mon fils est enfermé chez eux"),
            _message("comment avoir un titre de séjour"),
        ]
    )
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
    detector = DangerDetector.load(DangerDetector.get_default_config(), storage, Resource("none"), _context())
    [message] = detector.process([_message("au secours")])
    assert message.get("danger") is None


def test_segments_cut_clauses_and_keep_the_joining_word():
    from nlu.danger_model import segments

    text = "il me frappe en ce moment, comment porter plainte ?"
    assert segments(text, "clauses") == [text, "il me frappe en ce moment", "comment porter plainte"]
    assert segments("il est là et si je sors il me tue", "clauses")[1:] == [
        "il est là",
        "si je sors il me tue",
    ]  # "et" alone between two breaks: dropped
    assert segments(text, "message") == [text]
    assert segments("ضربني الآن و أنفي ينزف، كيف أقدم شكوى؟", "clauses")[1:] == [
        "ضربني الآن",
        "و أنفي ينزف",
        "كيف أقدم شكوى",
    ]


def test_a_danger_clause_followed_by_a_question_keeps_a_danger_score(tmp_path, data_dir):
    mixed = "un homme me suit maintenant, comment avoir un titre de séjour ?"
    whole = _trained(tmp_path / "a", data_dir, segments="message").model
    by_clause = _trained(tmp_path / "b", data_dir, segments="clauses", combine="mean").model
    assert by_clause.segment_mode == "clauses" and by_clause.combine == "mean"  # persisted
    assert by_clause.scores([mixed])[0] > whole.scores([mixed])[0]
    best = by_clause.best_parts([mixed])[1][0]
    assert best == "un homme me suit maintenant"
