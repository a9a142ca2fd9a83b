"""Start-up of `python app.py`, seen from outside: page served, first answer, memory with all models.

Times count from the moment the process is spawned. The first answer is a short `/generate`
through `gradio_client` (its connection included); an error saying a model is still loading is
retried. Memory is the resident set of the whole process tree, read once every model has
answered (or refused with a lasting error, such as a missing checkpoint).
"""
from __future__ import annotations

import time

from benchmarks.app_process import CHAT, FILL, GENERATE, AppProcess
from benchmarks.report import Row, at_most

MAX_PAGE_S = 2.0  # issue 18's budgets: Numba's cache warm, every model loaded
MAX_FIRST_ANSWER_S = 4.0
MAX_MEMORY_GB = 0.45
GB = 1e9
POLL_S = 0.1
RETRY_S = 0.5
STILL_LOADING = "loading"  # an error message with this word is retried
SHORT_GENERATE = {**GENERATE, "max_tokens": 5}
FIRST_ANSWER = ("/generate", SHORT_GENERATE)
MODEL_PROBES = {  # one call that needs each model
    "shakespeare-gru": ("/generate", SHORT_GENERATE),
    "shakespeare-lstm": ("/generate", {**SHORT_GENERATE, "model": "shakespeare-lstm"}),
    "chatbot": ("/chat", CHAT),
    "blank": ("/fill", FILL),
}


class StartupFailed(RuntimeError):
    """The app did not serve, or did not answer, within the time allowed."""


def wait_for_page(app: AppProcess, *, timeout_s: float) -> float:
    """Seconds from spawn until `GET /` answers 200."""
    while app.elapsed() < timeout_s:
        app.check_alive()
        if app.page_served():
            return app.elapsed()
        time.sleep(POLL_S)
    raise StartupFailed(f"page not served within {timeout_s:g} s")


def call_until_answered(app: AppProcess, client, api_name: str, arguments: dict, *, timeout_s: float) -> str | None:
    """Calls until the app answers; returns None, or the error message if the app refuses for good.

    Errors that say a model is still loading are retried until `timeout_s` after spawn.
    """
    from gradio_client.exceptions import AppError

    while True:
        app.check_alive()
        try:
            client.predict(**arguments, api_name=api_name)
            return None
        except AppError as error:
            if STILL_LOADING not in str(error).lower():
                return str(error)
            if app.elapsed() > timeout_s:
                raise StartupFailed(f"{api_name} still loading after {timeout_s:g} s") from None
        time.sleep(RETRY_S)


def connect(app: AppProcess):
    """A `gradio_client.Client` of the running app."""
    from gradio_client import Client

    return Client(app.url, verbose=False)


def first_answer(app: AppProcess, *, timeout_s: float) -> float:
    """Seconds from spawn until the first `/generate` answers (a lasting error fails the start-up)."""
    api_name, arguments = FIRST_ANSWER
    error = call_until_answered(app, connect(app), api_name, arguments, timeout_s=timeout_s)
    if error is not None:
        raise StartupFailed(f"{api_name} refused: {error}")
    return app.elapsed()


def load_every_model(app: AppProcess, *, timeout_s: float) -> dict[str, str]:
    """Calls each model once; {model: "ready" or the app's lasting error}."""
    client = connect(app)
    return {model: call_until_answered(app, client, api_name, arguments, timeout_s=timeout_s) or "ready"
            for model, (api_name, arguments) in MODEL_PROBES.items()}


def memory_row(app: AppProcess, models: dict[str, str], *, when: str) -> Row:
    """Resident memory of the app's process tree now."""
    gigabytes = app.resident_bytes() / GB
    missing = [f"{model}: {state}" for model, state in models.items() if state != "ready"]
    note = "models not loaded — " + "; ".join(missing) if missing else ""
    return Row("resident memory, whole process tree", f"VmRSS summed, {when}", gigabytes, "GB",
               budget=f"≤ {MAX_MEMORY_GB:g} GB", met=at_most(gigabytes, MAX_MEMORY_GB), note=note)


def measure(app: AppProcess, *, timeout_s: float) -> tuple[list[Row], dict[str, str]]:
    """Start-up rows, and each model's state ("ready" or why not) for the sections that follow."""
    page_s = wait_for_page(app, timeout_s=timeout_s)
    answer_s = first_answer(app, timeout_s=timeout_s)
    models = load_every_model(app, timeout_s=timeout_s)
    rows = [
        Row("`python app.py`: page served", "spawn → GET / answers 200", page_s, "s",
            budget=f"≤ {MAX_PAGE_S:g} s", met=at_most(page_s, MAX_PAGE_S)),
        Row("`python app.py`: first answer", "spawn → first /generate (5 tokens) via gradio_client", answer_s, "s",
            budget=f"≤ {MAX_FIRST_ANSWER_S:g} s", met=at_most(answer_s, MAX_FIRST_ANSWER_S)),
        memory_row(app, models, when="every model called once"),
    ]
    return rows, models


# The same start-up, spawned again beside the shipped one: the baseline and a cold start.
BASELINE = ("tensorflow",)  # imported before app.py runs: the serving path before issue 18 (a lower bound of its cost)


def variant_rows(shipped: list[Row], *, timeout_s: float) -> list[Row]:
    """Page, first answer and memory of two more spawns, each in turn: `python app.py` with TensorFlow imported
    first (the baseline; the shipped rows get their ratio to it), and with Numba's cache and the app's own (the
    memory of the plays, `quotes.training_index`) empty: a first start."""
    import tempfile

    from benchmarks.app_process import AppProcess
    from rnn_demo.serving.engine import CACHE_VARIABLE

    figures = {}
    with AppProcess(preload=BASELINE) as app:
        baseline_rows, _ = measure(app, timeout_s=timeout_s)
    with tempfile.TemporaryDirectory() as cache, AppProcess(env={"NUMBA_CACHE_DIR": cache,
                                                                 CACHE_VARIABLE: cache}) as app:
        cold_rows, _ = measure(app, timeout_s=timeout_s)
    for row, baseline in zip(shipped, baseline_rows):
        if row.value is not None and baseline.value:
            row.ratio = row.value / baseline.value
        figures[row.measure] = baseline
    rows = []
    for baseline, cold in zip(baseline_rows, cold_rows):
        rows.append(Row(baseline.measure, baseline.method + "; baseline: TensorFlow imported first", baseline.value,
                        baseline.unit))
        rows.append(Row(cold.measure, cold.method + "; cold: Numba's cache and the app's empty", cold.value, cold.unit,
                        note="reported, no budget (the budgets are for a warm cache)"))
    return rows
