"""Starts the whole assistant: action server, Rasa server, and the Telegram front when
TELEGRAM_BOT_TOKEN is set. A server that stops on its own is restarted (Supervisor), the
others keep serving. Ctrl-C, or SIGTERM to the launcher or to its process group, stops
everything it started.

`make run` calls `python -m bot.launcher`; the end-to-end tests use start_stack().
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import private_files, tracker_db_url
from project_paths import CREDENTIALS_FILE, DEFAULT_MODEL, ENDPOINTS_FILE, REPO_ROOT, VAR_DIR
from secrets_policy import WeakSecretError, check_secret

READY_TIMEOUT_SECONDS = 180
# Restart back-off: 1 s, 2 s, 4 s… up to 30 s while a server keeps dying; back to 1 s once
# it has run for a minute.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
STABLE_SECONDS = 60.0
ACTIONS, RASA, TELEGRAM = "action server", "Rasa server", "Telegram front"
# `rasa run ... --auth-token=<RASA_API_TOKEN>`, the token read from the environment (the
# `=` form: a generated token may start with "-", which argparse would take for an option).
RASA_WITH_TOKEN_FROM_ENV = (
    "import os, sys; from rasa.__main__ import main; import bot.rasa_speedups as s; s.apply(); "
    "sys.argv = ['rasa', *sys.argv[1:], '--auth-token=' + os.environ.pop('RASA_API_TOKEN')]; "
    "main()"
)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_token() -> str:
    """Token of Rasa's HTTP API (only the channels are public). From the environment,
    or generated once and kept in var/ with mode 600."""
    token = os.environ.get("RASA_API_TOKEN")
    if token:
        return check_secret("RASA_API_TOKEN", token)  # a placeholder would open the API
    path = VAR_DIR / "rasa_api_token"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def service_env(actions_port: int, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TRACKER_DB_URL", tracker_db_url())
    env.setdefault("ACTION_SERVER_URL", f"http://127.0.0.1:{actions_port}/webhook")
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.update(extra or {})
    return env


def url_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@dataclass
class Stack:
    """The running servers; stop() ends them all."""

    rasa_port: int
    actions_port: int
    env: Dict[str, str]
    processes: List[subprocess.Popen] = field(default_factory=list)
    # Which process is which server, and how they were started (for restart()).
    services: Dict[str, subprocess.Popen] = field(default_factory=dict)
    model: Path = DEFAULT_MODEL
    popen: Dict = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def tracker_db_url(self) -> str:
        return self.env["TRACKER_DB_URL"]

    @property
    def knowledge_db_url(self) -> Optional[str]:
        return self.env.get("KNOWLEDGE_DB_URL")

    def start_actions(self, **popen) -> subprocess.Popen:
        process = spawn(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.actions_port)],
            self.env,
            **popen,
        )
        self.processes.append(process)
        self.services[ACTIONS] = process
        wait_until(lambda: url_ok(f"{self.actions_url}/health"), process, ACTIONS)
        return process

    def start_rasa(self, model: Optional[Path] = None, **popen) -> subprocess.Popen:
        model = self.model = model or self.model
        # The API token goes through the environment, not the command line, so that it
        # never shows in the process list (`ps`, /proc/<pid>/cmdline).
        process = spawn(
            [
                sys.executable,
                "-c",
                RASA_WITH_TOKEN_FROM_ENV,
                "run",
                "--model",
                str(model),
                "--enable-api",
                "--cors",
                f"http://localhost:{self.rasa_port}",
                "--credentials",
                str(CREDENTIALS_FILE),
                "--endpoints",
                str(ENDPOINTS_FILE),
                "--port",
                str(self.rasa_port),
                # Loopback only unless told otherwise: a public server sits behind nginx.
                "--interface",
                self.env.get("RASA_INTERFACE", "127.0.0.1"),
            ],
            dict(self.env, RASA_API_TOKEN=api_token()),
            **popen,
        )
        self.processes.append(process)
        self.services[RASA] = process
        wait_until(lambda: url_ok(f"{self.rasa_url}/webhooks/rest/"), process, RASA)
        return process

    def start_telegram(self, **popen) -> subprocess.Popen:
        # The front reads its danger check from the model Rasa serves.
        env = dict(self.env, RASA_URL=self.rasa_url, ASSISTANT_MODEL=str(self.model))
        process = spawn([sys.executable, "-m", "telegram_front"], env, **popen)
        self.processes.append(process)
        self.services[TELEGRAM] = process
        return process

    def restart(self, name: str) -> subprocess.Popen:
        """Starts the named server again, in the place of its stopped process."""
        old = self.services[name]
        stop_process(old)
        place = self.processes.index(old) if old in self.processes else len(self.processes)
        if old in self.processes:
            self.processes.remove(old)
        start = {ACTIONS: self.start_actions, RASA: self.start_rasa, TELEGRAM: self.start_telegram}[name]
        try:
            start(**self.popen)
        finally:  # also when it failed to start: its process is the one to retry
            new = self.services[name]
            if new in self.processes:
                self.processes.remove(new)
            self.processes.insert(place, new)
        return new

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)
        self.processes.clear()
        self.services.clear()


def spawn(command: List[str], env: Dict[str, str], **popen) -> subprocess.Popen:
    # Own process group, so that stopping also ends the server's children.
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True, **popen)


def stop_process(process: subprocess.Popen, grace: float = 10) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def wait_until(ready, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The {what} exited with code {process.returncode} while starting.")
        if ready():
            return
        time.sleep(0.5)
    raise RuntimeError(f"The {what} was not ready after {READY_TIMEOUT_SECONDS} s.")


def start_stack(
    rasa_port: int,
    actions_port: int,
    extra_env: Optional[Dict[str, str]] = None,
    model: Path = DEFAULT_MODEL,
    telegram: bool = False,
    **popen,
) -> Stack:
    stack = Stack(rasa_port, actions_port, service_env(actions_port, extra_env), model=model, popen=popen)
    try:
        stack.start_actions(**popen)
        stack.start_rasa(model, **popen)
        if telegram:
            stack.start_telegram(**popen)
    except BaseException:
        stack.stop()
        raise
    return stack


class Supervisor:
    """Restarts a server that stopped on its own, with exponential back-off.

    It says which server stopped and its exit code, never the server's output (which can
    hold users' messages). Call tick() about once a second.
    """

    def __init__(self, stack: Stack, log=print, clock=time.monotonic) -> None:
        self.stack, self.log, self.clock = stack, log, clock
        self.failures = {name: 0 for name in stack.services}
        self.started_at = {name: clock() for name in stack.services}
        self.restart_at: Dict[str, float] = {}

    def tick(self) -> None:
        for name, process in list(self.stack.services.items()):
            if name in self.restart_at:
                if self.clock() >= self.restart_at[name]:
                    del self.restart_at[name]
                    self._restart(name)
                continue
            code = process.poll()
            if code is None:
                continue
            if self.clock() - self.started_at[name] >= STABLE_SECONDS:
                self.failures[name] = 0
            self._schedule(name, f"stopped (exit code {code})")

    def _schedule(self, name: str, what: str) -> None:
        delay = min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** self.failures[name])
        self.failures[name] += 1
        self.restart_at[name] = self.clock() + delay
        self.log(f"The {name} {what}; restarting it in {delay:.0f} s.", flush=True)

    def _restart(self, name: str) -> None:
        try:
            self.stack.restart(name)
        except RuntimeError as error:  # exit code or time-out only (wait_until)
            stop_process(self.stack.services[name])
            self._schedule(name, f"did not start again ({error})")
            return
        self.started_at[name] = self.clock()
        self.log(f"The {name} is running again.", flush=True)


def _stop_on_signal(signum, frame) -> None:
    raise KeyboardInterrupt


def _ignore_stop_signals() -> None:
    # While stopping the servers: a second Ctrl-C or SIGTERM must not cut the clean-up short.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def main() -> int:
    parser = argparse.ArgumentParser(description="Start the assistant.")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    args = parser.parse_args()

    busy = [p for p in (args.rasa_port, args.actions_port) if port_in_use(p)]
    if busy:
        print(
            f"The assistant already seems to be running: port(s) {', '.join(map(str, busy))} "
            "in use. Stop it first (Ctrl-C in its terminal), or set RASA_PORT / ACTIONS_PORT."
        )
        return 1

    # `kill` (SIGTERM, to the launcher or its process group) and closing the terminal
    # (SIGHUP) stop everything too, like Ctrl-C: the servers run in their own sessions
    # and would otherwise outlive the launcher.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    private_files()
    started = time.monotonic()
    telegram = bool(os.environ.get("TELEGRAM_BOT_TOKEN"))
    try:
        stack = start_stack(args.rasa_port, args.actions_port, telegram=telegram)
    except KeyboardInterrupt:
        return 130  # start_stack stopped what it had started
    except (RuntimeError, WeakSecretError) as error:
        print(f"Could not start the assistant: {error}")
        return 1
    base = f"http://localhost:{args.rasa_port}"
    print(
        f"\nAssistant ready in {time.monotonic() - started:.0f} s.\n"
        f'  REST:    POST {base}/webhooks/rest/webhook  {{"sender": "moi", "message": "bonjour"}}\n'
        f"  Widget:  {base}/webchat/\n"
        f"  Telegram front: {'started' if telegram else 'off (set TELEGRAM_BOT_TOKEN to start it)'}\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    supervisor = Supervisor(stack)
    try:
        while True:
            supervisor.tick()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        _ignore_stop_signals()
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
