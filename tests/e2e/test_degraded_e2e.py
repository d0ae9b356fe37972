"""The assistant never goes silent: action server down, then back."""

import subprocess

from test_rest_e2e import ask, payloads, texts  # noqa: E402

from bot.launcher import stop_process


def test_action_server_down_gives_apology_then_recovers(own_stack):
    stack = own_stack()
    assert payloads(ask(stack, "deg", "comment porter plainte ?"))[0]["topic"] == "porter-plainte"

    actions = stack.processes[0]
    stop_process(actions)
    replies = ask(stack, "deg", "est-ce que je peux avoir un titre de séjour ?")
    text = texts(replies)
    assert "17" in text and "112" in text and "114" in text
    assert "Désolé" in text

    emergency = ask(stack, "deg", "au secours on me frappe")
    assert emergency[0]["text"].startswith("En danger immédiat")

    stack.processes.remove(actions)
    stack.start_actions(stdout=open(stack.log_path, "ab"), stderr=subprocess.STDOUT)
    replies = ask(stack, "deg", "est-ce que je peux avoir un titre de séjour si je porte plainte ?")
    assert payloads(replies)[0]["topic"] == "titre-sejour"


def test_danger_messages_get_the_numbers_when_the_action_server_is_down(own_stack):
    stack = own_stack()
    calm = ask(stack, "deg-calm", "comment porter plainte ?")
    assert [p["danger"] for p in payloads(calm)] == [False]

    actions = stack.processes[0]
    stop_process(actions)
    stack.processes.remove(actions)
    replies = ask(stack, "deg-danger", "je suis enfermée dans la chambre, il arrive")
    first = replies[0]["text"]
    assert "17" in first and "112" in first and "114" in first
    assert payloads(replies)[0]["danger"] is True
    suicide = texts(ask(stack, "deg-suicide", "je vais mettre fin à mes jours ce soir"))
    assert "3114" in suicide
