"""The Lab tab: the decoding lab (one prompt, five decodings side by side, `/lab`) and the surprise view (`/surprise`)."""
from __future__ import annotations

import html

import gradio as gr

from ...serving import Engine
from ...serving.inspection import (MAX_LAB_TOKENS, MAX_SURPRISE_CHARS, LabRequest, LabResult, LabRow, Surprise,
                                   SurpriseRequest, segments)
from .. import controls, glass, language
from ..handlers import RAW_VALUES, guarded, shown_to_user
from ..text import say, t
from .shakespeare import MODEL_CHOICES

TAB_ID = "lab"
LABEL = "lab.tab"
POSITION = 4

PROMPT = "JULIET:\nO Romeo, Romeo!"
SURPRISE_TEXT = "HAMLET:\nTo be, or not to be, that is the question."


def make_lab(engine: Engine):
    """The `/lab` handler: (prompt, model, tokens, temperature, top-k, top-p, beam width, seed) → (HTML, data).

    The data is one row per decoding: method, settings, text (prompt + continuation, as `/generate` writes
    it), tokens, log_prob (natural log, under the model) and repeated_3gram_rate.
    """

    def lab(prompt: str, model: str, max_tokens: float, temperature: float, top_k: float, top_p: float,
            beam_width: float, seed: float, request: gr.Request):
        visitor = language.of(request)
        lab_request = LabRequest(prompt=prompt, model=model, max_tokens=max_tokens, temperature=temperature,
                                 top_k=top_k, top_p=top_p, beam_width=beam_width, seed=seed)
        with shown_to_user(visitor):
            result = engine.lab(lab_request)
        return lab_html(engine, result, visitor), [_row_data(row, result.request) for row in result.rows]

    return guarded(lab)


def _settings(row: LabRow, request: LabRequest, visitor: str) -> str:
    """The row's method and the settings it ran with, in words."""
    return say(f"lab.method.{row.method}", visitor, temperature=f"{request.temperature:g}", top_k=request.top_k,
               top_p=f"{request.top_p:g}", beam_width=request.beam_width)


def _row_data(row: LabRow, request: LabRequest) -> dict:
    return {"method": row.method, "settings": _settings(row, request, language.ENGLISH), "text": row.text,
            "tokens": len(row.steps), "log_prob": round(row.log_prob, 4),
            "repeated_3gram_rate": round(row.repeated_ngram_rate, 4)}


def lab_html(engine: Engine, result: LabResult, visitor: str) -> str:
    """The five decodings as cards side by side (stacked on a phone), each text coloured by probability."""
    tokenizer, request = engine.tokenizer, result.request
    cards = []
    for row in result.rows:
        spans = glass.probability_spans(tokenizer, segments(tokenizer, row.steps), visitor)
        stats = say("lab.stats", visitor, log_prob=f"{row.log_prob:.2f}", tokens=len(row.steps),
                    repeated=f"{row.repeated_ngram_rate:.0%}")
        cards.append(f'<div class="glass-card" data-method="{row.method}">'
                     f'<h4>{html.escape(_settings(row, request, visitor))}</h4>'
                     f'<div class="glass-stats">{html.escape(stats)}</div>'
                     f'<div class="glass"><span class="glass-prompt">{glass.shown_text(request.prompt, visitor)}'
                     f'</span>{"".join(spans)}</div></div>')
    return glass.legend(visitor, "glass.likely", "glass.unlikely") + f'<div class="glass-grid">{"".join(cards)}</div>'


def make_surprise(engine: Engine):
    """The `/surprise` handler: (text, model) → (HTML, data).

    The data: bits_per_char of the model and of the trigram baseline (null without the plays), chars,
    tokens, and each piece's text, model_bits and baseline_bits.
    """

    def surprise(text: str, model: str, request: gr.Request):
        visitor = language.of(request)
        with shown_to_user(visitor):
            found = engine.surprise(SurpriseRequest(text=text, model=model))
        return surprise_html(engine, found, model, visitor), _surprise_data(found)

    return guarded(surprise)


def _surprise_data(found: Surprise) -> dict:
    baseline = found.baseline_bits or [None] * len(found.segments)
    return {"bits_per_char": round(found.bits_per_char, 4),
            "baseline_bits_per_char": (None if found.baseline_bits is None else round(found.baseline_bits_per_char, 4)),
            "chars": found.chars, "tokens": sum(len(segment.steps) for segment in found.segments),
            "pieces": [{"text": segment.text, "model_bits": round(segment.bits, 3),
                        "baseline_bits": None if bits is None else round(bits, 3)}
                       for segment, bits in zip(found.segments, baseline)]}


def surprise_html(engine: Engine, found: Surprise, model: str, visitor: str) -> str:
    """The text twice, coloured by the RNN's bits and by the baseline's, each under its bits/char."""
    tokenizer = engine.tokenizer
    baseline = found.baseline_bits or [None] * len(found.segments)
    notes = [glass.probability_note(tokenizer, segment, visitor) for segment in found.segments]
    both = [say("glass.note_surprise", visitor, model=f"{segment.bits:.2f}",
                baseline="–" if bits is None else f"{bits:.2f}") for segment, bits in zip(found.segments, baseline)]
    model_spans = [glass.piece_span(segment.text, glass.bits_heat(segment.bits), f"{pair}\n{note}", visitor)
                   for segment, pair, note in zip(found.segments, both, notes)]
    parts = [glass.legend(visitor, "glass.few_bits", "glass.many_bits"),
             _titled(say("surprise.model_title", visitor, model=model, bits_per_char=f"{found.bits_per_char:.3f}"),
                     model_spans)]
    if found.baseline_bits is None:
        parts.append(f"<p>{html.escape(say('surprise.no_baseline', visitor))}</p>")
    else:
        baseline_spans = [glass.piece_span(segment.text, glass.bits_heat(bits), pair, visitor)
                          for segment, bits, pair in zip(found.segments, baseline, both)]
        parts.append(_titled(say("surprise.baseline_title", visitor,
                                 bits_per_char=f"{found.baseline_bits_per_char:.3f}"), baseline_spans))
    return "".join(parts)


def _titled(title: str, spans: list[str]) -> str:
    return f'<div class="glass-card"><h4>{html.escape(title)}</h4><div class="glass">{"".join(spans)}</div></div>'


def build(engine: Engine) -> None:
    """The tab's content: the decoding lab, then the surprise view."""
    _build_lab(engine)
    _build_surprise(engine)


def _build_lab(engine: Engine) -> None:
    defaults = LabRequest
    gr.Markdown(t("lab.heading"))
    gr.Markdown(t("lab.help"))
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label=t("lab.prompt"), value=PROMPT, lines=3, max_length=engine.limits.max_prompt_chars,
                                elem_id="lab-prompt")
            run = gr.Button(t("lab.run"), variant="primary", elem_id="lab-run")
        with gr.Column(scale=2):
            settings = [
                gr.Radio(MODEL_CHOICES, value=defaults.model, label=t("shakespeare.model")),
                gr.Slider(1, MAX_LAB_TOKENS, value=defaults.max_tokens, step=1, label=t("lab.max_tokens")),
                gr.Slider(engine.limits.min_temperature, controls.MAX_TEMPERATURE, value=defaults.temperature,
                          step=controls.TEMPERATURE_STEP, label=t("lab.temperature")),
                controls.top_k(defaults.top_k, label=t("lab.top_k")),
                controls.top_p(defaults.top_p, label=t("lab.top_p")),
                gr.Slider(1, engine.limits.max_beam_width, value=defaults.beam_width, step=1, label=t("lab.beam_width")),
                controls.seed(defaults.seed),
            ]
    result = gr.HTML(t("lab.empty"), css_template=glass.CSS,
                     elem_id="lab-result")
    with gr.Accordion(t("lab.data"), open=False):
        data = gr.JSON(elem_id="lab-data")
    run.click(make_lab(engine), [prompt, *settings], [result, data], api_name="lab", concurrency_id="cpu",
              **RAW_VALUES)


def _build_surprise(engine: Engine) -> None:
    gr.Markdown(t("surprise.heading"))
    gr.Markdown(t("surprise.help"))
    with gr.Row():
        text = gr.Textbox(label=t("surprise.text"), value=SURPRISE_TEXT, lines=4, max_length=MAX_SURPRISE_CHARS,
                          scale=3, elem_id="surprise-text")
        with gr.Column(scale=2):
            model = gr.Radio(MODEL_CHOICES, value=SurpriseRequest.model, label=t("shakespeare.model"))
            run = gr.Button(t("surprise.run"), variant="primary", elem_id="surprise-run")
    result = gr.HTML(t("surprise.empty"), css_template=glass.CSS,
                     elem_id="surprise-result")
    with gr.Accordion(t("lab.data"), open=False):
        data = gr.JSON(elem_id="surprise-data")
    run.click(make_surprise(engine), [text, model], [result, data], api_name="surprise", concurrency_id="cpu",
              **RAW_VALUES)
