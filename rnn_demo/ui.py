"""The Gradio page: a Shakespeare tab that streams text from the GRU or LSTM language model."""
from __future__ import annotations

import logging
import time

import gradio as gr

from .checkpoints import CheckpointError
from .config import LIMITS, InputError
from .engines import Engine, GenerationRequest

log = logging.getLogger(__name__)

STREAM_INTERVAL_S = 0.05  # at most ~20 screen updates a second, however fast tokens come
QUEUE_SIZE = 32
CONCURRENCY = 2  # two CPU cores
MAX_UPLOAD = "1mb"
MODEL_CHOICES = [("GRU", "shakespeare-gru"), ("LSTM", "shakespeare-lstm")]
EXAMPLES = [
    ["ROMEO:\n"],
    ["JULIET:\nO Romeo, Romeo!"],
    ["KING HENRY V:\nOnce more unto the breach,"],
    ["HAMLET:\nTo be, or not to be:"],
    ["First Citizen:\nBefore we proceed any further, hear me speak."],
]
INTRO = """# RNN Playground
Recurrent neural networks writing text on a CPU. Type the start of a scene — a speaker's
name in capitals, a colon, a new line — and watch a 2-layer GRU or LSTM language model
continue it one sub-word token at a time. Temperature 0 always picks the likeliest token;
higher values take more risks. The same seed and settings give the same text."""


def _user_error(error: Exception) -> gr.Error:
    return gr.Error(str(error), print_exception=False)


def make_generate(engine: Engine):
    """The `/generate` handler: validates, then streams (text, next-token probabilities)."""

    def generate(prompt: str, model: str, max_tokens: float, temperature: float, top_k: float,
                 top_p: float, repetition_penalty: float, seed: float):
        request = GenerationRequest(prompt=prompt, model=model, max_tokens=max_tokens,
                                    temperature=temperature, top_k=top_k, top_p=top_p,
                                    repetition_penalty=repetition_penalty, seed=seed)
        try:
            request = engine.validate_generation(request)
            engine.language_model(request.model)
        except (InputError, CheckpointError, FileNotFoundError) as error:
            raise _user_error(error) from None
        last_shown, chunk = 0.0, None
        for chunk in engine.stream(request):
            now = time.monotonic()
            if now - last_shown >= STREAM_INTERVAL_S:
                last_shown = now
                yield chunk.text, engine.top_probabilities(chunk.logits)
        if chunk is not None:
            yield chunk.text, engine.top_probabilities(chunk.logits)

    return generate


def _shakespeare_tab(engine: Engine) -> None:
    with gr.Tab("Shakespeare", id="shakespeare"):
        with gr.Row():
            with gr.Column(scale=3):
                prompt = gr.Textbox(label="Prompt", value="ROMEO:\n", lines=4,
                                    max_length=LIMITS.max_prompt_chars, elem_id="prompt")
                with gr.Row():
                    go = gr.Button("Generate", variant="primary", elem_id="generate")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop")
                output = gr.Textbox(label="Text", lines=16, interactive=False, elem_id="output",
                                    buttons=["copy"])
            with gr.Column(scale=2):
                model = gr.Radio(MODEL_CHOICES, value="shakespeare-gru", label="Model", elem_id="model")
                max_tokens = gr.Slider(1, LIMITS.max_new_tokens, value=LIMITS.default_new_tokens, step=1,
                                       label="Max tokens")
                temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="Temperature (0 = greedy)")
                top_k = gr.Slider(0, 200, value=0, step=1, label="Top-k (0 = off)")
                top_p = gr.Slider(LIMITS.min_top_p, 1, value=1.0, step=0.01, label="Top-p (1 = off)")
                penalty = gr.Slider(1, 2, value=1.0, step=0.05, label="Repetition penalty (1 = off)")
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=LIMITS.max_seed, label="Seed")
                probabilities = gr.Label(label="Next-token probabilities (last step)", num_top_classes=5,
                                         elem_id="probabilities")
        gr.Examples(EXAMPLES, inputs=[prompt])
        inputs = [prompt, model, max_tokens, temperature, top_k, top_p, penalty, seed]
        event = go.click(make_generate(engine), inputs, [output, probabilities], api_name="generate",
                         concurrency_id="cpu")
        stop.click(None, None, None, cancels=[event], api_name=False)


def build_demo(engine: Engine) -> gr.Blocks:
    """The whole page. Call `configure_queue` on it before launching."""
    with gr.Blocks(title="RNN Playground") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            _shakespeare_tab(engine)
    return configure_queue(demo)


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """A bounded queue in front of every event, REST callers included; two jobs at a time."""
    return demo.queue(max_size=QUEUE_SIZE, api_open=False, default_concurrency_limit=CONCURRENCY)


def launch_options() -> dict:
    """Safe serving defaults shared by app.py and the tests."""
    return dict(max_file_size=MAX_UPLOAD, enable_monitoring=False, show_error=False,
                footer_links=["api"], theme=gr.themes.Soft())
