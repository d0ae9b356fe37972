"""The evaluation report's per-intent table of the other held-out sets (retrain/evaluate.py),
on predictions made by hand: no model needed."""

from retrain import evaluate as ev


def _predictions(pairs, language):
    return [
        ev.Prediction(ev.Example(f"message {n}", gold, "topics.yml"), predicted, 0.9, None, language=language)
        for n, (gold, predicted) in enumerate(pairs)
    ]


def test_each_set_gets_precision_recall_and_support_per_intent(tmp_path):
    (tmp_path / "bg").mkdir()
    situations = _predictions(
        [
            ("papiers-confisques", "papiers-confisques"),
            ("papiers-confisques", "nlu_fallback"),
            ("salaires-travail", "salaires-travail"),
            ("servitude-domestique", "salaires-travail"),
        ],
        "fr",
    )
    bulgarian = _predictions([("salaires-travail", "salaires-travail")], "bg")
    sets = ev.evaluate_sets({"situations": situations, "bg": bulgarian}, tmp_path)
    lines = ev.sets_markdown(sets)

    assert "| intent | situations | bg |" in lines
    assert "| papiers-confisques | 1.00 / 0.50 (2) |  |" in lines
    assert "| salaires-travail | 0.50 / 1.00 (1) | 1.00 / 1.00 (1) |" in lines
    assert "| servitude-domestique | 0.00 / 0.00 (1) |  |" in lines
