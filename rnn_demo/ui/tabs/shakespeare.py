"""The Shakespeare tab: a GRU or LSTM language model continues a scene, streamed token by token (`/generate`)."""
from __future__ import annotations

import time
from contextlib import closing
from typing import Iterator

import gradio as gr

from ...config import LIMITS
from ...decoding import StopReason
from ...models import registry
from ...serving import Engine, GenerationRequest
from .. import controls, glass
from ..handlers import RAW_VALUES, guarded, shown_to_user
from ..language import of as language_of
from ..text import ENGLISH, say, t, token_label

TAB_ID = "shakespeare"
LABEL = "shakespeare.tab"
POSITION = 1

STREAM_INTERVAL_S = 0.05  # at most ~20 screen updates a second, however fast tokens come
MAX_REPETITION_PENALTY = 2  # the page's range; API callers may go up to LIMITS.max_repetition_penalty
REPETITION_PENALTY_STEP = 0.05
PROMPT = "ROMEO:\n"
MODEL_CHOICES = [(t(f"model.{name}"), name) for name in registry.names(tab=TAB_ID)]
# "Watch it write": tokens a second the page shows (0: as they come). The server computes at full speed
# either way; only the page's replay is paced, and the /generate API never is.
PACES = (0, 5, 20, 60)
PACE_CHOICES = [(t(f"shakespeare.pace_{pace or 'off'}"), pace) for pace in PACES]
MID_WORD_SIGN = "…"
EXAMPLES = [
    [PROMPT],
    ["JULIET:\nO Romeo, Romeo!"],
    ["KING HENRY V:\nOnce more unto the breach,"],
    ["HAMLET:\nTo be, or not to be:"],
    ["First Citizen:\nBefore we proceed any further, hear me speak."],
]



def make_generate(engine: Engine):
    """The `/generate` handler: checks the request, then streams (text, next-token probabilities).

    Args:
        engine: the engine that generates.

    Returns:
        A generator function of the tab's inputs, guarded by `handlers.guarded`.
    """

    def generate(prompt: str, model: str, max_tokens: float, temperature: float, top_k: float,
                 top_p: float, repetition_penalty: float, seed: float, request: gr.Request | None = None):
        """Continues a text in the style of Shakespeare's plays with a small recurrent language model
        (GRU or LSTM, trained on 36 plays), streamed as it is written. Write the prompt as a play script,
        e.g. "ROMEO:\nBut soft, what light" — the model knows no facts and writes invented verse.

        Args:
            prompt: the text to continue (1 to 2,000 characters); "NAME:" on a line of its own starts a speech.
            model: "shakespeare-gru" or "shakespeare-lstm".
            max_tokens: how many tokens to write (1 to 1,000; a token is about 3 characters).
            temperature: 0 for the most likely token each time (greedy); 0.7-1.0 for varied text (at most 5).
            top_k: sample only among the k most likely tokens (0 = no limit).
            top_p: sample only among the most likely tokens whose probabilities add up to p (1 = no limit).
            repetition_penalty: 1 = none; up to 3, divides the scores of tokens already written.
            seed: the random seed (0 to 4294967295); the same seed and settings give the same text.

        Returns:
            The prompt followed by the text written, and the next token's most likely candidates.
        """
        last_shown, last = 0.0, None
        for last in _steps(engine, _request(prompt, model, max_tokens, temperature, top_k, top_p,
                                           repetition_penalty, seed), language_of(request)):
            now = time.monotonic()
            if now - last_shown >= STREAM_INTERVAL_S:
                last_shown = now
                yield _shown(engine, last, request)
        if last is not None:
            yield _shown(engine, last, request)

    return guarded(generate)


def make_page_generate(engine: Engine):
    """The page's Generate: `/generate`'s stream, or at a pace of its own (then every step is computed at
    once, and `replay` shows them), and a note when the text ends mid-word at the token limit.

    Returns:
        A generator function of the tab's inputs and the pace → (text, probabilities, note, steps to replay).
    """

    def page_generate(prompt: str, model: str, max_tokens: float, temperature: float, top_k: float,
                      top_p: float, repetition_penalty: float, seed: float, pace: float,
                      request: gr.Request | None = None):
        checked = _request(prompt, model, max_tokens, temperature, top_k, top_p, repetition_penalty, seed)
        view = glass.StreamView(engine.tokenizer, language_of(request))  # the text so far, coloured
        steps = view.watching(_steps(engine, checked, language_of(request)))
        if pace:  # (text length, probabilities) after each token, replayed by `replay`
            shown = [(*_shown(engine, chunk, request), chunk.tokens, len(view.spans)) for chunk in steps]
            if shown:
                yield gr.skip(), gr.skip(), "", {"text": shown[-1][0], "steps": [[len(text), p] for text, p, _, _ in shown],
                                                 "tokens": shown[-1][2], "max_tokens": checked.max_tokens,
                                                 "glass": view.spans, "glass_counts": [count for *_, count in shown]}, \
                    glass.empty(language_of(request))
            return
        last_shown, last = 0.0, None
        for last in steps:
            if time.monotonic() - last_shown >= STREAM_INTERVAL_S:
                last_shown = time.monotonic()
                yield *_shown(engine, last, request), "", None, view.html()
        if last is not None:
            yield *_ended(_shown(engine, last, request), last.tokens, checked.max_tokens, request), None, view.html()

    return guarded(page_generate)


def replay(steps: dict | None, pace: float, request: gr.Request | None = None):
    """Shows computed steps at `pace` tokens a second (nothing to do without steps: the stream showed them)."""
    if not steps:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    language = language_of(request)
    if not _replayable(steps, pace):
        raise gr.Error(say("shakespeare.nothing_to_replay", language))
    text, start = steps["text"], time.monotonic()
    for index, ((length, probabilities), count) in enumerate(zip(steps["steps"], steps["glass_counts"])):
        time.sleep(max(0.0, start + index / pace - time.monotonic()))
        yield text[:length], probabilities, "", glass.probability_text(steps["glass"][:count], language)
    yield (*_ended((text, steps["steps"][-1][1]), steps["tokens"], steps["max_tokens"], request),
           glass.probability_text(steps["glass"], language))


def _replayable(steps, pace) -> bool:
    """Whether `steps` and `pace` are what the page's Generate sends. Replay is a private event, but a
    script can still call it by number (see web_limits): at most one step per token a request may ask
    for, at a pace the page offers, so a replay ends within max_new_tokens / slowest pace seconds."""
    if pace not in PACES[1:] or not isinstance(steps, dict) or not isinstance(steps.get("text"), str):
        return False
    parts = [steps.get(key) for key in ("steps", "glass_counts", "glass")]
    return (all(isinstance(part, list) for part in parts)
            and 0 < len(parts[0]) == len(parts[1]) <= LIMITS.max_new_tokens
            and len(parts[2]) <= LIMITS.max_new_tokens
            and len(steps["text"]) <= LIMITS.max_prompt_chars + 64 * LIMITS.max_new_tokens)


def _request(prompt, model, max_tokens, temperature, top_k, top_p, repetition_penalty, seed) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, model=model, max_tokens=max_tokens, temperature=temperature,
                             top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty, seed=seed)


def _steps(engine: Engine, request: GenerationRequest, language: str = ENGLISH) -> Iterator:
    """Every chunk of the stream of `request` (after checking it: bad input is a pop-up in `language`);
    a warning when it stops at the time limit."""
    with shown_to_user(language):
        request = engine.check(request)
        engine.language_model(request.model)
    chunk, stop = None, StopReason()
    # closing: when Gradio closes this generator (the client cancelled or left), the engine's
    # stream is closed at once, between two tokens, instead of whenever it is garbage-collected.
    with closing(engine.stream(request, stop=stop)) as chunks:
        for chunk in chunks:
            yield chunk
    if stop.reason == "deadline":
        gr.Warning(say("shakespeare.deadline", language, seconds=f"{engine.limits.deadline_s:g}",
                       tokens=chunk.tokens if chunk else 0))


def _shown(engine: Engine, chunk, request: gr.Request | None) -> tuple[str, dict[str, float]]:
    """A chunk as the page shows it: its text, and the next-token probabilities with readable token labels."""
    language = language_of(request)
    return chunk.text, {token_label(piece, language): p for piece, p in engine.top_probabilities(chunk.logits).items()}


def _ended(shown: tuple[str, dict], tokens: int, max_tokens: int, request: gr.Request | None) -> tuple:
    """The last (text, probabilities, note): "…" and a note when the token limit cut a word in two (the text
    ends in a letter and the likeliest next token goes on with the word)."""
    text, probabilities = shown
    best_next = max(probabilities, key=probabilities.get, default="")
    if tokens >= max_tokens and text[-1:].isalpha() and best_next[:1].isalpha():
        return text + MID_WORD_SIGN, probabilities, say("shakespeare.mid_word", language_of(request), tokens=tokens)
    return text, probabilities, ""


def build(engine: Engine) -> None:
    """The tab's content: prompt, Generate, Stop and the pace, the streamed text; settings and probabilities
    beside it (below it on a phone)."""
    gr.Markdown(t("shakespeare.help"))
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label=t("shakespeare.prompt"), value=PROMPT, lines=4,
                                max_length=LIMITS.max_prompt_chars, elem_id="prompt")
            with gr.Row():
                go = gr.Button(t("shakespeare.generate"), variant="primary", elem_id="generate")
                stop = gr.Button(t("shakespeare.stop"), variant="stop", elem_id="stop")
            pace = gr.Radio(PACE_CHOICES, value=PACES[0], label=t("shakespeare.pace"),
                            info=t("shakespeare.pace_info"), elem_id="pace")
            output = gr.Textbox(label=t("shakespeare.output"), lines=16, interactive=False, elem_id="output",
                                buttons=["copy"])
            note = gr.Markdown(elem_id="output-note")
            glass_box = gr.HTML(t("glass.empty"), css_template=glass.CSS, elem_id="glass")
        with gr.Column(scale=2):
            settings = _settings()
            probabilities = gr.Label(label=t("shakespeare.probabilities"), num_top_classes=5,
                                     elem_id="probabilities")
    gr.Examples(EXAMPLES, inputs=[prompt], label=t("page.examples"))
    steps = gr.JSON(visible=False)  # a paced run's computed steps, from the page's Generate to its replay
    # The API: the stream as fast as it is computed. The page's Generate is its private twin, with a pace.
    gr.on([], make_generate(engine), [prompt, *settings], [output, probabilities], api_name="generate",
          concurrency_id="streams", **RAW_VALUES)
    computed = go.click(make_page_generate(engine), [prompt, *settings, pace], [output, probabilities, note, steps, glass_box],
                        api_name=False, concurrency_id="streams", **RAW_VALUES)
    # The replay only waits between steps already computed: no CPU slot, no limit.
    shown = computed.then(replay, [steps, pace], [output, probabilities, note, glass_box], api_name=False,
                          concurrency_limit=None)
    stop.click(None, None, None, cancels=[computed, shown], api_name=False)


def _settings() -> list:
    """Model and sampling controls, starting at `GenerationRequest`'s defaults, in the handler's argument order."""
    defaults = GenerationRequest
    return [
        gr.Radio(MODEL_CHOICES, value=defaults.model, label=t("shakespeare.model"), elem_id="model"),
        gr.Slider(1, LIMITS.max_new_tokens, value=defaults.max_tokens, step=1, label=t("shakespeare.max_tokens")),
        controls.temperature(defaults.temperature, label=t("shakespeare.temperature")),
        controls.top_k(defaults.top_k, label=t("shakespeare.top_k")),
        controls.top_p(defaults.top_p, label=t("shakespeare.top_p")),
        gr.Slider(1, MAX_REPETITION_PENALTY, value=defaults.repetition_penalty, step=REPETITION_PENALTY_STEP,
                  label=t("shakespeare.repetition_penalty")),
        controls.seed(defaults.seed),
    ]
