"""Fixes to measured hot spots of Rasa 3.6, applied where our Rasa servers start
(bot/launcher.py, deploy/rasa_server.py). Each keeps Rasa's behaviour and errors.

They replace Rasa internals, so they are applied only on the Rasa version they were
written and tested against (PINNED_RASA_VERSION, the one of requirements.lock); on any
other version apply() logs one line and changes nothing: the server runs unpatched.

- Rasa validates every action server reply with `jsonschema.validate()`, which checks
  the schema itself again on each call: about 40 ms of CPU per custom action here. The
  schema never changes, so the validator is built once.
- Rasa finds an event's class by walking every subclass of `Event` (with an
  `inspect.isabstract` call each) for every event it reads back from the conversation
  store: about 7 % of a turn's CPU. The class found for a type name is remembered.
- A full garbage collection walks every object of the loaded model and of TensorFlow
  (which Rasa imports): ~250 ms during which no message is answered, a few times a
  minute under load. Once a model is loaded, the objects alive are frozen out of the
  collector's reach (`gc.freeze()`); collections then only look at new objects.
- Rasa opens a new HTTP session, and so a new connection, for every call to the action
  server. Each endpoint keeps one session (and its keep-alive connections) instead;
  they are closed when the server stops.
"""

import asyncio
import gc
import logging
import weakref
from functools import lru_cache
from typing import Any, Dict, Optional, Text, Type

import aiohttp
import jsonschema
import rasa
import rasa.core.run
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

PINNED_RASA_VERSION = "3.6.21"


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


_rasa_resolve_event_type = Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}


def _resolve_event_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    found = _event_classes.get(type_name)
    if found is None:
        found = _rasa_resolve_event_type(type_name, default)
        # Only a real match is remembered: unknown names keep Rasa's answer (the
        # default, None for old "topic" events, or its ValueError).
        if found is not None and found.type_name == type_name:
            _event_classes[type_name] = found
    return found


_rasa_load_model = Agent.load_model
# A model replaced through the API is referenced by the server until the new one is in
# place: freezing then waits this long, so that the old one can be collected first.
FREEZE_DELAY_SECONDS = 2.0


def _freeze_survivors() -> None:
    gc.collect()
    gc.freeze()


def _load_model_then_freeze(self: Agent, *args: Any, **kwargs: Any) -> None:
    replacing = gc.get_freeze_count() > 0  # an earlier model was loaded and frozen
    gc.unfreeze()  # so that the model being replaced stays collectable
    _rasa_load_model(self, *args, **kwargs)
    if not replacing:
        _freeze_survivors()  # at start-up, before the first message
        return
    try:
        asyncio.get_running_loop().call_later(FREEZE_DELAY_SECONDS, _freeze_survivors)
    except RuntimeError:  # no event loop: nothing else can hold the old model
        _freeze_survivors()


_rasa_endpoint_session = EndpointConfig.session
_rasa_close_resources = rasa.core.run.close_resources
_kept_sessions: "weakref.WeakSet[aiohttp.ClientSession]" = weakref.WeakSet()


class _KeptOpen:
    """What `async with endpoint.session()` gets: the shared session, left open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def _kept_session(self: EndpointConfig) -> _KeptOpen:
    loop = asyncio.get_running_loop()
    kept = getattr(self, "_kept_session", None)
    if kept is None or kept[0] is not loop or kept[1].closed:
        kept = (loop, _rasa_endpoint_session(self))  # Rasa's headers, auth and timeout
        self._kept_session = kept
        _kept_sessions.add(kept[1])
    return _KeptOpen(kept[1])


async def _close_resources(app: Any, loop: Any) -> None:
    for session in list(_kept_sessions):
        await session.close()
    await _rasa_close_resources(app, loop)


def apply() -> bool:
    """Patches Rasa if it is the pinned version; says so and does nothing otherwise."""
    if rasa.__version__ != PINNED_RASA_VERSION:
        logger.warning(
            "Rasa speedups not applied: written for Rasa %s, this is Rasa %s; "
            "the server runs unpatched (bot/rasa_speedups.py).",
            PINNED_RASA_VERSION,
            rasa.__version__,
        )
        return False
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_event_type)
    Agent.load_model = _load_model_then_freeze
    EndpointConfig.session = _kept_session
    rasa.core.run.close_resources = _close_resources
    return True
