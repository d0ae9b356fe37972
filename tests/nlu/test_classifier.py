"""Unit tests of the linear intent classifier (nlu/classifier.py)."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.classifier import TfidfLogRegClassifier
from project_paths import HELDOUT_DIR, NLU_DATA_DIR

EXAMPLES = {
    "salutation": ["bonjour", "salut", "bonsoir", "coucou", "bonjour à vous"],
    "sante": [
        "je suis malade",
        "voir un médecin",
        "aller à l'hôpital",
        "j'ai mal au ventre",
        "un docteur sans papiers",
    ],
    "asile": [
        "demander l'asile",
        "statut de réfugié",
        "protection subsidiaire",
        "entretien à l'ofpra",
        "demande d'asile en france",
    ],
}


def _training_data():
    return TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts])


@pytest.fixture()
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def _context():
    return ExecutionContext(GraphSchema({}), "test")


def test_train_process_persist_load(storage):
    resource = Resource("clf")
    config = {**TfidfLogRegClassifier.get_default_config(), "C": 10}
    clf = TfidfLogRegClassifier.create(config, storage, resource, _context())
    clf.train(_training_data())

    message = Message(data={TEXT: "je veux voir un médecin"})
    clf.process([message])
    assert message.get(INTENT)["name"] == "sante"
    ranking = message.get(INTENT_RANKING_KEY)
    assert len(ranking) == 3
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    assert ranking[0]["confidence"] >= ranking[1]["confidence"]

    loaded = TfidfLogRegClassifier.load(config, storage, resource, _context())
    again = Message(data={TEXT: "je veux voir un médecin"})
    loaded.process([again])
    assert again.get(INTENT) == message.get(INTENT)
    texts = [Message(data={TEXT: t}) for t in ("salut toi", "l'ofpra", "")]
    assert np.allclose(clf.predict_proba(texts), loaded.predict_proba(texts))


def test_persisted_files_are_not_pickles(storage):
    resource = Resource("clf")
    clf = TfidfLogRegClassifier.create(
        TfidfLogRegClassifier.get_default_config(), storage, resource, _context()
    )
    clf.train(_training_data())
    with storage.read_from(resource) as directory:
        names = sorted(p.name for p in directory.iterdir())
        assert names == ["classifier.json", "classifier.npz"]
        with np.load(directory / "classifier.npz", allow_pickle=False) as data:
            assert set(data.files) == {"coef", "intercept", "idf_0", "idf_1"}


def test_ranking_length(storage):
    config = {**TfidfLogRegClassifier.get_default_config(), "ranking_length": 2}
    clf = TfidfLogRegClassifier.create(config, storage, Resource("clf"), _context())
    clf.train(_training_data())
    message = Message(data={TEXT: "bonjour"})
    clf.process([message])
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)][0] == "salutation"
    assert len(message.get(INTENT_RANKING_KEY)) == 2


def test_untrained_component_leaves_messages_alone(storage):
    clf = TfidfLogRegClassifier.load(
        TfidfLogRegClassifier.get_default_config(), storage, Resource("missing"), _context()
    )
    message = Message(data={TEXT: "bonjour"})
    clf.process([message])
    assert message.get(INTENT) is None


def test_rejects_unknown_feature_mode(storage):
    with pytest.raises(ValueError):
        TfidfLogRegClassifier({"rasa_features": "everything"}, storage, Resource("x"))


def test_dense_features_required_when_configured(storage):
    config = {**TfidfLogRegClassifier.get_default_config(), "rasa_features": "dense"}
    clf = TfidfLogRegClassifier.create(config, storage, Resource("clf"), _context())
    with pytest.raises(ValueError, match="no such sentence features"):
        clf.train(_training_data())


def test_fast_rows_equal_sklearn_features():
    """TfidfRows (used at run time) gives sklearn's TF-IDF features, on the real training
    and held-out sentences and on edge cases (empty, unknown words only, repeats)."""
    from lab.tune import load_training
    from nlu.textmodel import TfidfRows, build_vectorizer, text_features
    from retrain.evaluate import load_heldout

    texts, _ = load_training(NLU_DATA_DIR)
    vectorizers = [
        build_vectorizer("word", (1, 2), True).fit(texts),
        build_vectorizer("char_wb", (2, 5), True).fit(texts),
    ]
    probes = [e.text for e in load_heldout(HELDOUT_DIR)] + [
        "",
        "   ",
        "zzzz qqqq",
        "aide aide aide aide",
        "l'OFPRA !!!",
        "🙂",
        "a" * 3000,
    ]
    for batch in (texts[:400], probes, probes[:1]):
        expected = text_features(vectorizers, batch)
        got = TfidfRows(vectorizers).transform(batch)
        assert got.shape == expected.shape
        assert abs(got - expected).max() < 1e-12
