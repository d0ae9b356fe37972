"""The speedups give exactly Rasa's own answers: same verdicts, same event classes; and
they are applied on the pinned Rasa version only."""

import asyncio
import gc
import logging

import jsonschema
import pytest
import rasa
import rasa.core.run
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups

GOOD = {"events": [{"event": "slot", "name": "topic", "value": "asile"}], "responses": [{"text": "Bonjour"}]}
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


def test_event_classes_same_as_rasa():
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "action", "slot", "session_started"} <= names
    for name in sorted(names) * 2:  # the second round is answered from the cache
        assert rasa_speedups._resolve_event_type(name) is rasa_speedups._rasa_resolve_event_type(name)
    assert rasa_speedups._resolve_event_type("user") is UserUttered
    assert rasa_speedups._resolve_event_type("no-such-event", SlotSet) is SlotSet
    assert rasa_speedups._resolve_event_type("topic") is None
    with pytest.raises(ValueError):
        rasa_speedups._resolve_event_type("no-such-event")
    assert "no-such-event" not in rasa_speedups._event_classes


@pytest.fixture()
def rasa_as_shipped():
    """Whatever a test patches, Rasa's own methods are back afterwards."""
    saved = (
        RemoteAction._validate_action_result,
        Event.resolve_by_type,
        Agent.load_model,
        EndpointConfig.session,
        rasa.core.run.close_resources,
    )
    yield
    (
        RemoteAction._validate_action_result,
        resolve,
        Agent.load_model,
        EndpointConfig.session,
        rasa.core.run.close_resources,
    ) = saved
    Event.resolve_by_type = staticmethod(resolve)
    gc.unfreeze()


def test_apply_replaces_rasa_methods(rasa_as_shipped):
    assert rasa.__version__ == rasa_speedups.PINNED_RASA_VERSION  # requirements.lock's Rasa
    assert rasa_speedups.apply() is True
    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
    assert Event.resolve_by_type is rasa_speedups._resolve_event_type
    assert Agent.load_model is rasa_speedups._load_model_then_freeze
    assert EndpointConfig.session is rasa_speedups._kept_session
    assert rasa.core.run.close_resources is rasa_speedups._close_resources
    events = [
        SessionStarted().as_dict(),
        ActionExecuted("action_listen").as_dict(),
        UserUttered("bonjour", {"name": "saluer", "confidence": 1.0}).as_dict(),
    ]
    read_back = [type(Event.from_parameters(e)) for e in events]
    assert read_back == [SessionStarted, ActionExecuted, UserUttered]


@pytest.mark.parametrize("version", ["3.6.20", "3.7.0", "3.6.21rc1"])
def test_another_rasa_version_is_left_unpatched(rasa_as_shipped, monkeypatch, caplog, version):
    monkeypatch.setattr(rasa, "__version__", version)
    shipped = (
        RemoteAction._validate_action_result,
        Event.resolve_by_type,
        Agent.load_model,
        EndpointConfig.session,
        rasa.core.run.close_resources,
    )
    with caplog.at_level(logging.WARNING, logger="bot.rasa_speedups"):
        assert rasa_speedups.apply() is False
    assert (
        RemoteAction._validate_action_result,
        Event.resolve_by_type,
        Agent.load_model,
        EndpointConfig.session,
        rasa.core.run.close_resources,
    ) == shipped
    [record] = caplog.records
    assert f"this is Rasa {version}" in record.getMessage()
    assert "unpatched" in record.getMessage()


def test_rasa_of_another_version_starts_unpatched(tmp_path):
    """The launcher's own start-up code, with Rasa claiming another version: one line
    says the speedups are off, and the server serves."""
    import subprocess
    import sys

    from bot.launcher import (
        RASA_WITH_TOKEN_FROM_ENV,
        free_port,
        service_env,
        spawn,
        stop_process,
        url_ok,
        wait_until,
    )
    from project_paths import DEFAULT_MODEL

    assert DEFAULT_MODEL.exists(), "No trained model: run `make train`."
    port = free_port()
    log = tmp_path / "rasa.log"
    with log.open("wb") as out:
        process = spawn(
            [
                sys.executable,
                "-c",
                "import rasa; rasa.__version__ = '3.7.0'; " + RASA_WITH_TOKEN_FROM_ENV,
                "run",
                "--model",
                str(DEFAULT_MODEL),
                "--port",
                str(port),
            ],
            service_env(free_port(), {"RASA_API_TOKEN": "t" * 40}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: url_ok(f"http://127.0.0.1:{port}/webhooks/rest/"), process, "Rasa server")
        finally:
            stop_process(process)
    assert "Rasa speedups not applied: written for Rasa 3.6.21, this is Rasa 3.7.0" in log.read_text()


def test_loaded_model_is_frozen_out_of_the_collector(rasa_as_shipped, monkeypatch):
    loads = []
    monkeypatch.setattr(rasa_speedups, "_rasa_load_model", lambda self, *args: loads.append(args))
    monkeypatch.setattr(rasa_speedups, "FREEZE_DELAY_SECONDS", 0.05)
    rasa_speedups.apply()
    gc.unfreeze()

    async def start_then_replace():
        Agent().load_model("model.tar.gz")  # start-up: frozen before the first message
        frozen_at_start = gc.get_freeze_count() > 0
        Agent().load_model("new.tar.gz")  # a replacement: the old model stays collectable
        unfrozen_while_replacing = gc.get_freeze_count() == 0
        await asyncio.sleep(0.2)
        return frozen_at_start, unfrozen_while_replacing, gc.get_freeze_count() > 0

    assert asyncio.run(start_then_replace()) == (True, True, True)
    assert loads == [("model.tar.gz",), ("new.tar.gz",)]


def test_an_endpoint_keeps_one_session_until_the_server_stops(rasa_as_shipped):
    rasa_speedups.apply()
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook", headers={"X-Test": "1"})

    async def serve_then_stop():
        async with endpoint.session() as first:
            pass
        async with endpoint.session() as second:
            pass
        assert first is second and not first.closed  # kept open between calls
        assert first.headers["X-Test"] == "1"  # Rasa's own session settings
        await rasa.core.run.close_resources(type("App", (), {"ctx": object()})(), None)
        return first

    session = asyncio.run(serve_then_stop())
    assert session.closed

    async def next_loop():  # a session belongs to one event loop: a new one is made
        async with endpoint.session() as other:
            await other.close()
            return other

    assert asyncio.run(next_loop()) is not session
