"""The Train tab's run store end to end: a real training process, its events, Stop, download and upload."""
import time

import pytest

from rnn_demo.config import InputError
from rnn_demo.data import corpora
from rnn_demo.serving.runs import DONE, STOPPED, RunLimits, RunStore
from rnn_demo.usertrain.settings import TrainSettings

VISITOR, OTHER = "visitor-token-one", "visitor-token-two"
TINY = dict(units=32, embedding=16, eval_every=20, sample_every=40, minutes=2.0)


@pytest.fixture(scope="module")
def text():
    return corpora.plays()[0].text[:12_000]


@pytest.fixture()
def store(tmp_path):
    store = RunStore(tmp_path / "runs")
    yield store
    store.close()


def _wait(store, run_id, states, timeout=150.0, visitor=VISITOR, until=None):
    """Polls as the tab does, until the run is in one of `states` (or `until(status)` holds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = store.status(visitor, run_id)
        if status["state"] in states or (until and until(status)):
            return status
        time.sleep(0.2)
    raise AssertionError(f"run still {status['state']} after {timeout} s: {status['events'][-3:]}")


def test_a_run_trains_in_its_own_process_and_its_download_loads_back(store, text):
    run_id = store.submit(VISITOR, text, TrainSettings(**TINY, max_steps=160))
    seen_progress = []
    status = _wait(store, run_id, (DONE,), until=lambda s: seen_progress.append(s["progress"]) and False)
    kinds = [event["event"] for event in status["events"]]
    assert kinds[0] == "start" and kinds[-1] == "done" and "sample" in kinds
    assert any(p is not None for p in seen_progress), "no progress event arrived while it trained"
    evals = [event for event in status["events"] if event["event"] == "eval"]
    assert len(evals) == 8 and evals[-1]["val_bpc"] < evals[0]["val_bpc"] - 0.5  # the loss falls
    assert status["events"][-1]["reason"] == "max_steps" and "folder" not in status["events"][-1]

    model = store.model(VISITOR, run_id)
    greedy = model.generate("ROMEO:", max_tokens=60, temperature=0.0, seed=0, deadline_s=5.0)
    data = store.download(VISITOR, run_id).read_bytes()
    uploaded = store.upload(OTHER, data)
    again = store.model(OTHER, uploaded).generate("ROMEO:", max_tokens=60, temperature=0.0, seed=0, deadline_s=5.0)
    assert again == greedy and len(greedy) > len("ROMEO:")
    with pytest.raises(InputError, match="no such run of yours"):  # each visitor sees only their own runs
        store.status(OTHER, run_id)
    with pytest.raises(InputError, match="no such run of yours"):
        store.download(OTHER, run_id)


def test_stop_keeps_the_best_weights_so_far_and_the_queue_waits(store, text):
    run_id = store.submit(VISITOR, text, TrainSettings(**TINY))
    second = store.submit(OTHER, text, TrainSettings(**TINY, max_steps=1))
    assert store.status(OTHER, second)["queue_place"] == 1  # one training at a time: the other waits its turn
    _wait(store, run_id, (), until=lambda s: any(e["event"] == "eval" for e in s["events"]))
    store.stop(VISITOR, run_id)
    status = _wait(store, run_id, (STOPPED,))
    done = status["events"][-1]
    assert done["reason"] == "stopped" and done["best_step"] >= 20
    assert store.model(VISITOR, run_id).generate("A", max_tokens=5, temperature=0.0, seed=0, deadline_s=5.0)
    store.stop(OTHER, second)  # cancelled before it ran
    assert _wait(store, second, (STOPPED,), visitor=OTHER)["state"] == STOPPED


def test_a_process_that_dies_fails_the_run_and_the_store_serves_on(tmp_path, text):
    store = RunStore(tmp_path / "runs", start_method="spawn")
    try:
        run_id = store.submit(VISITOR, text, TrainSettings(**TINY))
        _wait(store, run_id, ("running",))
        store._runs[run_id].process.kill()  # as if the machine ran out of memory
        status = _wait(store, run_id, ("failed",), timeout=30)
        assert "ended without a result" in status["events"][-1]["message"]
        assert store.runs(VISITOR)[0]["state"] == "failed"
    finally:
        store.close()


def test_quotas_and_refusals(tmp_path, text):
    store = RunStore(tmp_path / "runs", limits=RunLimits(max_runs_per_visitor=1, max_visitor_bytes=2_000),
                     background=False)
    with pytest.raises(InputError, match="at least 200 characters"):
        store.submit(VISITOR, "too short", TrainSettings())
    with pytest.raises(InputError, match="units must be between"):
        store.submit(VISITOR, text, TrainSettings(units=100_000))
    with pytest.raises(InputError, match="disk quota"):
        store.submit(VISITOR, text, TrainSettings())  # 12 kB of text over a 2 kB quota
    with pytest.raises(InputError, match="visitor id"):
        store.runs("short")
