"""The store of visitors' training runs: one training process at a time, a queue, quotas, and cleanup.

Runs live on disk under `root/<visitor>/<run>/` (the worker's folder layout, `usertrain.worker`), keyed by
a hash of the visitor's id: a random token the browser keeps, or an API client's session. Nothing is held
in Gradio's session state. A visitor sees, downloads and generates from their own runs only.
A daemon thread (`tick`) starts the next queued run, reads the running one's events, stops a run nobody
has asked about for `abandon_s` (the visitor left: it stops as Stop does, best weights kept), kills one past
its time limit, and deletes runs idle for `idle_s`, the oldest beyond `max_runs`, and beyond each
visitor's disk quota. A run that fails, is cancelled or dies leaves the server serving.
"""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..config import InputError
from ..usertrain import archive
from ..usertrain import worker as worker_files
from ..usertrain.settings import TrainSettings, check_settings, check_text

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
KILL_GRACE_S = 30.0  # after its time limit, a run has this long to write its model before it is killed
UPLOADED, QUEUED, RUNNING, DONE, STOPPED, FAILED = "uploaded", "queued", "running", "done", "stopped", "failed"
FINISHED = (UPLOADED, DONE, STOPPED, FAILED)
DIED = "the training process ended without a result (exit code {code}); the server is fine: try again"
KEPT_EVENTS = ("start", "eval", "sample", "early_stop", "done", "error")


@dataclass(frozen=True)
class RunLimits:
    """How much the store keeps and for how long."""

    max_queued: int = 8  # runs waiting, all visitors together
    max_runs: int = 64  # stored runs, all visitors together; the least recently used go first
    max_runs_per_visitor: int = 4  # a visitor's oldest finished run goes when they start a fifth
    max_visitor_bytes: int = 96 * 2 ** 20  # a visitor's disk quota (texts, models, downloads)
    idle_s: float = 3600.0  # a run nobody has touched for this long is deleted
    abandon_s: float = 60.0  # a queued or running run nobody has asked about for this long is stopped


@dataclass
class Run:
    """One run as the store tracks it (the files are the truth; this is their summary)."""

    id: str
    visitor: str  # the hashed visitor id
    folder: Path
    state: str
    created: float
    touched: float
    label: str = ""
    events: list = field(default_factory=list)  # the kept events (see KEPT_EVENTS), in order
    progress: dict | None = None  # the last progress event
    offset: int = 0  # bytes of events.jsonl read
    process: object = None
    started: float = 0.0
    minutes: float = 0.0
    model: object = None  # the loaded `UserModel`, once asked for

    @property
    def done_event(self) -> dict | None:
        return next((e for e in reversed(self.events) if e["event"] in ("done", "error")), None)


def visitor_key(visitor_id: str) -> str:
    """The folder name of a visitor: a hash, so that no id the client sends reaches a path."""
    if not isinstance(visitor_id, str) or not 8 <= len(visitor_id) <= 200:
        raise InputError("a visitor id is a string of 8 to 200 characters")
    return hashlib.sha256(visitor_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class RunStore:
    """Visitors' runs: submit, follow, stop, load, download, upload; thread-safe."""

    def __init__(self, root: Path, *, limits: RunLimits = RunLimits(), start_method: str = "spawn",
                 background: bool = True):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.limits = limits
        self._context = multiprocessing.get_context(start_method)
        self._runs: dict[str, Run] = {}
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-store", daemon=True) if background else None
        if self._thread:
            self._thread.start()

    # Visitor-facing operations (each checks the run belongs to the visitor)

    def submit(self, visitor_id: str, text: str, settings: TrainSettings, *, label: str = "") -> str:
        """Queues a training run on `text`; returns its id (InputError if the text, settings or queue refuse)."""
        visitor = visitor_key(visitor_id)
        text, settings = check_text(text), check_settings(settings)
        with self._lock:
            if any(r.visitor == visitor and r.state in (QUEUED, RUNNING) for r in self._runs.values()):
                raise InputError("you already have a training queued or running: stop it first")
            if sum(r.state == QUEUED for r in self._runs.values()) >= self.limits.max_queued:
                raise InputError(f"{self.limits.max_queued} trainings are already waiting; try again in a few minutes")
            self._make_room(visitor, len(text.encode("utf-8")))
            run = self._new_run(visitor, QUEUED, label or f"{settings.cell} {settings.units}×{settings.layers}")
            run.minutes = settings.minutes
            (run.folder / worker_files.TEXT_FILE).write_text(text, encoding="utf-8")
            (run.folder / worker_files.SETTINGS_FILE).write_text(json.dumps(settings.to_dict()), encoding="utf-8")
        self.tick()
        return run.id

    def stop(self, visitor_id: str, run_id: str) -> None:
        """Asks a queued or running run to stop; a running one keeps the best weights so far."""
        with self._lock:
            run = self._own(visitor_id, run_id)
            if run.state == QUEUED:
                run.state = STOPPED
                run.events.append({"event": "error", "message": "stopped before it started"})
            elif run.state == RUNNING:
                (run.folder / worker_files.STOP_FILE).touch()

    def status(self, visitor_id: str, run_id: str) -> dict:
        """The run's state, place in the queue (1 = next), last progress and kept events; marks it as watched."""
        with self._lock:
            run = self._own(visitor_id, run_id)
            queued = sorted((r for r in self._runs.values() if r.state == QUEUED), key=lambda r: r.created)
            place = next((i + 1 for i, r in enumerate(queued) if r is run), 0)
            return {"id": run.id, "label": run.label, "state": run.state, "queue_place": place,
                    "running_elsewhere": any(r.state == RUNNING and r is not run for r in self._runs.values()),
                    "progress": run.progress, "events": list(run.events)}

    def active(self, visitor_id: str) -> str | None:
        """The id of the visitor's queued or running run, if any."""
        visitor = visitor_key(visitor_id)
        with self._lock:
            return next((r.id for r in self._runs.values() if r.visitor == visitor and r.state in (QUEUED, RUNNING)),
                        None)

    def runs(self, visitor_id: str) -> list[dict]:
        """The visitor's runs, oldest first: id, label, state."""
        visitor = visitor_key(visitor_id)
        with self._lock:
            return [{"id": r.id, "label": r.label, "state": r.state}
                    for r in sorted(self._runs.values(), key=lambda r: r.created) if r.visitor == visitor]

    def model(self, visitor_id: str, run_id: str) -> archive.UserModel:
        """The run's trained model, loaded once (InputError while it has none)."""
        with self._lock:
            run = self._own(visitor_id, run_id)
            if run.model is None:
                folder = run.folder / worker_files.MODEL_FOLDER
                if run.state not in FINISHED or not (folder / archive.CONFIG_FILE).is_file():
                    raise InputError("this run has no model yet: wait until it has finished")
                run.model = archive.load_folder(folder)
            return run.model

    def download(self, visitor_id: str, run_id: str) -> Path:
        """The run's model as one zip file in the visitor's folder (its name says the run)."""
        self.model(visitor_id, run_id)  # checks it is finished and loads
        with self._lock:
            run = self._own(visitor_id, run_id)
            path = run.folder / f"rnn-model-{run.id}.zip"
            if not path.is_file():
                path.write_bytes(archive.pack(run.folder / worker_files.MODEL_FOLDER))
            return path

    def upload(self, visitor_id: str, data: bytes, *, label: str = "") -> str:
        """Stores a downloaded model file as a run of the visitor's, after `archive`'s checks; returns its id."""
        visitor = visitor_key(visitor_id)
        members = archive.unpack(data)
        model = archive.load_members(members)
        with self._lock:
            self._make_room(visitor, len(data))
            run = self._new_run(visitor, UPLOADED, label or "uploaded model")
            folder = run.folder / worker_files.MODEL_FOLDER
            folder.mkdir()
            for name, member in members.items():
                (folder / name).write_bytes(member)
            run.model = model
            run.events.append({"event": "done", "reason": "uploaded", **{k: v for k, v in model.metrics.items()
                                                                       if k in ("points", "best_val_bpc", "steps")}})
            return run.id

    def delete(self, visitor_id: str, run_id: str) -> None:
        with self._lock:
            self._remove(self._own(visitor_id, run_id))

    # The store's own work

    def tick(self) -> None:
        """Reads the running run's events, reaps it when its process ends, starts the next, and cleans up."""
        with self._lock:
            now = time.monotonic()
            for run in list(self._runs.values()):
                if run.state == RUNNING:
                    self._follow(run, now)
                elif run.state == QUEUED and now - run.touched > self.limits.abandon_s:
                    run.state = STOPPED
                    run.events.append({"event": "error", "message": "nobody was waiting for it: it never started"})
            if not any(r.state == RUNNING for r in self._runs.values()):
                queued = sorted((r for r in self._runs.values() if r.state == QUEUED), key=lambda r: r.created)
                if queued:
                    self._start(queued[0])
            self._expire(now)

    def close(self) -> None:
        """Stops the background thread and kills any training process (tests, shutdown)."""
        self._closed.set()
        with self._lock:
            for run in self._runs.values():
                if run.process is not None and run.process.is_alive():
                    run.process.kill()
                    run.process.join(5)

    def _loop(self) -> None:
        while not self._closed.wait(TICK_SECONDS):
            try:
                self.tick()
            except OSError:  # a full disk, a removed folder: log it, keep serving
                log.exception("run store tick failed")

    def _own(self, visitor_id: str, run_id: str) -> Run:
        run = self._runs.get(run_id) if isinstance(run_id, str) else None
        if run is None or run.visitor != visitor_key(visitor_id):
            raise InputError("no such run of yours (it may have been deleted after an idle time)")
        run.touched = time.monotonic()
        return run

    def _new_run(self, visitor: str, state: str, label: str) -> Run:
        run_id = uuid.uuid4().hex[:12]
        folder = self.root / visitor / run_id
        folder.mkdir(parents=True)
        now = time.monotonic()
        run = Run(run_id, visitor, folder, state, now, now, label[:80])
        self._runs[run_id] = run
        return run

    def _start(self, run: Run) -> None:
        process = self._context.Process(target=worker_files.main, args=(str(run.folder),), daemon=True,
                                        name=f"train-{run.id}")
        process.start()
        run.process, run.state, run.started = process, RUNNING, time.monotonic()
        log.info("training run %s started (pid %s)", run.id, process.pid)

    def _follow(self, run: Run, now: float) -> None:
        self._read_events(run)
        if now - run.touched > self.limits.abandon_s:
            (run.folder / worker_files.STOP_FILE).touch()
        if now - run.started > run.minutes * 60.0 + KILL_GRACE_S + 120.0:  # TensorFlow's import included
            run.process.kill()
        if run.process.is_alive():
            return
        run.process.join()
        self._read_events(run)
        last = run.done_event
        if last is None:
            run.events.append({"event": "error", "message": DIED.format(code=run.process.exitcode)})
        run.state = DONE if last and last["event"] == "done" and last["reason"] != "stopped" else \
            STOPPED if last and last["event"] == "done" else FAILED
        run.process = None
        log.info("training run %s ended: %s", run.id, run.state)

    def _read_events(self, run: Run) -> None:
        path = run.folder / worker_files.EVENTS_FILE
        if not path.is_file():
            return
        with open(path, "rb") as handle:
            handle.seek(run.offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits for the next read
        run.offset += len(complete)
        for line in complete.decode("utf-8").splitlines():
            event = json.loads(line)
            event.pop("folder", None)  # a server path: not the visitor's to see
            if event["event"] == "progress":
                run.progress = event
            elif event["event"] in KEPT_EVENTS:
                run.events.append(event)

    def _make_room(self, visitor: str, incoming: int) -> None:
        """Deletes the visitor's oldest finished runs beyond their count and disk quota (InputError if that
        cannot make room), then the least recently used runs of anyone beyond the store's count."""
        mine = sorted((r for r in self._runs.values() if r.visitor == visitor), key=lambda r: r.touched)
        while mine and (len(mine) >= self.limits.max_runs_per_visitor or
                        _bytes(self.root / visitor) + incoming > self.limits.max_visitor_bytes):
            oldest = next((r for r in mine if r.state in FINISHED), None)
            if oldest is None:
                break
            self._remove(oldest)
            mine.remove(oldest)
        if incoming > self.limits.max_visitor_bytes or len(mine) >= self.limits.max_runs_per_visitor:
            raise InputError("your disk quota for runs is full; delete a run first")
        everyone = sorted((r for r in self._runs.values() if r.state in FINISHED), key=lambda r: r.touched)
        while len(self._runs) >= self.limits.max_runs and everyone:
            self._remove(everyone.pop(0))

    def _expire(self, now: float) -> None:
        for run in list(self._runs.values()):
            if run.state in FINISHED and now - run.touched > self.limits.idle_s:
                self._remove(run)

    def _remove(self, run: Run) -> None:
        if run.process is not None and run.process.is_alive():
            run.process.kill()
            run.process.join(5)
        self._runs.pop(run.id, None)
        shutil.rmtree(run.folder, ignore_errors=True)


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
