"""Subprocesses of the benchmark (sandbox, app, bare app), on 127.0.0.1, always cleaned up."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-user#bench-key"
READY_TIMEOUT = 90.0  # seconds for a process to serve its first answer
POLL_INTERVAL = 0.025  # seconds between readiness polls: start-up is timed by them
STOP_TIMEOUT = 5.0  # seconds a process gets after SIGTERM before SIGKILL
MAX_HANGING_CONNECTIONS = 256
LOG_TAIL_CHARS = 2000


class BenchError(RuntimeError):
    """The benchmark could not measure something (a process did not start, a call failed)."""


def local_session() -> requests.Session:
    """A session for 127.0.0.1 that ignores proxy settings, so no request leaves the machine."""
    session = requests.Session()
    session.trust_env = False
    return session


# Ports for servers, below the ephemeral ranges (Linux 32768-60999, others 49152-65535): a port
# the kernel gave the probe (port 0) can be handed to any outgoing connection before the server
# binds it, and a crowd of callers opens hundreds of those; these are never handed out so.
SERVER_PORTS = range(20000, 32000)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a server to bind."""
    for _ in range(200):
        port = random.choice(SERVER_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise BenchError(f"No free port in {SERVER_PORTS.start}-{SERVER_PORTS.stop - 1} on {HOST}.")


@dataclass
class Proc:
    """One started subprocess (its own process group), its log file and its base URL."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    url: str
    started_at: float  # time.perf_counter() just before the spawn

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        return "(no log)"

    def stop(self) -> None:
        """SIGTERM to the process group, then SIGKILL if it is still there after a moment."""
        if self.popen.poll() is not None:
            return
        _signal_group(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=STOP_TIMEOUT)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)  # the child leads its own group (start_new_session)


@dataclass
class Procs:
    """Starts subprocesses and stops every one of them in stop_all(), whatever happened."""

    workdir: Path
    started: list[Proc] = field(default_factory=list)
    cpu_seconds: float = 0.0  # used by the processes stopped so far, their children included

    def spawn(self, name: str, argv: list[str], env: Mapping[str, str], url: str) -> Proc:
        log_path = self.workdir / f"{name}-{len(self.started)}.log"
        with open(log_path, "wb") as log:
            started_at = time.perf_counter()
            popen = subprocess.Popen(
                argv,
                cwd=REPO,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log_path, url, started_at)
        self.started.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        self.cpu_seconds += cpu_seconds(proc.pid)
        proc.stop()
        if proc in self.started:
            self.started.remove(proc)

    def stop_all(self) -> None:
        while self.started:
            self.stop(self.started[-1])


def base_env(workdir: Path) -> dict[str, str]:
    """The environment every subprocess gets: no analytics, no proxies, temp files in workdir."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and not key.startswith(("HEURIST_", "GRADIO_"))
    }
    env.update(
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_TEMP_DIR=str(workdir / "gradio"),
        NO_PROXY="*",
        PYTHONUNBUFFERED="1",
    )
    return env


def app_env(workdir: Path, sandbox_url: str, models_url: str) -> dict[str, str]:
    """What `python app.py` gets: the sandbox as the API, files kept in workdir."""
    env = base_env(workdir)
    env.update(
        HEURIST_BASE_URL=sandbox_url,
        HEURIST_WORKFLOW_URL=sandbox_url,  # video tasks too: never Heurist's own host
        HEURIST_MODELS_URL=models_url,
        HEURIST_API_KEY=BENCH_KEY,
        HEURIST_OUTPUT_DIR=str(workdir / "outputs"),
        HEURIST_CACHE_DIR=str(workdir / "cache"),
    )
    return env


def start_sandbox(
    procs: Procs, latency: float, task_seconds: tuple[float, float] = (0.0, 0.0)
) -> Proc:
    """The sandbox: images after `latency`; workflow tasks wait, then run, `task_seconds`."""
    port = free_port()
    argv = [sys.executable, "-m", "heurist_ui.sandbox", "--host", HOST, "--port", str(port)]
    argv += ["--latency", str(latency), "--task-seconds", *map(str, task_seconds)]
    proc = procs.spawn("sandbox", argv, base_env(procs.workdir), f"http://{HOST}:{port}")
    wait_until_serving(proc, "/models.json")
    return proc


def spawn_app(procs: Procs, env: Mapping[str, str]) -> Proc:
    """`python app.py --port P`, not waited for."""
    port = free_port()
    env_file = str(procs.workdir / "no.env")  # a missing file: the environment alone decides
    argv = [sys.executable, "app.py", "--host", HOST, "--port", str(port), "--env-file", env_file]
    return procs.spawn("app", argv, env, f"http://{HOST}:{port}")


def spawn_bare_app(procs: Procs, latency: float | None = None) -> Proc:
    """The bare Gradio app, launched the same way as app.py, not waited for."""
    port = free_port()
    argv = [sys.executable, "bench/bare_app.py", "--host", HOST, "--port", str(port)]
    if latency is not None:
        argv += ["--latency", str(latency)]
    return procs.spawn("bare", argv, base_env(procs.workdir), f"http://{HOST}:{port}")


def wait_until_serving(proc: Proc, path: str = "/", timeout: float = READY_TIMEOUT) -> float:
    """Poll GET path until it answers 200; the seconds from the spawn to that answer."""
    deadline = time.monotonic() + timeout
    with local_session() as session:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise BenchError(f"{proc.name} exited early:\n{proc.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if session.get(proc.url + path, timeout=2).status_code == 200:
                    return time.perf_counter() - proc.started_at
            time.sleep(POLL_INTERVAL)
    raise BenchError(f"{proc.name} did not serve {path} within {timeout:g} s:\n{proc.log_tail()}")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    root = psutil.Process(pid)
    total = 0
    for process in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants; 0 if it is gone."""
    total = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for process in (root, *root.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
    return total


class HangingServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: a dead URL."""

    def __init__(self) -> None:
        self._socket = socket.create_server((HOST, 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="bench-hang", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._socket.getsockname()[1]}/models.json"

    def __enter__(self) -> HangingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for connection in self._held:
            connection.close()
        self._socket.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            if len(self._held) < MAX_HANGING_CONNECTIONS:
                self._held.append(connection)  # held open, never read, never answered
            else:
                connection.close()
