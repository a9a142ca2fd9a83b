"""Faults: damaged checkpoints, crashing requests, clients that leave, a full queue, the clock.

Whatever breaks, the app keeps serving: the affected tab says what is wrong and the command that
fixes it, the other tabs answer, and a crash inside one request touches no other.
"""
import json
import shutil
import time
import types
from contextlib import contextmanager
from dataclasses import replace

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError

from rnn_demo.checkpoints import WEIGHTS_FILE, CheckpointError
from rnn_demo.config import LIMITS
from rnn_demo.serving import Engine, GenerationRequest
from rnn_demo.tokenizer import sha256_file
from rnn_demo.ui import handlers, notices, page, tabs
from rnn_demo.ui.tabs import shakespeare

from recording_engine import RecordingEngine

GENERATE = dict(prompt="ROMEO:\n", model="shakespeare-gru", max_tokens=12, temperature=0.0, top_k=0, top_p=1.0,
                repetition_penalty=1.0, seed=0)
CHAT = dict(persona="modern", decoding="greedy", beam_width=4, length_penalty=0.6, temperature=0.8, top_k=0,
            top_p=1.0, seed=0)
FILL = ("Paris is the capital of ___.", 3)
WAIT_S = 30  # the most any condition below may take; far above what it needs
LONG_STREAM = 1_000  # tokens asked for by streams that the tests stop early


def wait_for(condition, timeout_s: float = WAIT_S) -> None:
    """Polls `condition` until it holds; fails the test if it never does."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def queue_size(demo) -> int:
    """Requests waiting in the app's queue (not those running), from its public status route."""
    return httpx.get(demo.local_url + "gradio_api/queue/status", timeout=WAIT_S).json()["queue_size"]


def generate(client, **overrides):
    return client.predict(**{**GENERATE, **overrides}, api_name="/generate")


def chat(client):
    return client.predict("Hello", [], **CHAT, api_name="/chat")


def fill(client):
    return client.predict(*FILL, api_name="/fill")


@contextmanager
def serving(serve_app, assets):
    """Serves a plain `Engine` of `assets` in-process; yields the engine and a client of the app."""
    engine = Engine(assets)
    with serve_app(engine) as demo:
        yield engine, Client(demo.local_url, verbose=False)


# --- damaged assets -------------------------------------------------------------------------


def _rewrite_config(directory, change) -> None:
    path = directory / "config.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def _truncate(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _truncate_keeping_hash(directory) -> None:
    """A truncated weights file whose sha256 in config.json was updated too: only the safetensors reader can tell."""
    _truncate(directory / WEIGHTS_FILE)
    _rewrite_config(directory, lambda meta: meta["files"].update({WEIGHTS_FILE: sha256_file(directory / WEIGHTS_FILE)}))


# name: (how the `blank` checkpoint is damaged, what the fill tab then says)
BLANK_DAMAGES = {
    "missing checkpoint": (shutil.rmtree, r"checkpoint 'blank' is missing"),
    "missing weights": (lambda d: (d / WEIGHTS_FILE).unlink(), "lacks model.safetensors"),
    "truncated weights": (lambda d: _truncate(d / WEIGHTS_FILE), "is corrupted: model.safetensors does not match"),
    "truncated weights, hash updated": (_truncate_keeping_hash, "weights are unreadable"),
    "wrong sha256": (lambda d: _rewrite_config(d, lambda m: m["files"].update({WEIGHTS_FILE: "0" * 64})),
                     "is corrupted"),
    "config.json not JSON": (lambda d: (d / "config.json").write_bytes(b"\x00garbage{"), "is not valid JSON"),
    "config.json of something else": (lambda d: (d / "config.json").write_text('["not", "a", "checkpoint"]'),
                                      "is not a checkpoint description"),
    "config.json with a bad setting": (lambda d: _rewrite_config(d, lambda m: m["model"].update(units="many")),
                                       "describes no buildable model"),
    "config.json of another family": (lambda d: _rewrite_config(d, lambda m: m.update(family="language_model")),
                                      "holds a 'language_model' model, not a gap_words model"),
}
FIX_BLANK = "python -m rnn_demo train blank"


@pytest.mark.parametrize("damage", BLANK_DAMAGES)
def test_a_damaged_checkpoint_is_explained_on_its_tab_and_the_other_tabs_work(assets_copy, serve_app, damage):
    corrupt, expected = BLANK_DAMAGES[damage]
    corrupt(assets_copy / "blank")
    with serving(serve_app, assets_copy) as (engine, client):
        with pytest.raises(AppError, match=expected) as refused:
            fill(client)
        assert FIX_BLANK in str(refused.value)
        assert generate(client)[0].startswith("ROMEO:\n")
        assert chat(client)[0][-1]["role"] == "assistant"
    told = notices.tab_notices(engine)
    assert FIX_BLANK in told["fill"] and not told["shakespeare"] and not told["chatbot"]


def test_a_repaired_checkpoint_works_without_a_restart(assets_copy, quick_assets, serve_app):
    _truncate(assets_copy / "blank" / WEIGHTS_FILE)
    with serving(serve_app, assets_copy) as (engine, client):
        with pytest.raises(AppError, match="corrupted"):
            fill(client)
        shutil.copy(quick_assets / "blank" / WEIGHTS_FILE, assets_copy / "blank" / WEIGHTS_FILE)
        assert fill(client)[0]["confidences"]
    assert notices.tab_notices(engine)["fill"] == ""


def test_a_damaged_language_model_leaves_the_other_one_working(assets_copy, serve_app):
    _truncate(assets_copy / "shakespeare-lstm" / WEIGHTS_FILE)
    with serving(serve_app, assets_copy) as (engine, client):
        with pytest.raises(AppError, match="shakespeare-lstm.*python -m rnn_demo train shakespeare"):
            generate(client, model="shakespeare-lstm")
        assert generate(client, model="shakespeare-gru")[0].startswith("ROMEO:\n")
    assert "shakespeare-lstm" in notices.tab_notices(engine)["shakespeare"]


# name: (how the shared tokenizer is damaged, what every tab then says)
TOKENIZER_DAMAGES = {
    "missing tokenizer": (lambda path: path.unlink(), "tokenizer file .* is missing"),
    "truncated tokenizer": (_truncate, "tokenizer file tokenizer.model is unreadable"),
}


@pytest.mark.parametrize("damage", TOKENIZER_DAMAGES)
def test_a_damaged_tokenizer_is_explained_and_the_server_keeps_serving(assets_copy, serve_app, damage):
    corrupt, expected = TOKENIZER_DAMAGES[damage]
    corrupt(assets_copy / "tokenizer.model")
    with serving(serve_app, assets_copy) as (engine, client):
        for call in (generate, chat, fill):
            with pytest.raises(AppError, match=expected) as refused:
                call(client)
            assert "python -m rnn_demo train tokenizer" in str(refused.value)
    shown = notices.tab_notices(engine)
    # Each tab whose models load at start says so; the Learn tab's load lazily and answer in its own handlers.
    assert {tab for tab, notice in shown.items() if notice} == {"shakespeare", "chatbot", "fill"}
    assert all("python -m rnn_demo train tokenizer" in notice for notice in shown.values() if notice)


def test_a_tab_without_models_has_no_notice_and_the_others_keep_theirs(assets_copy, monkeypatch):
    shutil.rmtree(assets_copy / "blank")
    poster = types.ModuleType("poster")  # a tab of its own, serving no registry model
    poster.TAB_ID, poster.LABEL, poster.POSITION = "poster", "learn.tab", 0
    poster.build = lambda engine: gr.Markdown("The four shapes of an RNN.")
    real_tabs = tabs.modules
    monkeypatch.setattr(tabs, "modules", lambda: [poster, *real_tabs()])
    engine = Engine(assets_copy)
    demo = page.build_demo(engine)
    assert "poster" not in notices.tab_notices(engine) and notices.box(engine, "poster") is None
    refresh = next(fn.fn for fn in demo.fns.values()  # the page's own load event (the Learn tab has one too)
                   if any(event == "load" for _, event in fn.targets) and fn.fn.__name__ == "refresh")
    shown = {component.elem_id: update for component, update in refresh(None).items()}
    assert set(shown) == {"status", "shakespeare-notice", "chatbot-notice", "fill-notice", "learn-notice"}
    assert not shown["learn-notice"].visible  # its models load lazily: nothing to say at start
    assert shown["fill-notice"].visible and FIX_BLANK in shown["fill-notice"].value
    assert not shown["shakespeare-notice"].visible and not shown["chatbot-notice"].visible


def test_a_garbled_config_never_reaches_the_user_as_a_python_error(assets_copy):
    (assets_copy / "chatbot" / "config.json").write_text('{"family": "seq2seq", "model": [], "files": {}}')
    with pytest.raises(CheckpointError, match="not a checkpoint description .*model.*python -m rnn_demo train chatbot"):
        Engine(assets_copy).model("chatbot")


# --- crashes, clients that leave, a full queue ------------------------------------------------


@pytest.fixture(scope="module")
def instrumented(quick_assets):
    return RecordingEngine(quick_assets)


@pytest.fixture(scope="module")
def instrumented_client(instrumented, serve_app):
    with serve_app(instrumented) as demo:
        yield Client(demo.local_url, verbose=False)


@pytest.fixture(autouse=True)
def _reset(request):
    """Puts the shared instrumented engine back in its normal state after each test that used it."""
    yield
    if "instrumented" in request.fixturenames:
        engine = request.getfixturevalue("instrumented")
        engine.gate.set()
        engine.chunk_delay_s, engine.fail_seed = 0.0, None


def test_an_unexpected_exception_reaches_the_user_as_a_generic_message(instrumented, instrumented_client,
                                                                      monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail: /srv/models/blank.h5 failed at 0x7f3a")

    monkeypatch.setattr(instrumented, "fill", broken)
    with pytest.raises(AppError) as refused:
        fill(instrumented_client)
    assert str(refused.value) == handlers.INTERNAL_ERROR and "secret" not in str(refused.value)
    logged = [record for record in caplog.records if record.exc_info and "secret" in str(record.exc_info[1])]
    assert logged and logged[0].name.startswith("rnn_demo.ui")  # the traceback goes to the log, not to the user
    monkeypatch.undo()
    assert fill(instrumented_client)[0]["confidences"]
    assert generate(instrumented_client)[0].startswith("ROMEO:\n")


def test_a_crash_inside_one_stream_leaves_another_stream_and_the_server_untouched(instrumented,
                                                                                  instrumented_client):
    instrumented.gate.clear()  # hold both streams before their first token, so that they run side by side
    instrumented.fail_seed = 1
    started = instrumented.started
    healthy = instrumented_client.submit(**{**GENERATE, "max_tokens": 40}, api_name="/generate")
    broken = instrumented_client.submit(**{**GENERATE, "max_tokens": 40, "seed": 1}, api_name="/generate")
    wait_for(lambda: instrumented.started == started + 2)
    instrumented.gate.set()
    with pytest.raises(AppError) as crashed:
        broken.result(timeout=WAIT_S)
    assert str(crashed.value) == handlers.INTERNAL_ERROR
    text, _ = healthy.result(timeout=WAIT_S)
    assert text.startswith("ROMEO:\n") and len(text) > len("ROMEO:\n")
    assert generate(instrumented_client)[0].startswith("ROMEO:\n")


def test_a_client_that_cancels_stops_its_generation_within_one_chunk(instrumented, instrumented_client,
                                                                     monkeypatch):
    monkeypatch.setattr(shakespeare, "STREAM_INTERVAL_S", 0.0)  # every engine chunk is sent: one per token
    instrumented.chunk_delay_s = 0.005  # LONG_STREAM tokens would take ≥ 5 s
    started = instrumented.started
    job = instrumented_client.submit(**{**GENERATE, "max_tokens": LONG_STREAM, "temperature": 1.0},
                                     api_name="/generate")
    wait_for(lambda: instrumented.started > started and instrumented.chunks >= 5)
    job.cancel()  # returns when the server has handled the cancel
    # Gradio finishes the chunk in progress, then closes the handler, which closes the engine's stream.
    assert instrumented.ended.is_set() and instrumented.how == "closed"
    assert instrumented.chunks < LONG_STREAM
    assert generate(instrumented_client)[0].startswith("ROMEO:\n")


def test_a_full_queue_refuses_new_work_at_once_with_a_clear_message(quick_assets, serve_app):
    engine = RecordingEngine(quick_assets)
    engine.gate.clear()  # every stream waits before its first token until the test opens the gate
    with serve_app(engine, queue_size=1, streams=page.CONCURRENCY) as demo:
        # One visitor per slot (a visitor's own requests leave a slot free for others: ui/fairness.py).
        holders = [Client(demo.local_url, verbose=False) for _ in range(page.CONCURRENCY)]
        client = Client(demo.local_url, verbose=False)
        running = []
        for count, holder in enumerate(holders, 1):  # one by one: a request waits in the queue until it runs
            running.append(holder.submit(**GENERATE, api_name="/generate"))
            wait_for(lambda count=count: engine.started == count)
        waiting = client.submit(**GENERATE, api_name="/generate")
        wait_for(lambda: queue_size(demo) == 1)  # the one place in the queue is taken
        with pytest.raises(QueueError, match="Queue is full"):
            client.submit(**GENERATE, api_name="/generate").result(timeout=WAIT_S)
        assert engine.started == page.CONCURRENCY  # refused while the others were still held
        engine.gate.set()
        for job in [*running, waiting]:
            assert job.result(timeout=WAIT_S)[0].startswith("ROMEO:\n")
        assert generate(client)[0].startswith("ROMEO:\n")


# --- the clock --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hasty(quick_assets):
    """An engine whose every generation is already past its deadline."""
    return Engine(quick_assets, limits=replace(LIMITS, deadline_s=0.0))


def test_generation_stops_at_its_deadline_and_says_so(hasty):
    result = hasty.generate(GenerationRequest(prompt="ROMEO:\n", max_tokens=LONG_STREAM))
    assert result.stop_reason == "deadline" and result.tokens == 0
    with pytest.warns(UserWarning, match=r"Stopped at the time limit \(0 s\) after 0 tokens"):
        list(shakespeare.make_generate(hasty)(*GENERATE.values()))


@pytest.mark.parametrize("decoding", ["beam", "greedy"])
def test_a_chat_reply_cut_by_the_deadline_says_so(hasty, decoding):
    from rnn_demo.serving import ChatRequest

    *_, reply = hasty.chat(ChatRequest("Hello", decoding=decoding))
    assert reply.text == "" and reply.notes[0] == "The reply was cut at the time limit (0 s), after 0 tokens."
