"""`python app.py` run as a separate process on a free port, and the API calls the benchmarks make to it.

The app runs in its own process group, so stopping it stops everything it started; its output
goes to a log file, whose tail is shown if it dies.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STOP_GRACE_S = 10.0  # after SIGTERM, before SIGKILL
LOG_TAIL_CHARS = 2_000
PAGE_REQUEST_TIMEOUT_S = 2.0
PROC = Path("/proc")
KIB = 1024

# Request arguments by name (the handlers' parameter names, README "API").
GENERATE = dict(prompt="ROMEO:\n", model="shakespeare-gru", max_tokens=100, temperature=0.8, top_k=0, top_p=1.0,
                repetition_penalty=1.0, seed=1)
CHAT = dict(message="What is the capital of Peru?", history=[], persona="modern", decoding="beam", beam_width=4,
            length_penalty=0.6, temperature=0.8, top_k=0, top_p=1.0, seed=0)
FILL = dict(sentence="Paris is the capital of ___.", top_k=5)
REQUESTS = {"/generate": GENERATE, "/chat": CHAT, "/fill": FILL}


class AppDied(RuntimeError):
    """The app's process ended while the benchmark still needed it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class AppProcess:
    """`python app.py` on a free port; use as a context manager, which always stops it."""

    def __init__(self, repo: Path = REPO, *, preload: tuple[str, ...] = (), env: dict | None = None):
        """
        Args:
            repo: the checkout whose app.py runs.
            preload: modules imported before app.py runs (("tensorflow",): the serving path before issue 18).
            env: more environment variables (NUMBA_CACHE_DIR of an empty folder: a cold start).
        """
        self.repo = repo
        self.preload, self.extra_env = preload, dict(env or {})
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.log_path = Path(tempfile.mkstemp(prefix="rnn-playground-app-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def __enter__(self) -> "AppProcess":
        env = {**os.environ, "GRADIO_SERVER_PORT": str(self.port), "GRADIO_SERVER_NAME": HOST,
               "GRADIO_ANALYTICS_ENABLED": "False", **self.extra_env}
        command = [sys.executable, "app.py"]
        if self.preload:
            imports = "; ".join(f"import {name}" for name in self.preload)
            command = [sys.executable, "-c", f"{imports}; import runpy; runpy.run_path('app.py', run_name='__main__')"]
        with open(self.log_path, "wb") as log:
            self.started = time.monotonic()
            self.process = subprocess.Popen(command, cwd=self.repo, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def elapsed(self) -> float:
        """Seconds since the process was started."""
        return time.monotonic() - self.started

    def check_alive(self) -> None:
        """Raises AppDied, with the end of the app's log, if the process has ended."""
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
            raise AppDied(f"app.py exited with status {self.process.returncode}; its log ends:\n{tail}")

    def stop(self) -> None:
        """SIGTERM to the app's process group, then SIGKILL if it has not ended within the grace period."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def page_served(self) -> bool:
        """True once `GET /` answers 200."""
        try:
            with urllib.request.urlopen(self.url, timeout=PAGE_REQUEST_TIMEOUT_S) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def resident_bytes(self) -> int:
        """Resident memory (VmRSS) of the app and every process under it, summed."""
        return sum(_resident_bytes(pid) for pid in _process_tree(self.process.pid))


def _parent_pids() -> dict[int, int]:
    """{pid: parent pid} of every process visible in /proc."""
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (command)": state, ppid, …
        parents[int(entry.name)] = int(fields[1])
    return parents


def _process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    parents = _parent_pids()
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _resident_bytes(pid: int) -> int:
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * KIB  # the file says "kB": kibibytes
    return 0
