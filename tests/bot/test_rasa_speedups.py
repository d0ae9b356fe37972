"""The cached validator accepts and rejects exactly what Rasa's own check does."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

GOOD = {"events": [{"event": "slot", "name": "topic", "value": "asile"}],
        "responses": [{"text": "Bonjour"}]}
BAD = [{"events": "not a list"}, {"responses": [3]}, {"events": [{"event": "no-such-event"}]}]


def rasa_check(result):
    jsonschema.validate(result, RemoteAction.action_response_format_spec())


def test_same_verdicts_as_rasa():
    action = RemoteAction("action_answer_topic", None)
    assert rasa_speedups._validate_action_result(action, GOOD) is True
    rasa_check(GOOD)
    for result in BAD:
        with pytest.raises(jsonschema.ValidationError):
            rasa_check(result)
        with pytest.raises(jsonschema.ValidationError):
            rasa_speedups._validate_action_result(action, result)


def test_apply_replaces_rasa_method():
    original = RemoteAction._validate_action_result
    try:
        rasa_speedups.apply()
        assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
    finally:
        RemoteAction._validate_action_result = original
