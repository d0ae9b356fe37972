"""The launcher's restart back-off, with fake processes and a fake clock (the real servers
killed and restarted: tests/reliability/test_launcher.py)."""

from bot.launcher import RASA, Supervisor


class Process:
    def __init__(self, code=None):
        self.code = code

    def poll(self):
        return self.code


class Stack:
    def __init__(self):
        self.services = {RASA: Process()}
        self.restarts = 0
        self.fail_next = False

    def restart(self, name):
        self.restarts += 1
        if self.fail_next:
            raise RuntimeError(f"The {name} exited with code 1 while starting.")
        self.services[name] = Process()
        return self.services[name]


def test_restart_delay_doubles_while_it_keeps_dying_up_to_30_s_then_resets():
    now = [0.0]
    lines = []
    stack = Stack()
    supervisor = Supervisor(stack, log=lambda line, **kw: lines.append(line), clock=lambda: now[0])
    delays = []
    for _ in range(7):
        stack.services[RASA].code = -9
        supervisor.tick()
        delay = supervisor.restart_at[RASA] - now[0]
        delays.append(delay)
        now[0] += delay - 0.1
        supervisor.tick()
        assert stack.services[RASA].code == -9  # not before its time
        now[0] += 0.1
        supervisor.tick()
        assert stack.services[RASA].code is None  # restarted
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert lines[0] == "The Rasa server stopped (exit code -9); restarting it in 1 s."
    assert lines[1] == "The Rasa server is running again."
    now[0] += 61  # it ran for a minute: back to a short delay
    stack.services[RASA].code = 1
    supervisor.tick()
    assert supervisor.restart_at[RASA] - now[0] == 1


def test_a_failed_restart_is_retried_later():
    now = [0.0]
    lines = []
    stack = Stack()
    supervisor = Supervisor(stack, log=lambda line, **kw: lines.append(line), clock=lambda: now[0])
    stack.services[RASA].code = 1
    supervisor.tick()
    stack.fail_next = True
    now[0] += 1
    supervisor.tick()
    assert "did not start again" in lines[-1] and "restarting it in 2 s" in lines[-1]
    stack.fail_next = False
    now[0] += 2
    supervisor.tick()
    assert lines[-1] == "The Rasa server is running again." and stack.restarts == 2
