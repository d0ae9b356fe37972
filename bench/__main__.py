"""`make bench`: measures the whole assistant on this machine and writes
reports/benchmarks.md and reports/benchmarks.json (not committed: each report names the commit
it measured).

    python -m bench [--seconds-per-level 20] [--sequential 150] [--users 1,10,50]

It starts its own stack (action server + Rasa server, as `make run` does) on free
ports, with its own empty conversation store and the knowledge base of var/, and sends
requests to 127.0.0.1 only:

- time from start to ready (action server, then Rasa), and to the first answer;
- sequential round trips: the REST channel (Rasa + actions + knowledge base), Rasa's
  NLU alone (/model/parse, the baseline) and the action server alone (action + KB);
- closed-loop users at each concurrency level, on the REST channel and on /model/parse;
- resident memory of each server (with its child processes), idle and at its peak;
- training time (models/train_info.json), model size, machine, CPU used by others;
- the budgets of the issue, pass or fail.

Every phase is bounded in requests and seconds; the whole run stops adding phases when
its time budget (default 540 s) would be exceeded, and says so in the report.
"""

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bench import load, report, system
from bot.channels import guard
from bot.launcher import Stack, api_token, free_port, service_env
from project_paths import DEFAULT_MODEL, DOMAIN_FILE, REPO_ROOT

BUDGETS = {
    "p95_10_users_ms": 150.0,
    "errors_50_users": 0,
    "rasa_memory_bytes": 1.5e9,
}
SETTLE_SECONDS = 2


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.notes: List[str] = []
        self.results: Dict[str, Any] = {}
        spec = yaml.safe_load((REPO_ROOT / "bench" / "questions.yml").read_text(encoding="utf-8"))
        self.messages: List[str] = spec["messages"]
        self.session_length: int = spec["session_length"]

    # ------------------------------------------------------------------ helpers
    def left(self) -> float:
        return self.args.budget_seconds - (time.monotonic() - self.started)

    def fits(self, seconds: float, what: str) -> bool:
        if self.left() > seconds:
            return True
        self.notes.append(
            f"Skipped {what}: the run's time budget ({self.args.budget_seconds:.0f} s) "
            "would have been exceeded."
        )
        print(f"  skipped {what} (time budget)", flush=True)
        return False

    def log_errors_since(self, offset: int) -> int:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return sum(b" ERROR " in line for line in log)

    def log_offset(self) -> int:
        return self.log_path.stat().st_size

    # ------------------------------------------------------------------ phases
    def start(self, tmp: Path) -> Stack:
        kb = Path(self.args.kb_db).resolve()
        if not kb.exists():
            raise SystemExit(f"No knowledge base at {kb}: run `make knowledge`.")
        env = {"KNOWLEDGE_DB_URL": f"sqlite:///{kb}", "TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.db'}"}
        self.log_path = tmp / "servers.log"
        log = open(self.log_path, "ab")
        popen = dict(stdout=log, stderr=subprocess.STDOUT)

        make = self.make_check()
        rasa_port, actions_port = free_port(), free_port()
        stack = self.stack = Stack(rasa_port, actions_port, service_env(actions_port, env))
        t0 = time.monotonic()  # what bot.launcher.start_stack does, timed step by step
        stack.start_actions(**popen)
        t_actions = time.monotonic() - t0
        stack.start_rasa(Path(self.args.model), **popen)
        t_ready = time.monotonic() - t0
        self.targets()
        first = load.Outcome()
        asyncio.run(self._first_answer(first))
        t_first = time.monotonic() - t0
        self.results["startup"] = {
            "make_prerequisites_check_s": make,
            "action_server_ready_s": round(t_actions, 1),
            "rasa_ready_s": round(t_ready, 1),
            "first_answer_s": round(t_first, 1),
            "first_answer_ok": not first.errors,
            "make_run_to_ready_s": round((make or 0) + t_ready, 1),
        }
        self.pids = {"rasa": stack.processes[1].pid, "actions": stack.processes[0].pid}
        self.results["memory"] = {"idle": self.memory()}
        return stack

    async def _first_answer(self, outcome: load.Outcome) -> None:
        async with load._session(1) as session:
            await load.send(session, self.rest, "bench-first", "bonjour", outcome)

    def make_check(self) -> Optional[float]:
        """What `make run` does before starting the servers when nothing needs building:
        checking that every prerequisite is up to date (`make -q`)."""
        if not self.args.make_targets:
            return None
        t0 = time.monotonic()
        done = subprocess.run(["make", "-q", *self.args.make_targets], cwd=REPO_ROOT, capture_output=True)
        seconds = round(time.monotonic() - t0, 2)
        if done.returncode != 0:
            stale = [
                t
                for t in self.args.make_targets
                if subprocess.run(["make", "-q", t], cwd=REPO_ROOT, capture_output=True).returncode != 0
            ]
            self.notes.append(
                f"`make -q` says these are out of date: {', '.join(stale) or '?'}; "
                "`make run` would rebuild them first (not included in the "
                "start-up time)."
            )
        return seconds

    def summary(self, outcome: load.Outcome, log_offset: int, cpu: system.CpuMeter) -> Dict[str, Any]:
        summary = outcome.summary()
        summary["server_log_errors"] = self.log_errors_since(log_offset)
        summary["cpu"] = cpu.result
        # CPU the servers spent per answered message: less sensitive than latency to
        # what else runs on the machine.
        summary["stack_cpu_ms_per_request"] = (
            round(cpu.stack_seconds * 1000 / summary["ok"], 1) if summary["ok"] else None
        )
        return summary

    def memory(self) -> Dict[str, Any]:
        return {name: system.memory_mib(pid) for name, pid in self.pids.items()}

    def targets(self) -> None:
        rasa, actions = self.stack.rasa_url, self.stack.actions_url
        domain = yaml.safe_load((DOMAIN_FILE).read_text(encoding="utf-8"))
        topic_intents = [
            i
            for i in domain["intents"]
            if i not in ("en_savoir_plus", "menu", "effacer_conversation", "urgence")
        ]
        self.rest = load.rest_target(rasa, guard.messages()["service_indisponible"][:40])
        self.parse = load.parse_target(rasa, api_token())
        self.actions = load.actions_target(actions, domain, topic_intents)

    def sequential(self) -> None:
        count, cap = self.args.sequential, self.args.sequential_max_seconds
        self.results["sequential"] = {}
        for target in (self.rest, self.parse, self.actions):  # warm-up, not recorded
            asyncio.run(load.sequential(target, self.messages, self.session_length, 10, 30, "warm"))
        for target in (self.rest, self.parse, self.actions):
            if not self.fits(cap + 10, f"sequential {target.name}"):
                continue
            print(f"  sequential {target.name}: {count} requests", flush=True)
            offset = self.log_offset()
            with system.CpuMeter(list(self.pids.values())) as cpu:
                outcome = asyncio.run(
                    load.sequential(
                        target, self.messages, self.session_length, count, cap, f"seq-{target.name}"
                    )
                )
            self.results["sequential"][target.name] = self.summary(outcome, offset, cpu)

    def concurrency(self) -> None:
        seconds = self.args.seconds_per_level
        self.results["concurrency"] = []
        peak = {"rasa_rss_mib": 0.0}

        def sample() -> None:
            peak["rasa_rss_mib"] = max(peak["rasa_rss_mib"], system.memory_mib(self.pids["rasa"])["rss_mib"])

        for users in self.args.users:
            level: Dict[str, Any] = {"users": users}
            for target in (self.rest, self.parse):
                if not self.fits(
                    seconds + load.REQUEST_TIMEOUT_SECONDS + 5, f"{users} users on {target.name}"
                ):
                    continue
                print(f"  {users} users on {target.name}: {seconds:.0f} s", flush=True)
                time.sleep(SETTLE_SECONDS)
                offset = self.log_offset()
                with system.CpuMeter(list(self.pids.values())) as cpu:
                    outcome = asyncio.run(
                        load.closed_loop(
                            target,
                            users,
                            seconds,
                            self.messages,
                            self.session_length,
                            f"c{users}-{target.name}",
                            sample,
                        )
                    )
                level[target.name] = self.summary(outcome, offset, cpu)
            self.results["concurrency"].append(level)
        self.results["memory"]["rasa_rss_sampled_max_mib"] = peak["rasa_rss_mib"]

    # ------------------------------------------------------------------ results
    def model_info(self) -> Dict[str, Any]:
        model = Path(self.args.model)
        info: Dict[str, Any] = {
            "path": str(
                model.relative_to(REPO_ROOT) if model.is_absolute() and REPO_ROOT in model.parents else model
            ),
            "size_mib": system.file_size_mib(model),
        }
        if model.exists():
            info["modified"] = datetime.fromtimestamp(model.stat().st_mtime, timezone.utc).isoformat(
                timespec="seconds"
            )
            with tarfile.open(model) as tar:
                members = tar.getmembers()
            info["unpacked_mib"] = round(sum(m.size for m in members) / 1024**2, 2)
            # components/train_<Component><n>/...: what the model holds.
            parts = [m.name.lstrip("/").split("/") for m in members]
            info["trained_components"] = sorted(
                {
                    p[1][len("train_") :].rstrip("0123456789")
                    for p in parts
                    if len(p) > 1 and p[0] == "components" and p[1].startswith("train_")
                }
            )
        train_info = model.with_name("train_info.json")
        if train_info.exists():
            recorded = json.loads(train_info.read_text())
            info["training_seconds"] = recorded.get("seconds")
            info["training_recorded"] = datetime.fromtimestamp(
                train_info.stat().st_mtime, timezone.utc
            ).isoformat(timespec="seconds")
            if model.exists() and model.stat().st_mtime > train_info.stat().st_mtime + 120:
                info["training_note"] = (
                    "the model is newer than train_info.json: it was not "
                    "trained by `make train`; the time may be another model's"
                )
        else:
            info["training_seconds"] = None
            info["training_note"] = (
                "models/train_info.json is missing: the model was not trained "
                "by `make train` (run `make train` to record the time)"
            )
        return info

    def budgets(self) -> List[Dict[str, Any]]:
        levels = {level["users"]: level for level in self.results.get("concurrency", [])}
        rows = []
        p95 = levels.get(10, {}).get("rest", {}).get("p95_ms")
        rows.append(
            {
                "budget": "REST p95 at 10 concurrent users",
                "limit": "< 150 ms",
                "value": None if p95 is None else f"{p95:.0f} ms",
                "pass": None if p95 is None else p95 < BUDGETS["p95_10_users_ms"],
            }
        )
        at50 = levels.get(50, {}).get("rest")
        errors = None if at50 is None else at50["errors"] + at50["server_log_errors"]
        rows.append(
            {
                "budget": "no error at 50 concurrent users (REST)",
                "limit": "0 errors",
                "value": None
                if at50 is None
                else f"{at50['errors']} failed of {at50['requests']} requests, "
                f"{at50['server_log_errors']} server errors logged",
                "pass": None if errors is None else errors == 0,
            }
        )
        memory = self.results.get("memory", {}).get("after_load", {}).get("rasa", {})
        peak = memory.get("peak_rss_mib")
        rows.append(
            {
                "budget": "Rasa server memory (peak resident, with children)",
                "limit": "< 1.5 GB",
                "value": None if peak is None else f"{peak * 1024**2 / 1e9:.2f} GB ({peak:.0f} MiB)",
                "pass": None if peak is None else peak * 1024**2 < BUDGETS["rasa_memory_bytes"],
            }
        )
        return rows

    def run(self) -> Dict[str, Any]:
        tmp = Path(tempfile.mkdtemp(prefix="bench-"))
        load_before = system.load_average()
        print(f"Benchmark: starting the stack (logs in {tmp / 'servers.log'})", flush=True)
        stack = None
        try:
            stack = self.start(tmp)
            self.sequential()
            self.concurrency()
            self.results["memory"]["after_load"] = self.memory()
        finally:
            if stack is not None:
                stack.stop()
        # The servers' log is kept when a run fails or a server logged an error (to find why).
        if self.log_errors_since(0):
            print(f"The servers logged errors: their log is kept in {self.log_path}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        self.results.update(
            {
                "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "duration_s": round(time.monotonic() - self.started, 1),
                "machine": system.machine(),
                "load_average_before": load_before,
                "load_average_after": system.load_average(),
                "revision": system.git_revision(REPO_ROOT),
                "software": {
                    name: _version(name)
                    for name in ("rasa", "rasa-sdk", "sanic", "tensorflow", "SQLAlchemy", "aiohttp")
                },
                "model": self.model_info(),
                "settings": {
                    "sequential_requests": self.args.sequential,
                    "seconds_per_level": self.args.seconds_per_level,
                    "users": self.args.users,
                    "session_length": self.session_length,
                    "messages": len(self.messages),
                    "request_timeout_s": load.REQUEST_TIMEOUT_SECONDS,
                    "tracker_store": "SQLite (as `make run`)",
                    "knowledge_base": "SQLite (var/knowledge.db)",
                },
                "notes": self.notes,
            }
        )
        self.results["budgets"] = self.budgets()
        return self.results


def _version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--kb-db", default=str(REPO_ROOT / "var" / "knowledge.db"))
    parser.add_argument("--out-md", default=str(REPO_ROOT / "reports" / "benchmarks.md"))
    parser.add_argument("--out-json", default=str(REPO_ROOT / "reports" / "benchmarks.json"))
    parser.add_argument("--sequential", type=int, default=150, help="requests per sequential run")
    parser.add_argument("--sequential-max-seconds", type=float, default=60)
    parser.add_argument("--seconds-per-level", type=float, default=20)
    parser.add_argument("--users", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50])
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=540,
        help="stop adding phases past this (the issue asks for < 10 min)",
    )
    parser.add_argument(
        "--make-targets", nargs="*", default=[], help="prerequisites of `make run`, timed with `make -q`"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    args = parser.parse_args(argv)

    # Ctrl-C or a SIGTERM stop the servers before leaving.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results = Bench(args).run()
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out_json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    Path(args.out_md).write_text(report.markdown(results), encoding="utf-8")
    print(report.console(results), flush=True)
    print(f"Written: {args.out_md}, {args.out_json} ({results['duration_s']:.0f} s)")
    failed = [b for b in results["budgets"] if b["pass"] is False]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
