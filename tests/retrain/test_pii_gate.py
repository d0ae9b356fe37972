"""retrain/pii.py: the check that keeps victims' personal data out of tracked files.

The gate: recall >= 0.95 on heldout/pii.yml (an independent set, never used to write
the check); the false refusals are printed (`pytest -s`) and bounded loosely."""

from pathlib import Path

import pytest
import yaml

from retrain.pii import personal_data
from retrain.pii_eval import DEFAULT_SET, measure

EXAMPLES = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "pii_examples.yml").read_text(encoding="utf-8")
)
MIN_RECALL = 0.95
# Not a target: a ceiling that catches a check gone wild (refusing everything).
MAX_FALSE_REFUSALS = 0.30


@pytest.mark.parametrize("text", EXAMPLES["personal"])
def test_personal_data_is_found(text):
    assert personal_data(text)


@pytest.mark.parametrize("text", EXAMPLES["common"])
def test_ordinary_messages_pass(text):
    assert personal_data(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "je m'appelle <NAME>, j'habite <ADDRESS>, appelez moi au <PHONE>",
        "mon patron garde mon passeport",
    ],
)
def test_placeholders_pass(text):
    assert personal_data(text) == []


def test_the_heldout_set_is_the_independent_one():
    data = yaml.safe_load(DEFAULT_SET.read_text(encoding="utf-8"))
    messages = data["messages"]
    assert sum(m["pii"] for m in messages) >= 80 and sum(not m["pii"] for m in messages) >= 80


def test_gate_recall_on_heldout_personal_data(capsys):
    result = measure()
    found, total = result["caught"]["all"]
    refused, clean = result["false_refusals"]["all"]
    with capsys.disabled():
        print(
            f"\nPII check on heldout/pii.yml: recall {found}/{total} = {found / total:.3f}; "
            f"false refusals {refused}/{clean} = {refused / clean:.3f}"
        )
        for key, (f, t) in sorted(result["caught"].items()):
            print(f"  recall {key}: {f}/{t}")
        for key, (f, t) in sorted(result["false_refusals"].items()):
            print(f"  refused {key}: {f}/{t}")
    assert found / total >= MIN_RECALL
    for key, (f, t) in result["caught"].items():
        assert f / t >= 0.8, f"recall on {key}: {f}/{t}"
    assert refused / clean <= MAX_FALSE_REFUSALS
