"""The regression gate of `make evaluate`, on small synthetic evaluation results."""

import json

import pytest

from retrain import regression
from retrain.regression import compare


# Keyword arguments cannot hold "-": titre_sejour=... stands for the intent titre-sejour.
def result(accuracy, **recalls):
    return {
        "topic_accuracy": accuracy,
        "per_intent": {
            intent.replace("_", "-"): {"precision": 1.0, "recall": r, "f1": 1.0, "support": 12}
            for intent, r in recalls.items()
        },
    }


BASE = result(0.95, titre_sejour=0.92, sante=1.0, asile=0.83, menu=1.0)


def test_same_figures_pass():
    verdict = compare(BASE, BASE)
    assert verdict["passed"] and verdict["regressed_topics"] == [] and verdict["reasons"] == []


def test_accuracy_may_drop_by_one_point_not_more():
    assert compare(BASE, result(0.94, titre_sejour=0.92, sante=1.0, asile=0.83, menu=1.0))["passed"]
    verdict = compare(BASE, result(0.939, titre_sejour=0.92, sante=1.0, asile=0.83, menu=1.0))
    assert not verdict["passed"]
    assert not verdict["accuracy"]["passed"]
    assert "topic accuracy dropped by 1.1 points" in verdict["reasons"][0]


def test_a_topic_recall_may_drop_by_ten_points_not_more():
    # 1.0 -> 0.90: exactly 10 points, allowed.
    assert compare(BASE, result(0.95, titre_sejour=0.92, sante=0.90, asile=0.83, menu=1.0))["passed"]
    # Two topics lose more than 10 points while the accuracy holds: fails, naming both.
    verdict = compare(BASE, result(0.95, titre_sejour=0.75, sante=0.89, asile=0.83, menu=1.0))
    assert not verdict["passed"] and verdict["accuracy"]["passed"]
    assert verdict["regressed_topics"] == ["sante", "titre-sejour"]
    assert "titre-sejour (92 % -> 75 %)" in verdict["reasons"][0]
    assert "sante (100 % -> 89 %)" in verdict["reasons"][0]


def test_control_intents_are_named_as_intents():
    verdict = compare(BASE, result(0.95, titre_sejour=0.92, sante=1.0, asile=0.83, menu=0.5))
    assert verdict["regressed_topics"] == ["menu"]


def test_both_failures_are_reported():
    verdict = compare(BASE, result(0.90, titre_sejour=0.5, sante=1.0, asile=0.83, menu=1.0))
    assert not verdict["passed"] and len(verdict["reasons"]) == 2


def test_improvements_and_new_topics_pass():
    candidate = result(0.99, titre_sejour=1.0, sante=1.0, asile=1.0, menu=1.0, nouveau_sujet=0.1)
    verdict = compare(BASE, candidate)
    assert verdict["passed"]
    assert "nouveau_sujet" not in {t["intent"] for t in verdict["topics"]}


def test_whole_reports_are_accepted_too():
    assert not compare(
        {"metrics": BASE}, {"metrics": result(0.5, titre_sejour=0.1, sante=0.1, asile=0.1, menu=0.1)}
    )["passed"]


def test_markdown_names_the_regressed_topics():
    verdict = compare(BASE, result(0.90, titre_sejour=0.5, sante=1.0, asile=0.83, menu=1.0))
    text = regression.to_markdown(verdict, "old.tar.gz", "new.tar.gz")
    assert "**FAILED**" in text
    assert "| titre-sejour | 92.0 % | 50.0 % | -42.0 | 12 | **regressed** |" in text


def test_the_command_fails_and_names_topics(tmp_path, monkeypatch, capsys):
    """`make evaluate` end to end, with the evaluations stubbed: exit code 1 and the
    topics named when the gate fails, 0 otherwise."""
    new, old = tmp_path / "new.tar.gz", tmp_path / "old.tar.gz"
    new.write_bytes(b"new model")
    old.write_bytes(b"old model")
    figures = {new: result(0.95, titre_sejour=0.6, sante=1.0, asile=0.83, menu=1.0), old: BASE}

    def fake_evaluate(model, heldout, cache):
        return {"metrics": figures[model], "model": {"model_path": str(model)}}

    monkeypatch.setattr(regression, "evaluate_cached", fake_evaluate)
    from retrain import evaluate as ev

    monkeypatch.setattr(ev, "write_report", lambda report, out: (out / "a.json", out / "a.md"))
    out = tmp_path / "reports"
    out.mkdir()
    (out / "a.md").write_text("figures\n")
    code = regression.main(["--model", str(new), "--baseline", str(old), "--out", str(out), "--quiet"])
    assert code == 1
    assert "titre-sejour" in capsys.readouterr().err
    saved = json.loads((out / "regression.json").read_text())
    assert saved["regressed_topics"] == ["titre-sejour"] and saved["baseline"] == str(old)

    figures[new] = BASE
    assert regression.main(["--model", str(new), "--baseline", str(old), "--out", str(out), "--quiet"]) == 0


def test_without_baseline_the_gate_passes(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    models.mkdir()
    model = models / "assistant.tar.gz"
    model.write_bytes(b"first model")
    monkeypatch.setattr(regression, "evaluate_cached", lambda *a: {"metrics": BASE, "model": {}})
    from retrain import evaluate as ev

    monkeypatch.setattr(ev, "write_report", lambda report, out: (out / "a.json", out / "a.md"))
    assert regression.main(["--model", str(model), "--out", str(tmp_path), "--quiet"]) == 0
    assert "no previous model" in capsys.readouterr().out


@pytest.mark.parametrize("drop, passes", [(0.0999999, True), (0.1000001, False)])
def test_recall_threshold_edges(drop, passes):
    assert compare(result(0.9, sante=1.0), result(0.9, sante=1.0 - drop))["passed"] is passes
