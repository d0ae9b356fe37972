"""Quality gates of the trained NLU on the held-out set (heldout/).

The model is the one `make test` trains (models/assistant.tar.gz), or NLU_MODEL_PATH.
It is evaluated once with the same code as `python -m retrain.evaluate`; each gate is its
own test and prints the failing held-out examples when it fails.

Gates: topic accuracy >= 0.95 (in-scope examples), out-of-scope rejection >= 0.90,
emergency recall == 1.0 (numbers first: urgence or the danger detector fired); danger
detector on heldout/danger*.yml: recall == 1.0 overall and per language, false alarms
<= 10 % on hard negatives, <= 2 % on ordinary questions. Budgets (training time, model size) are reported by
`make evaluate`, not tested here.
"""

import os
from pathlib import Path

import pytest

from project_paths import REPO_ROOT
from retrain import evaluate as ev


def _model_path() -> Path:
    path = Path(os.environ.get("NLU_MODEL_PATH", "models/assistant.tar.gz"))
    return path if path.is_absolute() else REPO_ROOT / path


@pytest.fixture(scope="module")
def predictions():
    model = _model_path()
    if not model.is_file():
        pytest.fail(
            f"No trained model at {model}. Train it first (`make train`, which `make test` "
            f"runs), or point NLU_MODEL_PATH at a model.",
            pytrace=False,
        )
    examples = ev.load_heldout(ev.DEFAULT_HELDOUT)
    preds, _ = ev.predict(model, examples)
    return preds


@pytest.fixture(scope="module")
def metrics(predictions):
    return ev.compute_metrics(predictions)


def _listing(preds) -> str:
    return "\n".join(
        f"  [{p.example.intent} -> {p.intent} {p.confidence:.2f}] {p.example.text}"
        for p in sorted(preds, key=lambda p: (p.example.intent, p.intent))
    )


def test_topic_accuracy(predictions, metrics):
    wrong = [
        p for p in predictions if p.example.intent != ev.OUT_OF_SCOPE_INTENT and p.intent != p.example.intent
    ]
    accuracy = metrics["topic_accuracy"]
    gate = ev.GATE_ACCURACY
    assert accuracy >= gate, (
        f"topic accuracy {accuracy:.3f} < {gate} "
        f"({len(wrong)} of {metrics['in_scope_examples']} in-scope examples wrong):\n" + _listing(wrong)
    )


def test_out_of_scope_rejection(predictions, metrics):
    accepted = [
        p
        for p in predictions
        if p.example.intent == ev.OUT_OF_SCOPE_INTENT
        and p.intent not in (ev.OUT_OF_SCOPE_INTENT, ev.FALLBACK_INTENT)
    ]
    rejection = metrics["out_of_scope_rejection"]
    assert rejection >= ev.GATE_OOS_REJECTION, (
        f"out-of-scope rejection {rejection:.3f} < {ev.GATE_OOS_REJECTION}; "
        f"out-of-scope examples taken as a topic:\n" + _listing(accepted)
    )


def test_emergency_recall(predictions, metrics):
    missed = [
        p for p in predictions if p.example.intent == ev.EMERGENCY_INTENT and p.intent != ev.EMERGENCY_INTENT
    ]
    recall = metrics["emergency_recall"]
    assert recall == ev.GATE_EMERGENCY_RECALL, (
        f"emergency recall {recall:.3f} < 1.0; missed emergencies:\n" + _listing(missed)
    )


# --- the danger detector on heldout/danger*.yml (written apart from data/danger/) -----


@pytest.fixture(scope="module")
def danger_rows():
    """Every message of the danger sets as Rasa parsed it (shared by the gates and the
    Telegram front's check)."""
    model = _model_path()
    if not model.is_file():
        pytest.fail(f"No trained model at {model}: `make train`.", pytrace=False)
    return ev.predict_danger_sets(model, ev.danger_paths())


@pytest.fixture(scope="module")
def danger(danger_rows):
    return ev.danger_report(ev.danger_paths(), danger_rows)


def _danger_listing(rows) -> str:
    return "\n".join(f"  [{r['lang']} {r.get('label', 'danger')} {r['score']}] {r['text']}" for r in rows)


def test_every_danger_set_is_measured_and_reported_on_its_own(danger):
    sets = danger["metrics"]["methods"]["detector"]["per_set"]
    assert (
        set(sets)
        == {p.name for p in ev.DEFAULT_HELDOUT.glob(ev.DANGER_FILES)}
        >= {"danger.yml", "danger-2.yml"}
    )
    assert (
        sum(f["positives"] for f in sets.values())
        == danger["metrics"]["methods"]["detector"]["overall"]["positives"]
    )
    assert all(row["set"] in sets for row in danger["metrics"]["missed"] + danger["metrics"]["false_alarms"])


def test_danger_set_is_large_enough(danger):
    overall = danger["metrics"]["methods"]["detector"]["overall"]
    assert danger["metrics"]["messages"] >= 200
    assert overall["positives"] >= 80 and overall["hard_negatives"] >= 80


def test_danger_recall_overall_and_per_language(danger):
    failed = {
        name: gate["value"]
        for name, gate in danger["gates"].items()
        if name.startswith("recall_") and gate["value"] < ev.GATE_DANGER_RECALL - 1e-9
    }
    assert not failed, f"danger recall below {ev.GATE_DANGER_RECALL}: {failed}; missed:\n" + _danger_listing(
        danger["metrics"]["missed"]
    )


def test_danger_false_alarms_on_hard_negatives(danger):
    gate = danger["gates"]["false_alarms_hard"]
    assert gate["passed"], (
        f"false alarms on hard negatives {gate['value']:.3f} > "
        f"{gate['threshold']}:\n"
        + _danger_listing([r for r in danger["metrics"]["false_alarms"] if r["label"] == "hard_negative"])
    )


def test_danger_false_alarms_on_ordinary_questions(danger):
    gate = danger["gates"]["false_alarms_ordinary"]
    assert gate["passed"], (
        f"false alarms on ordinary questions {gate['value']:.3f} > "
        f"{gate['threshold']}:\n"
        + _danger_listing([r for r in danger["metrics"]["false_alarms"] if r["label"] == "ordinary"])
    )


def test_the_telegram_front_flags_what_rasa_flags(danger_rows):
    """The front's danger check (telegram_front/danger.py) reads the detector of the model
    Rasa serves: the same score and verdict on every message of the danger sets, so a
    danger message gets the numbers at once in every language, not only in French."""
    from telegram_front.danger import DangerCheck

    model = _model_path()
    check = DangerCheck.from_model(model)
    assert check.detector is not None, f"the front found no danger detector in {model}"
    rows = danger_rows
    scores = check.detector.scores([row["text"] for row in rows])
    differ = [row["text"] for row, score in zip(rows, scores) if abs(score - row["score"]) > 1e-3]
    assert not differ, differ[:5]
    flagged = [check.looks_like(row["text"]) for row in rows]
    assert flagged == [row["classifier_alone"] for row in rows]
    positives = [f for f, row in zip(flagged, rows) if row["label"] == "danger"]
    print(f"\nthe front flags {sum(positives)} of {len(positives)} danger-set positives by itself")


# --- the other held-out sets: situations (French) and one per language ------------------


@pytest.fixture(scope="module")
def sets():
    model = _model_path()
    by_name = ev.held_out_sets(ev.DEFAULT_HELDOUT)
    names = list(by_name)
    examples = [e for name in names for e in by_name[name]]
    preds, _ = ev.predict(model, examples)
    out, start = {}, 0
    for name in names:
        out[name] = preds[start : start + len(by_name[name])]
        start += len(by_name[name])
    return out


def test_every_language_has_its_held_out_set(sets):
    languages = {p.name for p in ev.DEFAULT_TRAINING_DATA.iterdir() if p.is_dir()}
    assert {"en", "ro", "bg", "ar"} <= languages
    assert languages <= set(sets), f"no held-out set for {sorted(languages - set(sets))}"
    assert "situations" in sets


def _wrong(preds):
    return [p for p in preds if p.example.intent != ev.OUT_OF_SCOPE_INTENT and p.intent != p.example.intent]


@pytest.mark.parametrize("name", ["situations", "en", "ro", "bg", "ar"])
def test_topic_accuracy_of_each_set(sets, name):
    language = ev.set_language(name)
    metrics = ev.set_metrics(sets[name], language)
    gate = ev.GATE_SITUATIONS_ACCURACY if language == ev.REFERENCE_LANGUAGE else ev.GATE_LANGUAGE_ACCURACY
    assert metrics["topic_accuracy"] >= gate, (
        f"{name}: topic accuracy {metrics['topic_accuracy']:.3f} < {gate}:\n" + _listing(_wrong(sets[name]))
    )


def test_out_of_scope_rejection_of_the_situations_set(sets):
    metrics = ev.set_metrics(sets["situations"], ev.REFERENCE_LANGUAGE)
    assert metrics["out_of_scope_rejection"] >= ev.GATE_OOS_REJECTION


@pytest.mark.parametrize("name", ["en", "ro", "bg", "ar"])
def test_language_identification(sets, name):
    metrics = ev.set_metrics(sets[name], name)
    missed = [p for p in sets[name] if p.example.intent != ev.OUT_OF_SCOPE_INTENT and p.language != name]
    assert metrics["language_id"] >= ev.GATE_LANGUAGE_ID, (
        f"{name}: language found for {metrics['language_id']:.3f} of the messages:\n"
        + "\n".join(f"  [{p.language}] {p.example.text}" for p in missed)
    )


def test_language_identification_of_french(predictions, sets):
    french = list(predictions) + list(sets["situations"])
    in_scope = [p for p in french if p.example.intent != ev.OUT_OF_SCOPE_INTENT]
    share = sum(p.language == "fr" for p in in_scope) / len(in_scope)
    assert share >= ev.GATE_LANGUAGE_ID, [p.example.text for p in in_scope if p.language != "fr"][:30]


def test_clarification_offers_the_right_topic(predictions, sets):
    """On the French held-out messages the classifier missed, the clarification's
    buttons (actions/clarify.offered_topics) hold the right topic often enough."""
    result = ev.clarification_hits(list(predictions) + list(sets["situations"]))
    rate = result["hit_rate"]["ranking_then_search"]
    assert result["missed"] > 0 and rate >= ev.GATE_CLARIFICATION_HITS, result
