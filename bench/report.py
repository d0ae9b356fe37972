"""reports/benchmarks.md from the results of one run (the same figures as the JSON)."""

from typing import Any, Dict, List, Optional


def _ms(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.0f}"


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value}{unit}"


def _verdict(passed: Optional[bool]) -> str:
    return {True: "**PASS**", False: "**FAIL**", None: "not measured"}[passed]


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(r: Dict[str, Any]) -> str:
    m, model, start = r["machine"], r["model"], r["startup"]
    settings = r["settings"]
    out: List[str] = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`, code in `bench/`); the same figures are in",
        "`reports/benchmarks.json`. The benchmark starts its own stack as `make run` does (action",
        "server, Rasa server; SQLite knowledge base and conversation store) on free ports and",
        "sends requests to 127.0.0.1 only. Figures depend on the machine and on what else runs",
        "on it: see the load average and the CPU used by other processes below.",
        "",
        f"- Run: {r['generated_at']}, {r['duration_s']:.0f} s; commit `{r['revision']['commit']}`"
        + (" with uncommitted changes" if r["revision"]["uncommitted_changes"] else ""),
        f"- Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable), "
        f"{m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}",
        f"- Load average (1, 5, 15 min): {r['load_average_before']} before, {r['load_average_after']} after",
        "- Software: " + ", ".join(f"{k} {v}" for k, v in r["software"].items() if v),
        f"- Model: `{model['path']}`, {_num(model.get('size_mib'), ' MiB')} "
        f"({_num(model.get('unpacked_mib'), ' MiB')} unpacked); components: "
        + ", ".join(model.get("trained_components") or ["?"]),
        f"- Training time: {_num(model.get('training_seconds'), ' s')} "
        f"(models/train_info.json{', ' + model['training_recorded'] if model.get('training_recorded') else ''})"
        + (f" — note: {model['training_note']}" if model.get("training_note") else ""),
        "",
        "## Budgets",
        "",
    ]
    out += _table(
        ["budget", "limit", "measured", "result"],
        [[b["budget"], b["limit"], b["value"] or "–", _verdict(b["pass"])] for b in r["budgets"]],
    )
    out += [
        "",
        "## Start-up",
        "",
    ]
    out += _table(
        ["step", "seconds"],
        [
            [
                "`make run` prerequisites check (`make -q`, nothing to rebuild)",
                _num(start.get("make_prerequisites_check_s")),
            ],
            ["action server ready (from start)", _num(start["action_server_ready_s"])],
            ["Rasa server ready (from start; model loaded, REST channel up)", _num(start["rasa_ready_s"])],
            ["first answer received (from start)", _num(start["first_answer_s"])],
            ["**`make run` to ready** (check + servers)", f"**{_num(start['make_run_to_ready_s'])}**"],
        ],
    )
    seq = r.get("sequential", {})
    out += [
        "",
        "## Sequential round trips (one request at a time)",
        "",
        f"{settings['sequential_requests']} requests each after a warm-up, the questions of "
        "`bench/questions.yml`. *REST* is the whole path a user's message takes (channel, NLU, "
        "dialogue, conversation store, action server, knowledge base); */model/parse* is "
        "Rasa's NLU alone (the baseline); *actions* is the action server alone "
        "(`action_answer_topic` + knowledge base, called as Rasa calls it).",
        "",
    ]
    names = [
        ("rest", "REST channel (full stack)"),
        ("parse", "/model/parse (NLU only)"),
        ("actions", "action server + KB only"),
    ]
    out += _table(
        [
            "path",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "mean ms",
            "max ms",
            "requests",
            "errors",
            "server CPU ms / request",
        ],
        [
            [
                label,
                _ms(s["p50_ms"]),
                _ms(s["p95_ms"]),
                _ms(s["p99_ms"]),
                _ms(s["mean_ms"]),
                _ms(s["max_ms"]),
                str(s["requests"]),
                str(s["errors"] + s["server_log_errors"]),
                _num(s.get("stack_cpu_ms_per_request")),
            ]
            for key, label in names
            if (s := seq.get(key))
        ],
    )
    if "rest" in seq and "parse" in seq and seq["rest"]["p50_ms"] and seq["parse"]["p50_ms"]:
        out += [
            "",
            f"What dialogue, conversation store, actions and knowledge base add to the "
            f"NLU alone: p50 +{seq['rest']['p50_ms'] - seq['parse']['p50_ms']:.0f} ms, "
            f"p95 +{seq['rest']['p95_ms'] - seq['parse']['p95_ms']:.0f} ms.",
        ]
    out += [
        "",
        "## Concurrent users (closed loop)",
        "",
        f"Each user sends its next message as soon as the previous answer arrives (no think "
        f"time), for {settings['seconds_per_level']:.0f} s per level, and starts a new "
        f"conversation every {settings['session_length']} messages. Errors: HTTP errors, "
        f"timeouts ({settings['request_timeout_s']} s), answers without the payload, the "
        "channel's apology, and ERROR lines in the servers' log during the run. CPU is in "
        "cores (1.0 = one core busy all the time); *others* is what other processes of the "
        "machine used meanwhile. *Server CPU ms / request* (CPU time of both servers divided "
        "by the answered requests) depends less on the machine's load than latency does.",
        "",
        "One Rasa process answers everything, so with users sending back to back, latency is "
        "about the number of users times Rasa's CPU per turn. That CPU was cut where a "
        "profiler (py-spy) showed it went: see the docstrings of `bot/rasa_speedups.py`, "
        "`bot/tracker_store.py`, `knowledge/store.py` and `nlu/classifier.py`. On a 2-CPU "
        "machine the 10-user p95 moves by tens of milliseconds from run to run with the "
        "machine's other load; more replicas (docs/deploy.md) add capacity.",
        "",
    ]
    rows = []
    for level in r.get("concurrency", []):
        for key, label in (("rest", "REST"), ("parse", "/model/parse")):
            s = level.get(key)
            if not s:
                continue
            cpu = s["cpu"]
            rows.append(
                [
                    str(level["users"]),
                    label,
                    _num(s["throughput_per_s"]),
                    _ms(s["p50_ms"]),
                    _ms(s["p95_ms"]),
                    _ms(s["p99_ms"]),
                    _ms(s["max_ms"]),
                    str(s["requests"]),
                    str(s["errors"])
                    + (f" (+{s['server_log_errors']} logged)" if s["server_log_errors"] else ""),
                    _num(s.get("stack_cpu_ms_per_request")),
                    f"{cpu['stack_cores']} / {cpu['bench_client_cores']} / {cpu['other_processes_cores']}",
                ]
            )
    out += _table(
        [
            "users",
            "path",
            "msg/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "requests",
            "errors",
            "server CPU ms / request",
            "CPU cores: servers / client / others",
        ],
        rows,
    )
    mem = r.get("memory", {})
    out += [
        "",
        "## Resident memory (VmRSS / VmHWM, each server with its child processes)",
        "",
    ]
    rows = []
    for name, label in (("rasa", "Rasa server"), ("actions", "action server")):
        idle = mem.get("idle", {}).get(name, {})
        after = mem.get("after_load", {}).get(name, {})
        rows.append(
            [
                label,
                _num(idle.get("rss_mib")),
                _num(after.get("rss_mib")),
                _num(after.get("peak_rss_mib")),
                _num(after.get("processes")),
            ]
        )
    out += _table(["process", "idle MiB", "after load MiB", "peak MiB", "processes"], rows)
    if r.get("notes"):
        out += ["", "## Notes", ""] + [f"- {note}" for note in r["notes"]]
    errors = {
        f"{level['users']} users {key}": s["error_kinds"]
        for level in r.get("concurrency", [])
        for key in ("rest", "parse")
        if (s := level.get(key)) and s["error_kinds"]
    }
    if errors:
        out += ["", "Error kinds: " + "; ".join(f"{k}: {v}" for k, v in errors.items())]
    return "\n".join(out) + "\n"


def console(r: Dict[str, Any]) -> str:
    lines = ["", "Budgets:"]
    for b in r["budgets"]:
        lines.append(f"  {_verdict(b['pass']).strip('*'):12} {b['budget']} ({b['limit']}): {b['value']}")
    return "\n".join(lines)
