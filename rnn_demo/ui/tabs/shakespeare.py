"""The Shakespeare tab: a GRU or LSTM language model continues a scene, streamed token by token (`/generate`)."""
from __future__ import annotations

import time
from contextlib import closing

import gradio as gr

from ...config import LIMITS
from ...decoding import StopReason
from ...models import registry
from ...serving import Engine, GenerationRequest
from .. import controls
from ..handlers import RAW_VALUES, guarded, shown_to_user

TAB_ID = "shakespeare"
LABEL = "Shakespeare"
POSITION = 1

STREAM_INTERVAL_S = 0.05  # at most ~20 screen updates a second, however fast tokens come
MAX_REPETITION_PENALTY = 2  # the page's range; API callers may go up to LIMITS.max_repetition_penalty
REPETITION_PENALTY_STEP = 0.05
PROMPT = "ROMEO:\n"
MODEL_CHOICES = [(registry.spec(name).label, name) for name in registry.names(tab=TAB_ID)]
EXAMPLES = [
    [PROMPT],
    ["JULIET:\nO Romeo, Romeo!"],
    ["KING HENRY V:\nOnce more unto the breach,"],
    ["HAMLET:\nTo be, or not to be:"],
    ["First Citizen:\nBefore we proceed any further, hear me speak."],
]
HELP = """Type the start of a scene — a speaker's name, a colon, a new line — and watch a
2-layer language model continue it one sub-word token at a time. Temperature 0 always picks
the likeliest token; higher values take more risks. On the right: what the model thought of
the last token it chose."""


def make_generate(engine: Engine):
    """The `/generate` handler: checks the request, then streams (text, next-token probabilities).

    Args:
        engine: the engine that generates.

    Returns:
        A generator function of the tab's inputs, guarded by `handlers.guarded`.
    """

    def generate(prompt: str, model: str, max_tokens: float, temperature: float, top_k: float,
                 top_p: float, repetition_penalty: float, seed: float):
        request = GenerationRequest(prompt=prompt, model=model, max_tokens=max_tokens,
                                    temperature=temperature, top_k=top_k, top_p=top_p,
                                    repetition_penalty=repetition_penalty, seed=seed)
        with shown_to_user():
            request = engine.check(request)
            engine.language_model(request.model)
        last_shown, chunk, stop = 0.0, None, StopReason()
        # closing: when Gradio closes this generator (the client cancelled or left), the engine's
        # stream is closed at once, between two tokens, instead of whenever it is garbage-collected.
        with closing(engine.stream(request, stop=stop)) as chunks:
            for chunk in chunks:
                now = time.monotonic()
                if now - last_shown >= STREAM_INTERVAL_S:
                    last_shown = now
                    yield chunk.text, engine.top_probabilities(chunk.logits)
        if stop.reason == "deadline":
            gr.Warning(f"Stopped at the time limit ({engine.limits.deadline_s:g} s) after "
                       f"{chunk.tokens if chunk else 0} tokens.")
        if chunk is not None:
            yield chunk.text, engine.top_probabilities(chunk.logits)

    return guarded(generate)


def build(engine: Engine) -> None:
    """The tab's content: prompt, Generate and Stop, the streamed text; settings and probabilities on the right."""
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label="Prompt", value=PROMPT, lines=4, max_length=LIMITS.max_prompt_chars,
                                elem_id="prompt")
            with gr.Row():
                go = gr.Button("Generate", variant="primary", elem_id="generate")
                stop = gr.Button("Stop", variant="stop", elem_id="stop")
            output = gr.Textbox(label="Text", lines=16, interactive=False, elem_id="output", buttons=["copy"])
        with gr.Column(scale=2):
            settings = _settings()
            probabilities = gr.Label(label="Next-token probabilities (last step)", num_top_classes=5,
                                     elem_id="probabilities")
    gr.Examples(EXAMPLES, inputs=[prompt])
    event = go.click(make_generate(engine), [prompt, *settings], [output, probabilities], api_name="generate",
                     concurrency_id="cpu", **RAW_VALUES)
    stop.click(None, None, None, cancels=[event], api_name=False)


def _settings() -> list:
    """Model and sampling controls, starting at `GenerationRequest`'s defaults, in the handler's argument order."""
    defaults = GenerationRequest
    return [
        gr.Radio(MODEL_CHOICES, value=defaults.model, label="Model", elem_id="model"),
        gr.Slider(1, LIMITS.max_new_tokens, value=defaults.max_tokens, step=1, label="Max tokens"),
        controls.temperature(defaults.temperature, label="Temperature (0 = greedy)"),
        controls.top_k(defaults.top_k, label="Top-k (0 = off)"),
        controls.top_p(defaults.top_p, label="Top-p (1 = off)"),
        gr.Slider(1, MAX_REPETITION_PENALTY, value=defaults.repetition_penalty, step=REPETITION_PENALTY_STEP,
                  label="Repetition penalty (1 = off)"),
        controls.seed(defaults.seed),
    ]
