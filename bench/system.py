"""What the benchmark reads from Linux: the machine, process memory and CPU time."""

import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine() -> Dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo.splitlines()
        if line.lower().startswith("model name")
    ]
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return {
        "cpu_model": models[0] if models else platform.processor() or "unknown",
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def git_revision(repo: Path) -> Dict[str, object]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short=12", "HEAD") or None,
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def children(pid: int) -> List[int]:
    """The process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mib(pid: int) -> Dict[str, float]:
    """Resident memory now (VmRSS) and at its peak (VmHWM), of the process and its
    descendants, in MiB."""
    pids = children(pid)
    return {
        "rss_mib": round(sum(_status_kib(p, "VmRSS") for p in pids) / 1024, 1),
        "peak_rss_mib": round(sum(_status_kib(p, "VmHWM") for p in pids) / 1024, 1),
        "processes": len(pids),
    }


def cpu_seconds(pids: Iterable[int], descendants: bool = True) -> float:
    """User + system CPU time of these processes (and of their descendants)."""
    ticks = 0
    for root in pids:
        for pid in children(root) if descendants else [root]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine spent busy, summed over every CPU."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class CpuMeter:
    """CPU used during one phase: by the stack, by this benchmark, by everything else
    (other people's work on a shared machine), in cores (1.0 = one core busy)."""

    def __init__(self, stack_pids: List[int]) -> None:
        self.stack_pids = stack_pids

    def __enter__(self) -> "CpuMeter":
        self._t = time.monotonic()
        self._machine = machine_busy_seconds()
        self._stack = cpu_seconds(self.stack_pids)
        self._client = cpu_seconds([os.getpid()], descendants=False)
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = max(time.monotonic() - self._t, 1e-6)
        machine_ = machine_busy_seconds() - self._machine
        stack = cpu_seconds(self.stack_pids) - self._stack
        client = cpu_seconds([os.getpid()], descendants=False) - self._client
        self.stack_seconds = stack
        self.result = {
            "stack_cores": round(stack / elapsed, 2),
            "bench_client_cores": round(client / elapsed, 2),
            "other_processes_cores": round(max(machine_ - stack - client, 0) / elapsed, 2),
        }


def file_size_mib(path: Path) -> Optional[float]:
    return round(path.stat().st_size / 1024**2, 2) if path.exists() else None
