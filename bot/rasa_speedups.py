"""One fix to a measured hot spot of Rasa 3.6, applied where our Rasa servers start
(bot/launcher.py, deploy/rasa_server.py).

Rasa validates every action server reply with `jsonschema.validate()`, which checks the
schema itself again on each call: about 40 ms of CPU per custom action here, more than
half of a whole turn (docs/BENCHMARKS.md). The schema never changes, so the validator
is built once. The checks and the error raised are the same as Rasa's.
"""
from functools import lru_cache
from typing import Any, Dict, Text

import jsonschema
from rasa.core.actions.action import RemoteAction


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    try:
        _action_result_validator().validate(result)
        return True
    except jsonschema.ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid."
        )
        raise error


def apply() -> None:
    RemoteAction._validate_action_result = _validate_action_result
